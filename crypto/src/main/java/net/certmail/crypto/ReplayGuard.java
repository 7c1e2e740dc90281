package net.certmail.crypto;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Rejects envelopes sent outside a freshness window and envelope ids seen within it. Memory is
 * bounded by the window: ids older than it are forgotten, and envelopes that old are refused as
 * stale anyway. After a restart the memory is empty; what could then slip through within the
 * window is a message the receiving entity already handles idempotently.
 */
public final class ReplayGuard {
  private final Clock clock;
  private final long windowMillis;
  private final long futureMillis;
  private final Map<String, Long> seen = new ConcurrentHashMap<>();
  private volatile long nextPruneAt;

  /** Envelopes may be as old as the window and as far ahead as the window (clocks trusted only that far). */
  public ReplayGuard(Clock clock, Duration window) {
    this(clock, window, window);
  }

  /**
   * @param window         how old an envelope may be, and how long its id is remembered
   * @param futureTolerance how far ahead of this clock a sender's may run: twice the network's stated clock skew
   */
  public ReplayGuard(Clock clock, Duration window, Duration futureTolerance) {
    this.clock = clock;
    this.windowMillis = window.toMillis();
    this.futureMillis = Math.min(futureTolerance.toMillis(), windowMillis);
  }

  public void admit(String messageId, long sentAtMillis) throws VerificationException {
    long now = clock.millis();
    if (now - sentAtMillis > windowMillis || sentAtMillis - now > futureMillis) {
      throw new VerificationException(VerificationFailure.STALE, "sent at " + sentAtMillis + ", now " + now
          + ": outside -" + windowMillis + " ms .. +" + futureMillis + " ms");
    }
    if (seen.putIfAbsent(messageId, sentAtMillis) != null) {
      throw new VerificationException(VerificationFailure.REPLAYED, "envelope " + messageId + " seen before");
    }
    if (now >= nextPruneAt) {
      nextPruneAt = now + windowMillis;
      seen.values().removeIf(sent -> sent < now - windowMillis);
    }
  }
}
