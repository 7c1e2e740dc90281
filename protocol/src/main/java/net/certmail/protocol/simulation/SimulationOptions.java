package net.certmail.protocol.simulation;

import java.time.Duration;
import java.time.Instant;
import net.certmail.protocol.SubmissionPolicy;
import net.certmail.protocol.Timings;

/**
 * What to simulate: {@code schedules} schedules from {@code seed} (schedule i always gets the same
 * sub-seed, so any schedule can be re-run alone), up to {@code maxMailsPerSchedule} mails each, a
 * share of schedules beyond the stated bounds, the time model and policy, the crypto, and the
 * role machines (with an optional decorator, the seam tests use to plant bugs).
 */
public record SimulationOptions(long seed, int schedules, int firstSchedule, int maxMailsPerSchedule,
                                int beyondBoundsPercent, Keyring.Crypto crypto, Timings timings,
                                SubmissionPolicy policy, Roles.Factory roles, Roles.Decorator decorator,
                                int maxReports, Progress progress) {

  /**
   * The demo's timings, as actors' certmail-demo-timings.conf sets them: every outcome of a mail
   * within a minute. A copy, since this module reads no configuration; EngineSettingsTest keeps it
   * equal to the file.
   */
  public static final Timings DEMO_TIMINGS = new Timings(Duration.ofMillis(250), Duration.ofSeconds(1),
      Duration.ofMillis(200), Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(12),
      Duration.ofSeconds(10), Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(5));
  public static final SubmissionPolicy DEMO_POLICY = new SubmissionPolicy(Duration.ofSeconds(25), Duration.ofHours(1),
      1024 * 1024);
  /** Simulated true time starts here (epoch millis): a fixed instant, so runs are reproducible. */
  public static final long EPOCH = Instant.parse("2026-12-01T00:00:00Z").toEpochMilli();

  /** Told every so many schedules how far the run is (the CLI prints it; tests ignore it). */
  @FunctionalInterface
  public interface Progress {
    Progress NONE = (done, mails, violations) -> {};

    void schedulesDone(int done, long mails, long violations);
  }

  public SimulationOptions {
    if (schedules < 0 || firstSchedule < 0 || maxMailsPerSchedule < 1) {
      throw new IllegalArgumentException("schedules and first schedule must be >= 0, mails per schedule >= 1");
    }
    if (beyondBoundsPercent < 0 || beyondBoundsPercent > 100) {
      throw new IllegalArgumentException("the share of schedules beyond bounds is a percentage");
    }
    var problems = timings.check(policy);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("inconsistent timings: " + String.join("; ", problems));
    }
  }

  public static SimulationOptions of(long seed, int schedules) {
    return of(seed, schedules, CoreRoles.FACTORY);
  }

  public static SimulationOptions of(long seed, int schedules, Roles.Factory roles) {
    return new SimulationOptions(seed, schedules, 0, 3, 20, Keyring.Crypto.FAST, DEMO_TIMINGS, DEMO_POLICY, roles,
        Roles.Decorator.NONE, 3, Progress.NONE);
  }

  public SimulationOptions withMailsPerSchedule(int mails) {
    return new SimulationOptions(seed, schedules, firstSchedule, mails, beyondBoundsPercent, crypto, timings, policy,
        roles, decorator, maxReports, progress);
  }

  public SimulationOptions withSchedules(int first, int count) {
    return new SimulationOptions(seed, count, first, maxMailsPerSchedule, beyondBoundsPercent, crypto, timings, policy,
        roles, decorator, maxReports, progress);
  }

  public SimulationOptions withBeyondBoundsPercent(int percent) {
    return new SimulationOptions(seed, schedules, firstSchedule, maxMailsPerSchedule, percent, crypto, timings, policy,
        roles, decorator, maxReports, progress);
  }

  public SimulationOptions withCrypto(Keyring.Crypto choice) {
    return new SimulationOptions(seed, schedules, firstSchedule, maxMailsPerSchedule, beyondBoundsPercent, choice,
        timings, policy, roles, decorator, maxReports, progress);
  }

  public SimulationOptions withDecorator(Roles.Decorator planted) {
    return new SimulationOptions(seed, schedules, firstSchedule, maxMailsPerSchedule, beyondBoundsPercent, crypto,
        timings, policy, roles, planted, maxReports, progress);
  }

  public SimulationOptions withMaxReports(int reports) {
    return new SimulationOptions(seed, schedules, firstSchedule, maxMailsPerSchedule, beyondBoundsPercent, crypto,
        timings, policy, roles, decorator, reports, progress);
  }

  public SimulationOptions withProgress(Progress listener) {
    return new SimulationOptions(seed, schedules, firstSchedule, maxMailsPerSchedule, beyondBoundsPercent, crypto,
        timings, policy, roles, decorator, maxReports, listener);
  }

  /** Schedule i's own seed: a SplitMix64 mix of the run's seed and i. */
  public long scheduleSeed(int index) {
    long z = seed + (index + 1L) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
