package net.certmail.node.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import net.certmail.crypto.VerificationException;
import net.certmail.node.UserInputException;
import net.certmail.node.cluster.LocalCluster;
import net.certmail.persistence.bench.CassandraWriteBench;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code certmail bench load}: how many certified mails a second a real three-node network on this
 * machine carries, and how that compares with what its signatures alone would allow.
 */
@Command(name = "load", mixinStandardHelpOptions = true,
    description = {
        "Measure the certified mails per second a network of three node JVMs (alpha, relay, beta) carries"
            + " on this machine, with an open-loop load through the HTTP API.",
        "",
        "First it measures the limits in the same run: Ed25519 signatures made and checked per second on"
            + " one core, before the network starts and again after the steps, the faster of the two being the"
            + " limit (and, with --journal cassandra, raw Cassandra writes per second through the driver),"
            + " and the signatures one mail costs across the three nodes, which give the crypto-bound rate"
            + " (every core signing and checking, nothing else). Then it offers mails of every flavour over"
            + " three servers to a recipient who accepts at once, at a fixed rate per step, raising the rate"
            + " each step until the p99 from submission to the Report of Delivery passes --p99-limit, or the"
            + " network falls behind: mails without a verdict after the drain, or verdicts coming out at under"
            + " 95 %% of the offered rate (from the step's first verdict to its last). If the first step already"
            + " falls behind, it lowers the rate by the same factor until a step holds. Then --bisections steps"
            + " halve the gap between the highest rate that held and the lowest that did not; the sustained rate"
            + " is the highest that held. Latencies count from the"
            + " instant each mail was due to be sent. Before the first step it warms the nodes up, from the start"
            + " rate up towards what the network carries, until their JIT compilers are mostly done.",
        "",
        "It prints each step's offered and achieved rates, p50 / p99 / max submission to COP and to ROD,"
            + " the signatures made and checked per mail delivered (above the calibration's figure: resends),"
            + " the CPU each node (and a local Cassandra, and the load generator itself) used, the JIT's share of the nodes' CPU"
            + " and the share of the step each node's garbage collector stopped it; writes load.json and load.svg (latency against offered rate)"
            + " to --out; and ends with the line \"load: <X> mails/s sustained (p99 <Y> ms), crypto-bound <Z>"
            + " mails/s, ratio <X/Z>\".",
        "Run it on an otherwise idle machine: other work on the same cores lowers every figure."})
public final class LoadBenchCommand implements Callable<Integer> {
  /** After a step that did not hold, its late mails conclude (or time out) before a lower rate is measured. */
  private static final Duration BACKLOG_PAUSE = Duration.ofSeconds(20);

  @Spec
  CommandSpec spec;

  @Option(names = "--journal", paramLabel = "BACKEND", defaultValue = "embedded",
      description = "embedded (each node, one per organisation, its own H2 file; the default) or cassandra"
          + " (one keyspace for the three).")
  String journal;

  @Option(names = "--contact-point", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9042",
      description = "The Cassandra to use with --journal cassandra (default ${DEFAULT-VALUE}; start one with"
          + " ./certmail cassandra start). A new keyspace is made for the run.")
  String contactPoint;

  @Option(names = "--start-rate", paramLabel = "MAILS/S", defaultValue = "10",
      description = "Offered rate of the first step (default ${DEFAULT-VALUE}).")
  double startRate;

  @Option(names = "--factor", paramLabel = "F", defaultValue = "1.3",
      description = "Each step offers F times the rate of the step before (default ${DEFAULT-VALUE}).")
  double factor;

  @Option(names = "--max-rate", paramLabel = "MAILS/S", defaultValue = "2000",
      description = "No step offers more than this (default ${DEFAULT-VALUE}).")
  double maxRate;

  @Option(names = "--bisections", paramLabel = "N", defaultValue = "2",
      description = "After the first step that does not hold, steps that halve the gap between the highest rate that"
          + " held and the lowest that did not, N of them, so that the sustained rate lies within a few %% of the"
          + " limit rather than up to a factor below it (default ${DEFAULT-VALUE}; 0: none).")
  int bisections;

  @Option(names = "--step-seconds", paramLabel = "S", defaultValue = "15",
      description = "Length of each step's sending (default ${DEFAULT-VALUE}).")
  int stepSeconds;

