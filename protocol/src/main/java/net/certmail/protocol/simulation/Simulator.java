package net.certmail.protocol.simulation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.protocol.Addressee;

/**
 * The deterministic simulator: runs whole mails through the pure role machines of every principal
 * under a seeded adversarial scheduler (loss, duplication, reordering, delay, crashes, skewed
 * clocks, dishonest principals with valid keys) and checks the invariants ({@link Invariant}) after
 * every schedule, and where cheap after every step. One seed gives one sequence of schedules;
 * schedule i can be re-run alone ({@link #trace}). No threads, no wall clock, no IO.
 */
public final class Simulator {
  private static final int SHRINK_ATTEMPTS = 1000;
  private static final int TRACE_LINES = 600;

  private Simulator() {}

  /**
   * Runs the schedules of {@code options}; the first schedule to break each invariant (up to
   * {@code maxReports}) is shrunk and reported with its trace.
   */
  public static SimulationSummary run(SimulationOptions options) {
    Keyring keyring = keyring(options);
    long mails = 0;
    long steps = 0;
    long violations = 0;
    int fair = 0;
    Map<Invariant, Long> byInvariant = new EnumMap<>(Invariant.class);
    Map<String, Long> outcomes = new TreeMap<>();
    Map<String, Long> ignored = new TreeMap<>();
    Map<String, Long> attacks = new TreeMap<>();
    List<SimulationSummary.Report> reports = new ArrayList<>();
    Set<Invariant> reported = EnumSet.noneOf(Invariant.class);
    int end = options.firstSchedule() + options.schedules();
    for (int index = options.firstSchedule(); index < end; index++) {
      Schedule schedule = runOne(options, keyring, index, null, false);
      mails += schedule.plans.size();
      steps += schedule.steps;
      fair += schedule.shape.fair() ? 1 : 0;
      violations += schedule.violations.size();
      schedule.violations.forEach(v -> byInvariant.merge(v.invariant(), 1L, Long::sum));
      schedule.ignoredByReason.forEach((reason, count) -> ignored.merge(reason, count, Long::sum));
      schedule.acts.forEach(act -> attacks.merge(act.substring(0, act.indexOf(' ')), 1L, Long::sum));
      tallyOutcomes(schedule, outcomes);
      if (!schedule.violations.isEmpty() && reports.size() < options.maxReports()
          && reported.add(schedule.violations.get(0).invariant())) {
        reports.add(investigate(options, keyring, index, schedule));
      }
      int done = index - options.firstSchedule() + 1;
      if (done % 100 == 0 || index == end - 1) {
        options.progress().schedulesDone(done, mails, violations);
      }
    }
    return new SimulationSummary(options.seed(), options.schedules(), fair, mails, steps, violations, byInvariant,
        outcomes, ignored, attacks, reports);
  }

  /** Schedule {@code index} of the run, re-run with its trace: every step, formatted. */
  public static List<String> trace(SimulationOptions options, int index) {
    Schedule schedule = runOne(options, keyring(options), index, null, true);
    List<String> lines = new ArrayList<>();
    lines.add("schedule " + index + " of seed " + options.seed() + ": " + schedule.shape);
    lines.add("routes: " + routes(schedule) + "; owners: " + schedule.network.owners());
    schedule.trace().forEach(step -> lines.add(step.format(schedule.epoch)));
    schedule.violations.forEach(v -> lines.add("VIOLATION " + v.describe()));
    return lines;
  }

  static Schedule runOne(SimulationOptions options, Keyring keyring, int index, Shape shape, boolean keepTrace) {
    Schedule schedule = new Schedule(index, options.scheduleSeed(index), shape, options, keyring, keepTrace);
    schedule.run();
    Invariants.checkAtHorizon(schedule);
    return schedule;
  }

  private static Keyring keyring(SimulationOptions options) {
    return options.crypto() == Keyring.Crypto.REAL
        ? new RealKeyring(Cast.principals(), SimulationOptions.EPOCH)
        : new FastKeyring(Cast.principals());
  }

  /** Shrinks a failing schedule (fewer mails, fewer faults, same seed) while it breaks the same invariant. */
  private static SimulationSummary.Report investigate(SimulationOptions options, Keyring keyring, int index,
                                                      Schedule failed) {
    Violation first = failed.violations.get(0);
    Shape best = failed.shape;
    int attempts = 0;
    boolean smaller = true;
    while (smaller && attempts < SHRINK_ATTEMPTS) {
      smaller = false;
      List<Shape> candidates = new ArrayList<>(best.smaller());
      candidates.sort(Comparator.comparingInt(Shape::weight));
      for (Shape candidate : candidates) {
        if (++attempts > SHRINK_ATTEMPTS) {
          break;
        }
        Schedule attempt = runOne(options, keyring, index, candidate, false);
        if (attempt.violations.stream().anyMatch(v -> v.invariant() == first.invariant())) {
          best = candidate;
          smaller = true;
          break;
        }
      }
    }
    Schedule shrunk = runOne(options, keyring, index, best, true);
    List<Violation> found = shrunk.violations.isEmpty() ? failed.violations : shrunk.violations;
    Violation shown = found.stream().filter(v -> v.invariant() == first.invariant()).findFirst().orElse(found.get(0));
    String senderKey = shrunk.plans.stream().filter(p -> p.label().equals(shown.label())).map(MailPlan::submissionId)
        .findFirst().orElse("\0");
    List<Step> steps = shrunk.trace().stream().filter(s -> shown.label().isEmpty() || s.concerns(shown.label(), senderKey))
        .toList();
    if (steps.isEmpty()) {
      steps = shrunk.trace();
    }
    List<String> lines = new ArrayList<>();
    lines.add("routes: " + routes(shrunk) + "; owners: " + shrunk.network.owners());
    for (Step step : steps) {
      if (lines.size() > TRACE_LINES) {
        lines.add("... " + (steps.size() - TRACE_LINES) + " more steps");
        break;
      }
      lines.add(step.format(shrunk.epoch));
    }
    return new SimulationSummary.Report(options.seed(), index, failed.seed, first.invariant(), failed.shape, best, found,
        lines);
  }

  private static String routes(Schedule schedule) {
    List<String> routes = new ArrayList<>();
    for (MailPlan plan : schedule.plans) {
      routes.add(Messages.shortLabel(plan.label()) + " " + plan.sender() + " -> " + plan.recipient() + " via "
          + schedule.network.routing().route(plan.origin(), plan.recipient()).map(Object::toString).orElse("(none)"));
    }
    return String.join("; ", routes);
  }

  private static void tallyOutcomes(Schedule schedule, Map<String, Long> outcomes) {
    for (Instance instance : schedule.instances.values()) {
      if (instance.entity.role() != Addressee.Role.SENDER || Schedule.submittedOf(instance) == null) {
        continue;
      }
      String outcome = "(none)";
      for (OutboxEvent event : instance.eventsOf(OutboxEvent.class)) {
        if (event.hasDeliveryConfirmed()) {
          outcome = "DELIVERED";
        } else if (event.hasNonDeliveryNotified()) {
          outcome = "NOT_DELIVERED";
        } else if (event.hasMailDeclaredLost()) {
          outcome = "LOST";
        } else if (event.hasSubmissionRefused()) {
          outcome = "REFUSED";
        } else if (event.hasSubmissionUnanswered()) {
          outcome = "NOT_POSTED";
        }
      }
      outcomes.merge(outcome, 1L, Long::sum);
    }
  }
}
