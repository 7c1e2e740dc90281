package net.certmail.node.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The arithmetic of bench waiting's lateness figures: buckets summed over organisations, quantiles from their growth. */
class WaitingBenchFiguresTest {
  static final String NAME = "certmail_reminders_lateness_seconds_bucket";

  static WaitingBenchCommand.Metrics exposition(long alphaFast, long alphaSlow, long betaFast, long betaSlow) {
    return new WaitingBenchCommand.Metrics(List.of(
        "# TYPE certmail_reminders_lateness_seconds histogram",
        NAME + "{node=\"n\",organisation=\"alpha.example\",le=\"0.1\"} " + alphaFast,
        NAME + "{node=\"n\",organisation=\"alpha.example\",le=\"1.0\"} " + (alphaFast + alphaSlow),
        NAME + "{node=\"n\",organisation=\"alpha.example\",le=\"+Inf\"} " + (alphaFast + alphaSlow),
        NAME + "{node=\"n\",organisation=\"beta.example\",le=\"0.1\"} " + betaFast,
        NAME + "{node=\"n\",organisation=\"beta.example\",le=\"1.0\"} " + (betaFast + betaSlow),
        NAME + "{node=\"n\",organisation=\"beta.example\",le=\"+Inf\"} " + (betaFast + betaSlow),
        "certmail_reminders_lateness_seconds_max{node=\"n\",organisation=\"beta.example\"} 0.7"));
  }

  @Test
  void bucketsAreSummedOverOrganisationsByUpperBound() {
    Map<Double, Double> buckets = exposition(3, 1, 5, 2).buckets(NAME);
    assertEquals(Map.of(0.1, 8.0, 1.0, 11.0, Double.POSITIVE_INFINITY, 11.0), buckets);
    assertEquals(0.7, exposition(3, 1, 5, 2).max("certmail_reminders_lateness_seconds_max"));
  }

  @Test
  void quantilesComeFromTheGrowthOfTheBucketsNotTheirTotals() {
    Map<Double, Double> before = exposition(1000, 0, 0, 0).buckets(NAME); // earlier wake-ups, all fast
    Map<Double, Double> after = exposition(1090, 10, 0, 0).buckets(NAME); // the phase: 90 fast, 10 slow
    TreeMap<Double, Double> grown = new TreeMap<>();
    after.forEach((le, count) -> grown.put(le, count - before.getOrDefault(le, 0.0)));
    double total = grown.lastEntry().getValue();
    assertEquals(100.0, total);
    assertEquals(0.1, WaitingBenchCommand.quantile(grown, total, 0.5));
    assertEquals(1.0, WaitingBenchCommand.quantile(grown, total, 0.99), "10 % slow: the p99 is in the slow bucket");
    assertEquals(0.1, WaitingBenchCommand.quantile(grown, total, 0.9));
  }
}