  @Option(names = "--drain-seconds", paramLabel = "S", defaultValue = "10",
      description = "How long after a step's last mail its mails may take to conclude (default ${DEFAULT-VALUE}).")
  int drainSeconds;

  @Option(names = "--warmup-seconds", paramLabel = "S", defaultValue = "600",
      description = "Longest warm-up: load from the start rate up before the first measured step, in rounds of "
          + WARMUP_ROUND_SECONDS + " s, until the nodes' JIT compilers use less than --warmup-jit-percent of their"
          + " CPU in a round (three node JVMs on 2 cores compile for minutes); then a pause for its backlog"
          + " (default ${DEFAULT-VALUE}; 0: none). Without /proc (not Linux) it is 60 s at most.")
  int warmupSeconds;

  @Option(names = "--warmup-jit-percent", paramLabel = "P", defaultValue = "5",
      description = "The warm-up ends after a round in which the JIT used less than P %% of the nodes' CPU"
          + " (default ${DEFAULT-VALUE}).")
  double warmupJitPercent;

  @Option(names = "--p99-limit-ms", paramLabel = "MS", defaultValue = "1000",
      description = "A step whose p99 from submission to ROD is above this ends the run (default ${DEFAULT-VALUE}).")
  long p99LimitMillis;

  // 2g, not less: a node started by `certmail node` has the JVM's default heap (a quarter of the
  // machine's memory), and at 512m the parallel collector stopped the nodes 3.2 times as long
  // (young collections every 1.3 s, full ones every 40 s: 42 s of pauses in 380 s against 13 s at
  // 2g), which this benchmark then reported as the network's limit (BENCHMARKS.md, issue 12).
  @Option(names = "--node-heap", paramLabel = "SIZE", defaultValue = "2g",
      description = "Heap of each node JVM, -Xms and -Xmx (default ${DEFAULT-VALUE}; three of them share the machine).")
  String nodeHeap;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Where the nodes' files and logs, load.json and load.svg go (default var/bench/load-<time>).")
  Path out;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final List<LocalCluster.Spec> NODES = List.of(
      new LocalCluster.Spec("alpha-1", "alpha.example"),
      new LocalCluster.Spec("relay-1", "relay.example"),
      new LocalCluster.Spec("beta-1", "beta.example"));
  private static final String SENDER = "alice@alpha.example";
  private static final String RECIPIENT = "bob@beta.example";
  private static final int WARMUP_ROUND_SECONDS = 20;
  /** Warm-up where the JIT's share cannot be read (no /proc). */
  private static final int BLIND_WARMUP_SECONDS = 60;
  /** Periods of 1 s whose median is the Ed25519 rate of the limits. */
  private static final int CRYPTO_PERIODS = 5;
  /** Mails per flavour sent one by one to count the signatures a mail costs. */
  private static final int CALIBRATION_MAILS_PER_FLAVOUR = 3;

