package net.certmail.node.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The rates bench load offers: up the ladder, down if the first step was too much, then bisected. */
class RateSearchTest {

  /** The rates offered to a network that holds every rate up to {@code limit}, and the rate sustained. */
  private static List<Double> offered(RateSearch search, double limit) {
    List<Double> rates = new ArrayList<>();
    for (int guard = 0; guard < 100; guard++) {
      rates.add(search.rate());
      if (search.next(search.rate() <= limit).isEmpty()) {
        return rates;
      }
    }
    throw new AssertionError("the search did not end: " + rates);
  }

  @Test
  void climbsByTheFactorThenBisectsTheGapAboveTheHighestRateThatHeld() {
    RateSearch search = new RateSearch(100, 1.3, 2000, 2);
    assertEquals(List.of(100.0, 130.0, 169.0, 220.0, 195.0, 182.0), offered(search, 190));
    assertEquals(OptionalDouble.of(182), search.sustained());
  }

  @Test
  void withoutBisectionsTheLastStepThatHeldIsTheFigure() {
    RateSearch search = new RateSearch(100, 1.3, 2000, 0);
    assertEquals(List.of(100.0, 130.0, 169.0, 220.0), offered(search, 190));
    assertEquals(OptionalDouble.of(169), search.sustained());
  }

  @Test
  void aFirstStepAboveTheLimitIsLoweredUntilOneHoldsAndThenBisected() {
    RateSearch search = new RateSearch(300, 1.3, 2000, 1);
    assertEquals(List.of(300.0, 230.0, 176.0, 203.0), offered(search, 205));
    assertEquals(OptionalDouble.of(203), search.sustained());
  }

  @Test
  void stopsWhenTheGapHasNoWholeRateInsideIt() {
    RateSearch search = new RateSearch(10, 1.3, 2000, 10);
    List<Double> rates = offered(search, 12);
    assertEquals(List.of(10.0, 13.0, 12.0), rates);
    assertEquals(OptionalDouble.of(12), search.sustained());
  }

  @Test
  void endsAtTheMaximumRateWhenEveryStepHolds() {
    RateSearch search = new RateSearch(10, 2, 50, 2);
    assertEquals(List.of(10.0, 20.0, 40.0), offered(search, 1000));
    assertEquals(OptionalDouble.of(40), search.sustained());
  }

  @Test
  void aNetworkThatHoldsNothingSustainsNothing() {
    RateSearch search = new RateSearch(4, 2, 50, 2);
    assertEquals(List.of(4.0, 2.0, 1.0), offered(search, 0.5));
    assertTrue(search.sustained().isEmpty());
    assertFalse(search.bisecting());
  }
}
