package net.certmail.crypto;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Scheduler;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Rejects envelopes sent outside a freshness window and envelope ids seen within it. Memory is
 * bounded twice: ids expire once the window has passed (envelopes that old are refused as stale
 * anyway), and at most {@value #MAX_IDS} ids are kept (a flood of well-signed envelopes must not
 * fill the heap; the least recently admitted go first). What could then slip through within the
 * window — after a restart, or past the size bound — is a message the receiving entity already
 * handles idempotently.
 */
public final class ReplayGuard {
  /** Envelope ids remembered at most. */
  public static final int MAX_IDS = 1_000_000;

  private final Clock clock;
  private final long windowMillis;
  private final long futureMillis;
  private final Cache<String, Long> seen;

  /** Envelopes may be as old as the window and as far ahead as the window (clocks trusted only that far). */
  public ReplayGuard(Clock clock, Duration window) {
    this(clock, window, window);
  }

  /**
   * @param window         how old an envelope may be, and how long its id is remembered
   * @param futureTolerance how far ahead of this clock a sender's may run: twice the network's stated clock skew
   */
  public ReplayGuard(Clock clock, Duration window, Duration futureTolerance) {
    this(clock, window, futureTolerance, MAX_IDS);
  }

  ReplayGuard(Clock clock, Duration window, Duration futureTolerance, int maxIds) {
    this.clock = clock;
    this.windowMillis = window.toMillis();
    this.futureMillis = Math.min(futureTolerance.toMillis(), windowMillis);
    // An id lives until its envelope would be stale: the window plus the tolerance it may be dated ahead.
    this.seen = Caffeine.newBuilder()
        .maximumSize(maxIds)
        .expireAfterWrite(Duration.ofMillis(windowMillis + futureMillis))
        .ticker(clockTicker(clock))
        .executor(Runnable::run)
        // Expired ids are otherwise removed only as later envelopes arrive: a node that goes quiet
        // after a burst (its mails all waiting) would keep the burst's ids for good.
        .scheduler(Scheduler.systemScheduler())
        .build();
  }

  private static Ticker clockTicker(Clock clock) {
    return () -> TimeUnit.MILLISECONDS.toNanos(clock.millis());
  }

  public void admit(String messageId, long sentAtMillis) throws VerificationException {
    long now = clock.millis();
    if (now - sentAtMillis > windowMillis || sentAtMillis - now > futureMillis) {
      throw new VerificationException(VerificationFailure.STALE, "sent at " + sentAtMillis + ", now " + now
          + ": outside -" + windowMillis + " ms .. +" + futureMillis + " ms");
    }
    if (seen.asMap().putIfAbsent(messageId, sentAtMillis) != null) {
      throw new VerificationException(VerificationFailure.REPLAYED, "envelope " + messageId + " seen before");
    }
  }

  /** Ids remembered now (after expiry and eviction have run): for tests and metrics. */
  long size() {
    seen.cleanUp();
    return seen.estimatedSize();
  }
}