  @Override
  public Integer call() throws Exception {
    if (!journal.equals("embedded") && !journal.equals("cassandra")) {
      throw new UserInputException("--journal is embedded or cassandra, not \"" + journal + "\"");
    }
    if (startRate <= 0 || factor <= 1 || maxRate < startRate || stepSeconds < 1 || drainSeconds < 0
        || warmupSeconds < 0 || warmupJitPercent < 0 || p99LimitMillis < 1 || bisections < 0) {
      throw new UserInputException("give --start-rate > 0, --factor > 1, --max-rate >= --start-rate,"
          + " --step-seconds >= 1, --drain-seconds, --warmup-seconds, --warmup-jit-percent and --bisections >= 0,"
          + " --p99-limit-ms >= 1");
    }
    PrintWriter say = spec.commandLine().getOut();
    Path dir = out != null ? out : Path.of("var", "bench", "load-" + Instant.now().toString().replace(':', '-'));
    Files.createDirectories(dir);
    int cores = Runtime.getRuntime().availableProcessors();
    say.printf(Locale.ROOT, "bench load: %d cores, journal %s, files in %s%n", cores, journal, dir);

    // The limits, measured before the network starts so that nothing else runs meanwhile.
    CryptoRates cryptoBefore = measureCrypto("before the network starts", say);
    Double cassandraWrites = null;
    if (journal.equals("cassandra")) {
      say.println("limits: raw Cassandra writes through the driver (10 s after 3 s warm-up) ...");
      say.flush();
      cassandraWrites = CassandraWriteBench.writesPerSecond("contact-point=" + contactPoint, "seconds=10",
          "warmup-seconds=3", "rows=10000000");
      say.printf(Locale.ROOT, "limits: Cassandra %.0f writes/s%n", cassandraWrites);
    }

    String runId = Long.toString(System.currentTimeMillis(), 36);
    Map<String, String> tokens = new LinkedHashMap<>();
    try (LocalCluster cluster = startNetwork(dir, runId, tokens, say)) {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
          .executor(Executors.newFixedThreadPool(4, runnable -> {
            Thread thread = new Thread(runnable, "bench-load-http");
            thread.setDaemon(true);
            return thread;
          })).build();
      LocalCluster.Node alpha = cluster.node("alpha-1");
      OpenLoopStep.Target target = new OpenLoopStep.Target(alpha.apiUri(), SENDER, tokens.get(SENDER), RECIPIENT);
      OpenLoopStep load = new OpenLoopStep(http, target, runId);

      // Signatures per mail, from the nodes' own counters around a few mails sent one at a time.
      say.println("limits: counting the signatures of " + 3 * CALIBRATION_MAILS_PER_FLAVOUR
          + " mails (every flavour, three servers) ...");
      say.flush();
      NodeTotals before = NodeTotals.scrape(http, cluster.nodes());
      // One mail at a time, each after the last one's ROD: no resend is due, so the count is a mail's own.
      int calibrationMails = 3 * CALIBRATION_MAILS_PER_FLAVOUR;
      for (int i = 0; i < calibrationMails; i++) {
        OpenLoopStep.Result one = load.run(-100 - i, 1, Duration.ofSeconds(1), Duration.ofSeconds(60), line -> { });
        if (one.delivered() != 1) {
          say.println("bench load: a calibration mail was not delivered within 60 s: see the node logs in " + dir);
          return 3;
        }
      }
      NodeTotals after = NodeTotals.scrape(http, cluster.nodes());
      double signsPerMail = (after.made() - before.made()) / calibrationMails;
      double verifiesPerMail = (after.checked() - before.checked()) / calibrationMails;
      say.printf(Locale.ROOT, "limits: %.1f signatures made and %.1f checked per mail -> crypto-bound %.0f mails/s"
          + " on %d cores (measured again after the steps)%n", signsPerMail, verifiesPerMail,
          cryptoBefore.mailsPerSecond(signsPerMail, verifiesPerMail, cores), cores);

      warmUp(load, cluster, say);

      say.println();
      say.println(" step  offered  achieved   submit->COP p50/p99/max ms   submit->ROD p50/p99/max ms   sig/mail"
          + "   CPU % of a core per node" + (journal.equals("cassandra") ? ", a local Cassandra" : "")
          + " and this load generator, JIT % of the nodes' CPU, GC: % of the step each node stood still");
      say.flush();
      List<StepFigures> steps = new ArrayList<>();
      StepFigures sustained = null;
      RateSearch search = new RateSearch(startRate, factor, maxRate, bisections);
      for (int step = 1; ; step++) {
        double rate = search.rate();
        Map<String, Duration> cpuBefore = cpu(cluster);
        Optional<Duration> jitBefore = BenchNetwork.jitCpu(cluster);
        NodeTotals totalsBefore = NodeTotals.scrape(http, cluster.nodes());
        long started = System.nanoTime();
        OpenLoopStep.Result result = load.run(step, rate, Duration.ofSeconds(stepSeconds),
            Duration.ofSeconds(drainSeconds), line -> {
              say.println(line);
              say.flush();
            });
        double wallSeconds = (System.nanoTime() - started) / 1e9;
        Map<String, Double> cpuPercent = new LinkedHashMap<>();
        cpu(cluster).forEach((node, total) -> cpuPercent.put(node,
            100.0 * (total.toNanos() - cpuBefore.getOrDefault(node, total).toNanos()) / 1e9 / wallSeconds));
        NodeTotals totalsAfter = NodeTotals.scrape(http, cluster.nodes());
        double signatures = totalsAfter.made() + totalsAfter.checked() - totalsBefore.made() - totalsBefore.checked();
        StepFigures figures = StepFigures.of(step, result, cpuPercent,
            jitPercent(cpuBefore, cpu(cluster), jitBefore, BenchNetwork.jitCpu(cluster)),
            result.delivered() == 0 ? 0 : signatures / result.delivered(),
            totalsAfter.gcPausePercent(totalsBefore, wallSeconds));
        steps.add(figures);
        say.println(figures.line());
        say.flush();
        boolean held = result.keptUp() && figures.rodP99() <= p99LimitMillis;
        if (held && (sustained == null || figures.offered() > sustained.offered())) {
          sustained = figures;
        }
        OptionalDouble next = search.next(held);
        if (next.isEmpty()) {
          if (!held) {
            say.println("  " + whyNotHeld(result, figures) + ": the search is over");
          }
          break;
        }
        if (!held) {
          say.printf(Locale.ROOT, "  %s: %.0f mails/s next (%s), after a pause of %d s for the backlog%n",
              whyNotHeld(result, figures), next.getAsDouble(),
              search.bisecting() ? "between the highest rate that held and this one" : "no step has held yet",
              BACKLOG_PAUSE.toSeconds());
          say.flush();
          Thread.sleep(BACKLOG_PAUSE.toMillis());
        }
      }

      // Once more with the nodes idle: this shared machine's speed drifts over a run (the same build's
      // verifications measured 6,029-10,004/s within an hour), and a limit taken in a slow moment
      // would flatter the ratio. The faster of the two is the limit.
      CryptoRates cryptoAfter = measureCrypto("after the steps, the nodes idle", say);
      CryptoRates crypto = cryptoBefore.fasterOf(cryptoAfter);
      double cryptoBound = crypto.mailsPerSecond(signsPerMail, verifiesPerMail, cores);
      say.printf(Locale.ROOT, "limits: the faster of the two, sign %.0f/s, verify %.0f/s per core -> crypto-bound"
          + " %.0f mails/s on %d cores%n", crypto.signPerSecond(), crypto.verifyPerSecond(), cryptoBound, cores);

      double sustainedRate = sustained == null ? 0 : sustained.offered();
      long sustainedP99 = sustained == null ? 0 : sustained.rodP99();
      Map<String, Object> report = new LinkedHashMap<>();
      report.put("cores", cores);
      report.put("journal", journal);
      report.put("ed25519SignPerSecond", crypto.signPerSecond());
      report.put("ed25519VerifyPerSecond", crypto.verifyPerSecond());
      report.put("ed25519Measurements", List.of(cryptoBefore, cryptoAfter));
      report.put("signaturesMadePerMail", signsPerMail);
      report.put("signaturesCheckedPerMail", verifiesPerMail);
      report.put("cryptoBoundMailsPerSecond", cryptoBound);
      report.put("cassandraWritesPerSecond", cassandraWrites);
      report.put("sustainedMailsPerSecond", sustainedRate);
      report.put("sustainedRodP99Millis", sustainedP99);
      report.put("ratioToCryptoBound", sustainedRate / cryptoBound);
      report.put("steps", steps);
      JSON.writeValue(dir.resolve("load.json").toFile(), report);
      Files.writeString(dir.resolve("load.svg"), LoadChart.svg(steps, p99LimitMillis), StandardCharsets.UTF_8);
      say.println();
      say.println("results: " + dir.resolve("load.json") + ", chart " + dir.resolve("load.svg"));
      say.printf(Locale.ROOT, "load: %.0f mails/s sustained (p99 %d ms), crypto-bound %.0f mails/s, ratio %.2f%n",
          sustainedRate, sustainedP99, cryptoBound, sustainedRate / cryptoBound);
      say.flush();
      return 0;
    }
  }

