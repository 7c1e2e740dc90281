package net.certmail.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  private final AtomicLong nanos = new AtomicLong();
  private final RateLimiter limiter = new RateLimiter(3, 2.0, nanos::get);

  @Test
  void aBurstIsAllowedThenTheRateRefillsIt() {
    for (int i = 0; i < 3; i++) {
      assertTrue(limiter.tryAcquire("alice@alpha.example"), "request " + (i + 1) + " of the burst");
    }
    assertFalse(limiter.tryAcquire("alice@alpha.example"));
    nanos.addAndGet(499_000_000L);
    assertFalse(limiter.tryAcquire("alice@alpha.example"), "2 per second: not yet a whole token after 499 ms");
    nanos.addAndGet(1_000_000L);
    assertTrue(limiter.tryAcquire("alice@alpha.example"));
    assertFalse(limiter.tryAcquire("alice@alpha.example"));
  }

  @Test
  void eachKeyHasItsOwnBudgetAndIdleTimeNeverExceedsTheBurst() {
    for (int i = 0; i < 3; i++) {
      limiter.tryAcquire("alice@alpha.example");
    }
    assertTrue(limiter.tryAcquire("bob@beta.example"));
    nanos.addAndGet(3_600_000_000_000L);
    int allowed = 0;
    while (limiter.tryAcquire("alice@alpha.example")) {
      allowed++;
    }
    assertEquals(3, allowed);
    assertEquals(1, limiter.retryAfterSeconds());
  }

  /** A flood of client addresses cannot fill the node's memory: idle (refilled) buckets are forgotten. */
  @Test
  void idleKeysAreForgottenOnceTheLimitIsReachedButBusyOnesAreKept() {
    RateLimiter small = new RateLimiter(3, 2.0, nanos::get, 3);
    small.tryAcquire("10.0.0.1");
    small.tryAcquire("10.0.0.2");
    for (int i = 0; i < 3; i++) {
      small.tryAcquire("10.0.0.3");
    }
    nanos.addAndGet(1_000_000_000L); // 1 s: .1 and .2 are full again, .3 is not
    small.tryAcquire("10.0.0.4");
    assertEquals(2, small.keys());
    assertFalse(small.tryAcquire("10.0.0.3") && small.tryAcquire("10.0.0.3") && small.tryAcquire("10.0.0.3"),
        "the busy address kept its spent budget");
  }
}
