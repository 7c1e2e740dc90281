package net.certmail.protocol;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The protocol's time model. Every instant is epoch millis on the clock of the principal that
 * uses it; clocks of honest principals differ from true time by at most {@code clockSkew}, and
 * an honest message that is not lost arrives within {@code maxTransit}. From these two stated
 * bounds and the retry policy follows the one allowance every margin is built from:
 *
 * <pre>
 *   handshake = retryMax + maxTransit + 2 x clockSkew
 * </pre>
 *
 * the time within which a message that was lost once is resent and arrives, as seen across two
 * clocks. The cut-offs, latest first:
 *
 * <pre>
 *   T - codMargin       Pn's last instant to accept a COD (and every relay's to give up)
 *                       (B is told a deadline two handshakes before Pn gives up; a relay waits
 *                       at least an exchange, 2 x handshake + retry-max, for its ACK)
 *   T - verdictMargin   P1's own NDN if nothing came: before T on every honest clock
 *   T                   nobody signs or accepts a verdict issued after it
 *   T + grace           A, holding a COP without a verdict, asks P1 until then; then LOST
 * </pre>
 *
 * {@link #check()} lists every setting that breaks these relations; nodes refuse to start with
 * one (EngineSettings).
 */
public record Timings(
    Duration clockSkew,
    Duration maxTransit,
    Duration retryMin,
    Duration retryMax,
    Duration relayTimeout,
    Duration deliveryTimeout,
    Duration codMargin,
    Duration verdictMargin,
    Duration grace,
    Duration minRecipientWindow) {

  /** A lost message is resent and arrives within this, across two clocks. */
  public long handshakeMillis() {
    return retryMax.toMillis() + maxTransit.toMillis() + 2 * clockSkew.toMillis();
  }

  /** The smallest verdict margin: P1's own NDN is issued, and first sent, before T on every honest clock. */
  public long minVerdictMarginMillis() {
    return 2 * clockSkew.toMillis() + maxTransit.toMillis();
  }

  /** The smallest COD margin: Pn's report of its last COD reaches P1 before P1's own cut-off, even once lost. */
  public long minCodMarginMillis() {
    return verdictMargin.toMillis() + 2 * handshakeMillis();
  }

  /** The smallest grace: P1's verdict, issued at its cut-off, reaches A even once lost, and A can ask P1 for it. */
  public long minGraceMillis() {
    return 2 * handshakeMillis();
  }

  /**
   * An exchange (a request and its answer) completes within this even when the request and the
   * answer are each lost once: up to three sends of the request, retry-max apart, and the answer.
   */
  public long exchangeMillis() {
    return 2 * handshakeMillis() + retryMax.toMillis();
  }

  /** The smallest lead time a submission may have: the recipient keeps at least minRecipientWindow to decide. */
  public long minLeadTimeMillis() {
    return codMargin.toMillis() + 2 * handshakeMillis() + minRecipientWindow.toMillis();
  }

  /** Every relation the settings break, each as a sentence that says what to change; empty when consistent. */
  public List<String> check() {
    List<String> problems = new ArrayList<>();
    for (Duration positive : List.of(retryMin, retryMax, relayTimeout, deliveryTimeout, minRecipientWindow)) {
      if (positive.isNegative() || positive.isZero()) {
        problems.add("retry, timeout and window settings must be positive");
        break;
      }
    }
    if (clockSkew.isNegative() || maxTransit.isNegative()) {
      problems.add("clock-skew and max-transit must not be negative");
    }
    if (retryMin.compareTo(retryMax) > 0) {
      problems.add("retry-min (" + show(retryMin) + ") must not exceed retry-max (" + show(retryMax) + ")");
    }
    if (verdictMargin.toMillis() < minVerdictMarginMillis()) {
      problems.add("verdict-margin " + show(verdictMargin) + " is shorter than 2 x clock-skew + max-transit = "
          + show(minVerdictMarginMillis()) + ": raise it or lower the skew or transit bound");
    }
    if (codMargin.toMillis() < minCodMarginMillis()) {
      problems.add("cod-margin " + show(codMargin) + " is shorter than verdict-margin + 2 x handshake (retry-max + max-transit"
          + " + 2 x clock-skew) = " + show(minCodMarginMillis()) + ": raise it or lower retry-max");
    }
    if (grace.toMillis() < minGraceMillis()) {
      problems.add("grace " + show(grace) + " is shorter than 2 x handshake = " + show(minGraceMillis())
          + ": raise it or lower retry-max");
    }
    if (relayTimeout.toMillis() < exchangeMillis()) {
      problems.add("relay-timeout " + show(relayTimeout) + " is shorter than a relay and its ACK each lost once"
          + " (2 x handshake + retry-max = " + show(exchangeMillis()) + "): the next hop could take the mail"
          + " while this one gives up on it");
    }
    if (deliveryTimeout.toMillis() < 2 * handshakeMillis() + minRecipientWindow.toMillis()) {
      problems.add("delivery-timeout " + show(deliveryTimeout) + " is shorter than 2 x handshake + min-recipient-window = "
          + show(2 * handshakeMillis() + minRecipientWindow.toMillis()) + ": the recipient would have no time to decide");
    }
    return problems;
  }

  /** Checks the submission policy's lead times against the margins. */
  public List<String> check(SubmissionPolicy policy) {
    List<String> problems = new ArrayList<>(check());
    if (policy.minLeadTime().toMillis() < minLeadTimeMillis()) {
      problems.add("min-lead-time " + show(policy.minLeadTime()) + " is shorter than cod-margin + 2 x handshake"
          + " + min-recipient-window = " + show(minLeadTimeMillis())
          + ": a mail at the minimum deadline would leave its recipient no time to decide");
    }
    return problems;
  }

  /** After this instant Pn accepts no COD; relays and Pn have given up by then. */
  public long codCutoff(long deadlineMillis) {
    return deadlineMillis - codMargin.toMillis();
  }

  /** P1 issues its own non-delivery notice at this instant if no verdict has arrived; before T. */
  public long verdictCutoff(long deadlineMillis) {
    return deadlineMillis - verdictMargin.toMillis();
  }

  /** A relay gives up on its next hop at this instant. */
  public long relayGiveUp(long acceptedAtMillis, long deadlineMillis) {
    return Math.min(saturatedAdd(acceptedAtMillis, relayTimeout.toMillis()), codCutoff(deadlineMillis));
  }

  /** Pn gives up on the recipient at this instant: the last instant it accepts B's COD or refusal. */
  public long deliveryGiveUp(long acceptedAtMillis, long deadlineMillis) {
    return Math.min(saturatedAdd(acceptedAtMillis, deliveryTimeout.toMillis()), codCutoff(deadlineMillis));
  }

  /**
   * The deadline Pn tells B: B's COD signed by then reaches Pn before it gives up, even when B's
   * answer and Pn's next notification are each lost once (Pn resends, B answers again).
   */
  public long recipientDeadline(long acceptedAtMillis, long deadlineMillis) {
    return deliveryGiveUp(acceptedAtMillis, deadlineMillis) - 2 * handshakeMillis();
  }

  /** A declares the mail LOST at this instant if it holds a COP but no verdict. */
  public long lostAfter(long deadlineMillis) {
    return saturatedAdd(deadlineMillis, grace.toMillis());
  }

  /** Reports and verdicts are resent until their receiver confirms or this instant: then nobody needs them. */
  public long reportingEnds(long deadlineMillis) {
    return saturatedAdd(lostAfter(deadlineMillis), handshakeMillis());
  }

  /** Capped exponential backoff: retryMin, 2x, 4x, ... up to retryMax. */
  public long backoffMillis(int attempt) {
    long delay = retryMin.toMillis() << Math.min(attempt, 20);
    return Math.min(delay, retryMax.toMillis());
  }

  /**
   * The first resend instant strictly after {@code now} of a stage entered at {@code since}: the
   * schedule since, since + backoff(0), + backoff(1), ... is a function of the persisted entry
   * instant, so it needs no state of its own and survives a restart.
   */
  public long nextResend(long since, long now) {
    if (now < since) {
      return since;
    }
    long at = since;
    for (int attempt = 0; attempt < 40; attempt++) {
      long step = backoffMillis(attempt);
      at += step;
      if (at > now) {
        return at;
      }
      if (step == retryMax.toMillis()) {
        long periods = (now - at) / step + 1;
        return at + periods * step;
      }
    }
    return now + retryMax.toMillis();
  }

  /** A duration as a configuration file writes it: 88s, 1500ms. */
  public static String show(Duration duration) {
    return show(duration.toMillis());
  }

  static String show(long millis) {
    return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
  }

  static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : sum;
  }
}
