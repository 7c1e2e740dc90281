package net.certmail.node.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The crypto limits are measured on warmed-up code, as the nodes run it. */
class CryptoRatesTest {

  @Test
  void theWarmUpLastsUntilTheRateHasStoppedRising() throws Exception {
    long fastFrom = System.nanoTime() + Duration.ofMillis(800).toNanos();
    long[] counter = {0};
    // Slow (as interpreted code is) for 0.8 s, then fast: the warm-up must see the fast rate settle.
    Duration warmup = CryptoRates.warmUp(Duration.ZERO, i -> {
      if (System.nanoTime() < fastFrom) {
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
      }
    }, counter);
    Duration settled = Duration.ofMillis(800).plus(CryptoRates.WARMUP_ROUND.multipliedBy(CryptoRates.STEADY_ROUNDS - 1));
    assertTrue(warmup.compareTo(settled) >= 0, "warm-up " + warmup + " ended before the rate had settled");
    assertTrue(warmup.compareTo(CryptoRates.MAX_WARMUP.plus(CryptoRates.WARMUP_ROUND)) <= 0, "warm-up " + warmup);
  }

  @Test
  void theLimitIsTheFasterMeasurementOfEachOperation() {
    CryptoRates slowVerify = new CryptoRates(20_000, 6_000);
    CryptoRates slowSign = new CryptoRates(15_000, 10_000);
    assertEquals(new CryptoRates(20_000, 10_000), slowVerify.fasterOf(slowSign));
    assertEquals(new CryptoRates(20_000, 10_000), slowSign.fasterOf(slowVerify));
  }

  @Test
  void theCryptoBoundRateIsWhatTheCoresCarryDoingOnlyAMailsSignaturesAndChecks() {
    // 20 signatures at 20,000/s and 25 checks at 10,000/s: 1 ms + 2.5 ms of one core per mail.
    assertEquals(2 / 0.0035, new CryptoRates(20_000, 10_000).mailsPerSecond(20, 25, 2), 1e-9);
  }
}