  /** Ed25519 signing and verifying on one core of this machine, said before and after. */
  private static CryptoRates measureCrypto(String when, PrintWriter say) throws VerificationException {
    say.println("limits: Ed25519 signatures on one core, " + when + " (median of " + CRYPTO_PERIODS
        + " periods of 1 s each, after a warm-up until the rate is steady) ...");
    say.flush();
    CryptoRates rates = CryptoRates.measureEd25519(Duration.ofSeconds(1), Duration.ofSeconds(1), CRYPTO_PERIODS);
    say.printf(Locale.ROOT, "limits: Ed25519 sign %.0f/s, verify %.0f/s per core%n", rates.signPerSecond(),
        rates.verifyPerSecond());
    say.flush();
    return rates;
  }

  private String whyNotHeld(OpenLoopStep.Result result, StepFigures figures) {
    return result.keptUp()
        ? "p99 submit->ROD " + figures.rodP99() + " ms, above " + p99LimitMillis + " ms"
        : "the network fell behind (" + result.unfinished() + " mails without verdict after the drain, "
            + result.failed() + " failed)";
  }

  /** Keys, tokens and the journal for the three nodes; then the nodes, started and ready. */
  private LocalCluster startNetwork(Path dir, String runId, Map<String, String> tokens, PrintWriter say)
      throws IOException, InterruptedException {
    String journalConfig = journal.equals("cassandra")
        ? """
          certmail.journal {
            backend = cassandra
            cassandra { contact-points = ["%s"], keyspace = "load_%s", snapshot-keyspace = "load_%s_snapshot",
                        schema-autocreate = on }
          }
          """.formatted(contactPoint, runId, runId)
        : BenchNetwork.embeddedJournal(dir);
    return BenchNetwork.start(dir, "bench/load-network.conf", NODES,
        List.of(new BenchNetwork.Mailbox(SENDER, "alpha-1"), new BenchNetwork.Mailbox(RECIPIENT, "beta-1")),
        "include classpath(\"bench/certmail-load.conf\")\n" + journalConfig, nodeHeap, Duration.ofMinutes(5), tokens, say);
  }

