package net.certmail.node;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.certmail.protocol.simulation.Invariant;
import net.certmail.protocol.simulation.Keyring;
import net.certmail.protocol.simulation.SimulationOptions;
import net.certmail.protocol.simulation.SimulationSummary;
import net.certmail.protocol.simulation.Simulator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code certmail simulate}: the deterministic simulator of the protocol core. Schedules are
 * independent, so the range is cut into blocks run on several threads; each block is the same
 * deterministic run it would be on one thread, and the summaries are combined.
 */
@Command(name = "simulate", mixinStandardHelpOptions = true,
    description = {
        "Run whole mails through the pure role machines of every principal under a seeded adversarial scheduler.",
        "",
        "Routes of 1-4 servers, CEM, NSR and IP, every mailbox policy; messages lost, duplicated, reordered and"
            + " delayed; principals crashed and rebuilt from their events; clocks skewed within the stated bound;"
            + " dishonest principals with valid keys (rogue.example, erin@alpha.example) sending well-signed but"
            + " wrong evidence. After every schedule the invariants are checked; the first schedule to break each"
            + " one is shrunk and printed with its seed and trace. One seed gives one run.",
        "",
        "The last line is 'simulate: <N> schedules, <M> mails, violations <V>'; exit 1 when V > 0."},
    footer = {"%nExamples:%n  certmail simulate --schedules 20000 --seed 1",
        "  certmail simulate --seed 1 --replay 4711      (every step of schedule 4711)"})
final class SimulateCommand implements Callable<Integer> {
  private static final int BLOCK = 500;
  private static final long PROGRESS_NANOS = TimeUnit.SECONDS.toNanos(5);

  @Spec
  CommandSpec spec;

