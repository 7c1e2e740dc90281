package net.certmail.protocol.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The simulator over the real role machines: a bounded run finds nothing, and one seed gives one history. */
class SimulatorTest {
  static final long SEED = 20261201L;

  @Test
  void boundedRunOfTwoThousandSchedulesFindsNoViolation() {
    long start = System.nanoTime();
    SimulationSummary summary = Simulator.run(SimulationOptions.of(SEED, 2_000));
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(Locale.ROOT, "%s in %.1f s: %.0f schedules/s%n", summary.verdictLine(), seconds,
        summary.schedules() / seconds);
    summary.lines().forEach(System.out::println);
    List<String> reports = new ArrayList<>();
    summary.reports().forEach(report -> reports.addAll(report.lines()));
    assertEquals(0, summary.violations(), () -> String.join("\n", reports));
    // the run explored something: every outcome, dishonest acts tried and turned down, both kinds of schedule
    assertTrue(summary.outcomes().keySet().containsAll(List.of("DELIVERED", "NOT_DELIVERED", "REFUSED", "LOST")),
        () -> "outcomes " + summary.outcomes());
    assertEquals(Adversary.Attack.values().length, summary.attacks().size(), () -> "attacks " + summary.attacks());
    assertTrue(summary.ignored().getOrDefault("NOT_ENTITLED", 0L) > 0, () -> "ignored " + summary.ignored());
    assertTrue(summary.fairSchedules() > 0 && summary.fairSchedules() < summary.schedules());
  }

  @Test
  void sameSeedGivesTheSameTraceAndAnotherSeedAnother() {
    SimulationOptions options = SimulationOptions.of(SEED, 1);
    for (int schedule : new int[] {0, 7, 123}) {
      List<String> first = Simulator.trace(options, schedule);
      List<String> again = Simulator.trace(options, schedule);
      assertEquals(first, again, "schedule " + schedule + " ran twice differently");
      assertTrue(first.size() > 10, "a schedule does something");
      assertNotEquals(first, Simulator.trace(SimulationOptions.of(SEED + 1, 1), schedule));
    }
  }

  @Test
  void aScheduleRunAloneIsTheScheduleOfTheRun() {
    SimulationOptions options = SimulationOptions.of(SEED, 30);
    SimulationSummary whole = Simulator.run(options);
    long mails = 0;
    long steps = 0;
    for (int i = 0; i < 30; i++) {
      SimulationSummary alone = Simulator.run(options.withSchedules(i, 1));
      mails += alone.mails();
      steps += alone.steps();
    }
    assertEquals(whole.mails(), mails);
    assertEquals(whole.steps(), steps);
  }
}