  /**
   * Load in rounds until the nodes' JIT compilers have mostly done their work: a step measured
   * while they compile measures them (30-50 % of the nodes' CPU three minutes into a run at 11
   * mails/s on 2 cores). The rounds start at the start rate and climb towards what the network
   * carries ({@link #nextWarmupRate}): code warmed at 10 mails/s is not the code that runs at 100
   * (on Cassandra, a warm-up held at 10 mails/s for 600 s left the JIT at 20-24 % of the nodes' CPU
   * in the steps at 88-115 mails/s, and the run ended at 88; warmed at 67, the same build held 159).
   * Then a pause, so that what the cold nodes left late concludes before step 1.
   */
  private void warmUp(OpenLoopStep load, LocalCluster cluster, PrintWriter say) throws InterruptedException {
    if (warmupSeconds <= 0) {
      return;
    }
    boolean blind = BenchNetwork.jitCpu(cluster).isEmpty();
    int longest = blind ? Math.min(warmupSeconds, BLIND_WARMUP_SECONDS) : warmupSeconds;
    say.printf(Locale.ROOT, "warm-up: from %.0f mails/s, %.2f times more after each round the network keeps up"
        + " with and less after one it does not, in rounds of %d s until the JIT uses less than %.0f %% of the"
        + " nodes' CPU, %d s at most (not measured) ...%n", startRate, factor,
        WARMUP_ROUND_SECONDS, warmupJitPercent, longest);
    if (blind) {
      say.println("warm-up: no /proc here to read the JIT's CPU from: " + longest + " s");
    }
    say.flush();
    int warmed = 0;
    double rate = startRate;
    for (int round = 1; warmed < longest; round++) {
      int seconds = Math.min(WARMUP_ROUND_SECONDS, longest - warmed);
      Map<String, Duration> cpuBefore = cpu(cluster);
      Optional<Duration> jitBefore = BenchNetwork.jitCpu(cluster);
      OpenLoopStep.Result result = load.run(-round, rate, Duration.ofSeconds(seconds), Duration.ofSeconds(drainSeconds),
          line -> { });
      warmed += seconds;
      double jit = jitPercent(cpuBefore, cpu(cluster), jitBefore, BenchNetwork.jitCpu(cluster));
      if (!result.keptUp()) {
        // Compiling nodes carry less: a backlog left to grow holds messages for minutes (their
        // envelopes then arrive stale) and the first steps would measure it.
        say.printf(Locale.ROOT, "warm-up: %d s, the network fell behind at %.0f mails/s (%.1f achieved, %d mails"
            + " without verdict): %.0f mails/s after a pause of %d s for the backlog%n", warmed, rate,
            result.achievedPerSecond(), result.unfinished() + result.failed(),
            nextWarmupRate(rate, false, factor, maxRate), BACKLOG_PAUSE.toSeconds());
        rate = nextWarmupRate(rate, false, factor, maxRate);
        say.flush();
        Thread.sleep(BACKLOG_PAUSE.toMillis());
        continue;
      }
      double keptUpAt = rate;
      rate = nextWarmupRate(rate, true, factor, maxRate);
      if (jit < 0) {
        continue;
      }
      say.printf(Locale.ROOT, "warm-up: %d s at %.0f mails/s, the JIT used %.0f %% of the nodes' CPU in the last %d s%n",
          warmed, keptUpAt, jit, seconds);
      say.flush();
      if (jit < warmupJitPercent) {
        break;
      }
      if (warmed >= longest) {
        say.printf(Locale.ROOT, "warm-up: the JIT still compiles after %d s: the steps measure some of it"
            + " (--warmup-seconds for longer)%n", warmed);
      }
    }
    Thread.sleep(BACKLOG_PAUSE.toMillis());
  }