  @Option(names = "--schedules", paramLabel = "N", defaultValue = "20000",
      description = "Schedules to run (default ${DEFAULT-VALUE}).")
  int schedules;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
      description = "The run's seed (default ${DEFAULT-VALUE}); schedule i always gets the same sub-seed.")
  long seed;

  @Option(names = "--crypto", paramLabel = "fast|real", defaultValue = "fast",
      description = "fast: an HMAC stand-in with Ed25519's contract (default); real: Bouncy Castle Ed25519"
          + " with a network CA, as the nodes sign.")
  String crypto;

  @Option(names = "--mails-per-schedule", paramLabel = "K", defaultValue = "3",
      description = "Each schedule posts 1..K mails (default ${DEFAULT-VALUE}).")
  int mailsPerSchedule;

  @Option(names = "--beyond-bounds", paramLabel = "PERCENT", defaultValue = "20",
      description = "Share of schedules whose faults exceed the stated bounds (default ${DEFAULT-VALUE});"
          + " only safety invariants are checked in those.")
  int beyondBounds;

  @Option(names = "--reports", paramLabel = "N", defaultValue = "3",
      description = "Violations to shrink and print with a trace, one per invariant (default ${DEFAULT-VALUE}).")
  int reports;

  @Option(names = "--threads", paramLabel = "T", defaultValue = "0",
      description = "Threads (default 0: one per processor). The result does not depend on it.")
  int threads;

  @Option(names = "--replay", paramLabel = "INDEX",
      description = "Print every step of schedule INDEX of --seed, then its violations.")
  Integer replay;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    SimulationOptions options = options();
    if (replay != null) {
      return replay(options, out);
    }
    long started = System.nanoTime();
    SimulationSummary summary = run(options, err);
    double seconds = (System.nanoTime() - started) / 1e9;
    summary.lines().forEach(out::println);
    for (SimulationSummary.Report report : summary.reports()) {
      report.lines().forEach(out::println);
    }
    out.printf(Locale.ROOT, "%.1f s, %.0f schedules/s, %s crypto, %d thread(s)%n", seconds,
        summary.schedules() / Math.max(seconds, 1e-9), crypto, threadCount());
    out.println(summary.verdictLine());
    out.flush();
    return summary.violations() == 0 ? CertmailCli.OK : CertmailCli.INVALID;
  }

  private SimulationOptions options() {
    if (schedules < 0) {
      throw new UserInputException("--schedules must be >= 0, not " + schedules);
    }
    if (mailsPerSchedule < 1 || mailsPerSchedule > 50) {
      throw new UserInputException("--mails-per-schedule must lie between 1 and 50, not " + mailsPerSchedule);
    }
    if (beyondBounds < 0 || beyondBounds > 100) {
      throw new UserInputException("--beyond-bounds is a percentage: 0 to 100, not " + beyondBounds);
    }
    if (reports < 0 || threads < 0) {
      throw new UserInputException("--reports and --threads must be >= 0");
    }
    if (replay != null && replay < 0) {
      throw new UserInputException("--replay takes a schedule index >= 0, not " + replay);
    }
    Keyring.Crypto choice = switch (crypto.trim().toLowerCase(Locale.ROOT)) {
      case "fast" -> Keyring.Crypto.FAST;
      case "real" -> Keyring.Crypto.REAL;
      default -> throw new UserInputException("--crypto must be \"fast\" or \"real\", not \"" + crypto + "\"");
    };
    return SimulationOptions.of(seed, schedules).withMailsPerSchedule(mailsPerSchedule)
        .withBeyondBoundsPercent(beyondBounds).withCrypto(choice).withMaxReports(reports);
  }

  private int replay(SimulationOptions options, PrintWriter out) {
    Simulator.trace(options, replay).forEach(out::println);
    SimulationSummary summary = Simulator.run(options.withSchedules(replay, 1).withMaxReports(0));
    out.println("simulate: 1 schedules, " + summary.mails() + " mails, violations " + summary.violations());
    out.flush();
    return summary.violations() == 0 ? CertmailCli.OK : CertmailCli.INVALID;
  }

  private int threadCount() {
    return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
  }

  /** Blocks of schedules on a pool; progress on stderr every few seconds. */
  private SimulationSummary run(SimulationOptions options, PrintWriter err) throws InterruptedException {
    AtomicLong done = new AtomicLong();
    AtomicLong mails = new AtomicLong();
    AtomicLong violations = new AtomicLong();
    List<Future<SimulationSummary>> blocks = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(threadCount(), runnable -> {
      Thread thread = new Thread(runnable, "simulate");
      thread.setDaemon(true);
      return thread;
    });
    try {
      for (int first = 0; first < schedules; first += BLOCK) {
        int count = Math.min(BLOCK, schedules - first);
        SimulationOptions block = options.withSchedules(first, count)
            .withMaxReports(Math.max(reports, Invariant.values().length))
            .withProgress(new SimulationOptions.Progress() {
              private long seenDone;
              private long seenMails;
              private long seenViolations;

              @Override
              public void schedulesDone(int blockDone, long blockMails, long blockViolations) {
                done.addAndGet(blockDone - seenDone);
                mails.addAndGet(blockMails - seenMails);
                violations.addAndGet(blockViolations - seenViolations);
                seenDone = blockDone;
                seenMails = blockMails;
                seenViolations = blockViolations;
              }
            });
        blocks.add(pool.submit(() -> Simulator.run(block)));
      }
      pool.shutdown();
      long started = System.nanoTime();
      while (!pool.awaitTermination(PROGRESS_NANOS, TimeUnit.NANOSECONDS)) {
        double seconds = (System.nanoTime() - started) / 1e9;
        err.printf(Locale.ROOT, "simulate: %d/%d schedules, %d mails, %d violations, %.0f schedules/s%n",
            done.get(), schedules, mails.get(), violations.get(), done.get() / seconds);
        err.flush();
      }
      List<SimulationSummary> parts = new ArrayList<>();
      for (Future<SimulationSummary> block : blocks) {
        parts.add(block.get());
      }
      return SimulationSummary.combine(parts, reports);
    } catch (ExecutionException e) {
      throw new IllegalStateException("the simulator failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }
}
