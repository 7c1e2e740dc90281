package net.certmail.protocol.simulation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.List;
import java.util.Map;

/**
 * What a run found: how many schedules and mails, how many violations (each invariant broken for
 * one label in one schedule counts once) and, for the first few, a report with the schedule's
 * seed, its shrunk shape and a trace; plus what happened, to show the run explored something:
 * A's outcomes, what the principals ignored and why, the dishonest acts tried.
 */
public record SimulationSummary(long seed, int schedules, int fairSchedules, long mails, long steps, long violations,
                                Map<Invariant, Long> violationsByInvariant, Map<String, Long> outcomes,
                                Map<String, Long> ignored, Map<String, Long> attacks, List<Report> reports) {

  /** One failing schedule: how to re-run it, what it broke, and the steps that led there. */
  public record Report(long seed, int schedule, long scheduleSeed, Invariant firstInvariant, Shape shape, Shape shrunk,
                       List<Violation> violations, List<String> trace) {

    public List<String> lines() {
      List<String> lines = new ArrayList<>();
      lines.add("VIOLATION in schedule " + schedule + " of seed " + seed + " (schedule seed " + scheduleSeed + ")");
      lines.add("  re-run: ./certmail simulate --seed " + seed + " --replay " + schedule);
      lines.add("  schedule: " + shape);
      lines.add("  shrunk to: " + shrunk);
      for (Violation violation : violations) {
        lines.add("  " + violation.describe());
      }
      lines.add("  trace of the shrunk schedule (true time, the acting principal's clock offset):");
      trace.forEach(step -> lines.add("    " + step));
      return lines;
    }
  }

  /**
   * Summaries of consecutive parts of one run (each run with {@code maxReports} at least the
   * number of invariants) as the summary of the whole: counts added, and the first schedule to
   * break each invariant reported, as one run would have, up to {@code maxReports}.
   */
  public static SimulationSummary combine(List<SimulationSummary> parts, int maxReports) {
    long seed = parts.isEmpty() ? 0 : parts.get(0).seed();
    int schedules = 0;
    int fair = 0;
    long mails = 0;
    long steps = 0;
    long violations = 0;
    Map<Invariant, Long> byInvariant = new EnumMap<>(Invariant.class);
    Map<String, Long> outcomes = new TreeMap<>();
    Map<String, Long> ignored = new TreeMap<>();
    Map<String, Long> attacks = new TreeMap<>();
    List<Report> candidates = new ArrayList<>();
    for (SimulationSummary part : parts) {
      schedules += part.schedules();
      fair += part.fairSchedules();
      mails += part.mails();
      steps += part.steps();
      violations += part.violations();
      part.violationsByInvariant().forEach((k, v) -> byInvariant.merge(k, v, Long::sum));
      part.outcomes().forEach((k, v) -> outcomes.merge(k, v, Long::sum));
      part.ignored().forEach((k, v) -> ignored.merge(k, v, Long::sum));
      part.attacks().forEach((k, v) -> attacks.merge(k, v, Long::sum));
      candidates.addAll(part.reports());
    }
    candidates.sort(Comparator.comparingInt(Report::schedule));
    Set<Invariant> reported = EnumSet.noneOf(Invariant.class);
    List<Report> reports = new ArrayList<>();
    for (Report report : candidates) {
      if (reports.size() < maxReports && reported.add(report.firstInvariant())) {
        reports.add(report);
      }
    }
    return new SimulationSummary(seed, schedules, fair, mails, steps, violations, byInvariant, outcomes, ignored,
        attacks, reports);
  }

  public List<String> lines() {
    List<String> lines = new ArrayList<>();
    lines.add("schedules " + schedules + " (" + fairSchedules + " within bounds, " + (schedules - fairSchedules)
        + " beyond), mails " + mails + ", steps " + steps);
    lines.add("outcomes at A: " + outcomes);
    lines.add("ignored by the principals: " + ignored);
    lines.add("dishonest acts: " + attacks);
    if (violations > 0) {
      lines.add("violations by invariant: " + violationsByInvariant);
    }
    return lines;
  }

  /** The last line of {@code certmail simulate}. */
  public String verdictLine() {
    return "simulate: " + schedules + " schedules, " + mails + " mails, violations " + violations;
  }
}
