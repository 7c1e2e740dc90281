package net.certmail.protocol;

import java.time.Duration;

/**
 * The protocol's clocks (ARCHITECTURE §1 "Deadline T"). All instants are epoch millis.
 *
 * <p>The cut-offs are staggered so that exactly one verdict is reached before T: Pn stops
 * taking CODs and releasing content at T minus the COD margin; relays and Pn give up no later
 * than that; P1 itself declares non-delivery at T minus the verdict margin (a smaller margin,
 * so a notice from downstream still arrives first); A declares the mail LOST only at T plus grace.
 */
public record Timings(
    Duration retryMin,
    Duration retryMax,
    Duration relayTimeout,
    Duration deliveryTimeout,
    Duration codMargin,
    Duration verdictMargin,
    Duration grace,
    Duration tick) {

  public Timings {
    if (verdictMargin.compareTo(codMargin) >= 0) {
      throw new IllegalArgumentException("the verdict margin must be smaller than the COD margin");
    }
  }

  /** After this instant Pn accepts no COD and releases no content. */
  public long codCutoff(long deadlineMillis) {
    return deadlineMillis - codMargin.toMillis();
  }

  /** P1 issues its own non-delivery notice at this instant if no verdict has arrived; before T. */
  public long verdictCutoff(long deadlineMillis) {
    return deadlineMillis - verdictMargin.toMillis();
  }

  /** A relay gives up on its next hop at this instant. */
  public long relayGiveUp(long acceptedAtMillis, long deadlineMillis) {
    return Math.min(acceptedAtMillis + relayTimeout.toMillis(), codCutoff(deadlineMillis));
  }

  /** Pn gives up on the recipient at this instant. */
  public long deliveryGiveUp(long acceptedAtMillis, long deadlineMillis) {
    return Math.min(acceptedAtMillis + deliveryTimeout.toMillis(), codCutoff(deadlineMillis));
  }

  /** A declares the mail LOST at this instant if it holds a COP but no verdict. */
  public long lostAfter(long deadlineMillis) {
    return deadlineMillis + grace.toMillis();
  }

  /** Capped exponential backoff: retryMin, 2x, 4x, ... up to retryMax. */
  public long backoffMillis(int attempt) {
    long delay = retryMin.toMillis() << Math.min(attempt, 20);
    return Math.min(delay, retryMax.toMillis());
  }
}
