package net.certmail.node.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The verdict rate a load step reports: what "the network kept up" rests on. */
class VerdictRateTest {
  private static final long SECOND = 1_000_000_000L;

  /** A step of {@code mails} sent at {@code rate}/s, mail i seen after latency(i) seconds; the rate reported. */
  private static double step(int mails, double rate, java.util.function.IntToDoubleFunction latency) {
    long period = (long) (SECOND / rate);
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    for (int i = 0; i < mails; i++) {
      long seen = i * period + (long) (latency.applyAsDouble(i) * SECOND);
      first = Math.min(first, seen);
      last = Math.max(last, seen);
    }
    double sending = (mails - 1) * period / 1e9;
    return OpenLoopStep.verdictRate(mails, sending, last / 1e9, first, last, period);
  }

  @Test
  void aNetworkThatKeepsPaceAtAnyLatencyDeliversAtTheOfferedRate() {
    assertEquals(100, step(1500, 100, i -> 0.05), 1.0);
    assertEquals(100, step(1500, 100, i -> 0.8), 1.0, "a steady 0.8 s is slow, not behind");
    assertEquals(5, step(75, 5, i -> 0.9 + 0.1 * (i % 3)), 0.3, "jitter does not count as falling behind");
  }

  @Test
  void aNetworkWhoseLatencyGrowsThroughTheStepFallsBelowTheOfferedRate() {
    // each verdict 20 ms later than the one before: 1.5 s behind after 75 mails of a 15 s step
    double rate = step(75, 5, i -> 0.1 + 0.02 * i);
    assertTrue(rate < 0.95 * 5, "reported " + rate);
  }

  @Test
  void aBurstOfLateVerdictsIsNotFasterThanOffered() {
    // stuck for 14 s, then everything at once: the latency limit, not the rate, catches this
    double rate = step(75, 5, i -> 15 - i * 0.2);
    assertEquals(75 / 14.8, rate, 1e-6, "the mails over the sending time, not over the 0.2 s of the burst");
  }

  @Test
  void oneMailCountsOverItsWholeStep() {
    assertEquals(0.5, OpenLoopStep.verdictRate(1, 1.0, 2.0, SECOND, SECOND, SECOND), 1e-9);
    assertEquals(0, OpenLoopStep.verdictRate(0, 15.0, 25.0, Long.MAX_VALUE, Long.MIN_VALUE, SECOND), 1e-9);
  }
}
