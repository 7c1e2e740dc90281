package net.certmail.node.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The warm-up's rate: it climbs while the network keeps up and backs off when it does not. */
class WarmupRateTest {

  @Test
  void climbsByTheFactorAfterARoundThatKeptUpBeyondTheStartRateButNotAboveTheMaximum() {
    assertEquals(13, LoadBenchCommand.nextWarmupRate(10, true, 1.3, 2000));
    assertEquals(169, LoadBenchCommand.nextWarmupRate(130, true, 1.3, 2000));
    assertEquals(150, LoadBenchCommand.nextWarmupRate(130, true, 1.3, 150));
  }

  @Test
  void backsOffByTheFactorAfterARoundThatFellBehindButNeverBelowOneMailASecond() {
    assertEquals(100, LoadBenchCommand.nextWarmupRate(130, false, 1.3, 2000));
    assertEquals(1, LoadBenchCommand.nextWarmupRate(1, false, 1.3, 2000));
  }

  @Test
  void settlesAroundWhatTheNetworkCarries() {
    double carried = 160;
    double rate = 10;
    for (int round = 0; round < 40; round++) {
      rate = LoadBenchCommand.nextWarmupRate(rate, rate <= carried, 1.3, 2000);
    }
    double next = LoadBenchCommand.nextWarmupRate(rate, rate <= carried, 1.3, 2000);
    assertTrue(rate > carried / 1.3 && rate < carried * 1.3, "rate " + rate);
    assertTrue(next > carried / 1.3 && next < carried * 1.3, "next " + next);
  }
}
