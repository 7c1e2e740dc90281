package net.certmail.protocol.simulation;

import java.util.ArrayList;
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
  public record Report(long seed, int schedule, long scheduleSeed, Shape shape, Shape shrunk,
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