  /**
   * The rate of the next warm-up round: up by the factor after a round the network kept up with
   * (never above --max-rate), down by it after one it fell behind in (compiling nodes carry less,
   * and a backlog left to grow would hold messages for minutes). The rounds settle around what the
   * network carries, where the measured steps end.
   */
  static double nextWarmupRate(double rate, boolean keptUp, double factor, double maxRate) {
    return keptUp ? Math.min(maxRate, Math.ceil(rate * factor)) : Math.max(1, Math.floor(rate / factor));
  }

  /** Keys of the CPU figures that are not nodes: a local Cassandra, and this process. */
  private static final String CASSANDRA = "cassandra";
  private static final String LOAD_GENERATOR = "load";

  /** The JIT compilers' share of the nodes' CPU (Cassandra's and the load generator's excluded) between two readings; -1 if unknown. */
  private static double jitPercent(Map<String, Duration> cpuBefore, Map<String, Duration> cpuAfter,
                                   Optional<Duration> jitBefore, Optional<Duration> jitAfter) {
    if (jitBefore.isEmpty() || jitAfter.isEmpty()) {
      return -1;
    }
    long nodes = 0;
    for (Map.Entry<String, Duration> node : cpuAfter.entrySet()) {
      if (!node.getKey().equals(CASSANDRA) && !node.getKey().equals(LOAD_GENERATOR)) {
        nodes += node.getValue().toNanos() - cpuBefore.getOrDefault(node.getKey(), node.getValue()).toNanos();
      }
    }
    return nodes <= 0 ? 0 : 100.0 * (jitAfter.get().toNanos() - jitBefore.get().toNanos()) / nodes;
  }

  /**
   * CPU time each node's JVM has used so far, and with --journal cassandra that of a Cassandra
   * running on this machine (found by its main class), and of this load generator, which share
   * the cores with the nodes.
   */
  private Map<String, Duration> cpu(LocalCluster cluster) {
    Map<String, Duration> totals = BenchNetwork.cpu(cluster);
    if (journal.equals("cassandra")) {
      ProcessHandle.allProcesses()
          .filter(process -> process.info().arguments().map(args -> List.of(args)
              .contains("org.apache.cassandra.service.CassandraDaemon")).orElse(false))
          .findFirst()
          .flatMap(process -> process.info().totalCpuDuration())
          .ifPresent(total -> totals.put(CASSANDRA, total));
    }
    // The load generator shares the cores too: its HTTP client and status requests are part of the machine's budget.
    ProcessHandle.current().info().totalCpuDuration().ifPresent(total -> totals.put(LOAD_GENERATOR, total));
    return totals;
  }

  /** One step's figures as printed and written to load.json. */
  record StepFigures(int step, double offered, double achieved, long submitted, long delivered, long failed,
                     long unfinished, long statusRequests, long copP50, long copP99, long copMax, long rodP50, long rodP99,
                     long rodMax, Map<String, Double> cpuPercent, double jitPercent, double signaturesPerMail,
                     Map<String, Double> gcPausePercent, long startedAtEpochMillis, List<Long> rodMaxMillisBySecond) {
    /**
     * @param signaturesPerMail signatures made and checked by the nodes during the step per mail
     *     delivered: above the calibration's figure, resends (the network was slower than retry-min)
     * @param jitPercent the JIT compilers' share of the nodes' CPU during the step; -1 if unknown
     * @param gcPausePercent per node, the share of the step its collector stopped it (a mail that
     *     crosses a node in a pause waits it out: the tail of the latencies)
     * @param rodMaxMillisBySecond per second of the step from {@code startedAtEpochMillis}, the longest
     *     submission to ROD of the mails due in it: where in the step the tail came from
     */
    static StepFigures of(int step, OpenLoopStep.Result result, Map<String, Double> cpuPercent, double jitPercent,
                          double signaturesPerMail, Map<String, Double> gcPausePercent) {
      Histogram cop = result.submitToCop();
      Histogram rod = result.submitToRod();
      return new StepFigures(step, result.offeredPerSecond(), result.achievedPerSecond(), result.submitted(),
          result.delivered(), result.failed(), result.unfinished(), result.statusRequests(),
          cop.getValueAtPercentile(50), cop.getValueAtPercentile(99), cop.getMaxValue(),
          rod.getValueAtPercentile(50), rod.getValueAtPercentile(99), rod.getMaxValue(), cpuPercent, jitPercent,
          signaturesPerMail, gcPausePercent, result.startedAtEpochMillis(),
          java.util.Arrays.stream(result.rodMaxBySecond()).boxed().toList());
    }

    String line() {
      StringBuilder cpu = new StringBuilder();
      cpuPercent.forEach((node, percent) -> cpu.append(String.format(Locale.ROOT, " %s %.0f", node, percent)));
      StringBuilder gc = new StringBuilder();
      gcPausePercent.forEach((node, percent) -> gc.append(String.format(Locale.ROOT, " %s %.1f", node, percent)));
      return String.format(Locale.ROOT, " %4d  %7.1f  %8.1f   %7d / %6d / %6d       %7d / %6d / %6d     %6.1f     %s",
          step, offered, achieved, copP50, copP99, copMax, rodP50, rodP99, rodMax, signaturesPerMail,
          cpu.toString().trim() + (jitPercent < 0 ? "" : String.format(Locale.ROOT, ", JIT %.0f", jitPercent))
              + (gc.isEmpty() ? "" : ", GC" + gc));
    }
  }

  /**
   * Signatures made and checked by all nodes so far, and the time each node's collector has stopped
   * it (Micrometer's jvm_gc_pause, every collector and cause), from their /metrics.
   */
  record NodeTotals(double made, double checked, Map<String, Double> gcPauseSeconds) {
    static NodeTotals scrape(HttpClient http, List<LocalCluster.Node> nodes) throws IOException, InterruptedException {
      Map<String, String> metrics = new LinkedHashMap<>();
      for (LocalCluster.Node node : nodes) {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(node.managementUri() + "/metrics"))
            .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        metrics.put(node.name(), response.body());
      }
      return of(metrics);
    }

    /** The totals in the nodes' Prometheus texts, by node name. */
    static NodeTotals of(Map<String, String> metricsByNode) {
      double made = 0;
      double checked = 0;
      Map<String, Double> gcPauseSeconds = new LinkedHashMap<>();
      for (Map.Entry<String, String> node : metricsByNode.entrySet()) {
        for (String line : node.getValue().split("\n")) {
          if (line.startsWith("certmail_signatures_total{")) {
            double value = valueOf(line);
            if (line.contains("operation=\"sign\"")) {
              made += value;
            } else if (line.contains("operation=\"verify\"")) {
              checked += value;
            }
          } else if (line.startsWith("jvm_gc_pause_seconds_sum{")) {
            gcPauseSeconds.merge(node.getKey(), valueOf(line), Double::sum);
          }
        }
      }
      return new NodeTotals(made, checked, gcPauseSeconds);
    }

    private static double valueOf(String sample) {
      return Double.parseDouble(sample.substring(sample.lastIndexOf(' ') + 1));
    }

    /** Per node, the share of {@code wallSeconds} since {@code before} that its collector stopped it, in percent. */
    Map<String, Double> gcPausePercent(NodeTotals before, double wallSeconds) {
      Map<String, Double> percent = new LinkedHashMap<>();
      gcPauseSeconds.forEach((node, seconds) -> percent.put(node,
          100.0 * (seconds - before.gcPauseSeconds().getOrDefault(node, 0.0)) / wallSeconds));
      return percent;
    }
  }
}
