package net.certmail.node.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.certmail.node.UserInputException;
import net.certmail.node.cluster.LocalCluster;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code certmail bench waiting}: what a waiting mail costs the nodes (it should be a stored row,
 * not a running actor), and how late the rows wake their entities when they come due.
 */
@Command(name = "waiting", mixinStandardHelpOptions = true,
    description = {
        "Measure what waiting mails cost: start the origin and the destination organisation as node JVMs"
            + " (alpha-1, beta-1; embedded journal), measure each node's idle CPU (its process CPU time over"
            + " a quiet window) and its heap after a full GC (jcmd GC.run, then GC.heap_info), create N NSR"
            + " mails from alice to bob, who holds them and never decides (T a day ahead), through the HTTP"
            + " API, wait until the entities have gone to sleep, and measure again.",
        "",
        "Then the wake-up lateness of due reminders: M more mails with T just over the minimum lead time,"
            + " whose destination and origin sleep until their cut-offs and wake from reminder rows; the"
            + " lateness of every wake-up is read from the nodes' certmail_reminders_lateness_seconds"
            + " histogram (the buckets' growth over the phase: p50 and p99 are bucket upper bounds) and its max.",
        "",
        "Then the same after a crash: a second node of the destination organisation (beta-2, sharing its"
            + " journal) joins, K more held mails with T 90 s ahead go to sleep, and the organisation's oldest"
            + " node (beta-1, which runs its reminder scanner and hosts shards of the mails) is killed with"
            + " SIGKILL; the split brain resolver downs it, beta-2 takes the scanner and the shards over, and the"
            + " lateness of the wake-ups beta-2 sends is read from its histogram as above. Prints how long the"
            + " takeover took.",
        "",
        "Prints per node idle CPU and heap before and after and heap bytes per waiting mail, then the"
            + " lateness, and ends with the line \"waiting: <N> mails, heap <B> bytes/mail, idle CPU +<P> pp,"
            + " wake p99 <X> ms, after a kill <Y> ms\" (heap and CPU: the node that grew most). Needs jcmd (a"
            + " JDK) on the PATH.",
        "The timings are the demo's with a two-day delivery timeout (bench/certmail-waiting.conf)."})
public final class WaitingBenchCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--mails", paramLabel = "N", defaultValue = "2000",
      description = "Waiting mails to create (default ${DEFAULT-VALUE}).")
  int mails;

  @Option(names = "--wake-mails", paramLabel = "M", defaultValue = "200",
      description = "Mails with a near deadline whose wake-ups are timed (default ${DEFAULT-VALUE}; 0 skips the phase).")
  int wakeMails;

  @Option(names = "--crash-mails", paramLabel = "K", defaultValue = "200",
      description = "Mails whose wake-ups are timed after their node was killed (default ${DEFAULT-VALUE}; 0 skips"
          + " the phase).")
  int crashMails;

  @Option(names = "--quiet-seconds", paramLabel = "S", defaultValue = "20",
      description = "Length of each idle CPU window (default ${DEFAULT-VALUE}).")
  int quietSeconds;

  @Option(names = "--concurrency", paramLabel = "C", defaultValue = "16",
      description = "Submissions in flight at once (default ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--node-heap", paramLabel = "SIZE", defaultValue = "1g",
      description = "Heap of each node JVM, -Xms and -Xmx (default ${DEFAULT-VALUE}).")
  String nodeHeap;

  @Option(names = "--start-minutes", paramLabel = "MIN", defaultValue = "10",
      description = "How long the node JVMs may take to start and join (default ${DEFAULT-VALUE}).")
  int startMinutes;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Where the nodes' files and logs and waiting.json go (default var/bench/waiting-<time>).")
  Path out;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<LocalCluster.Spec> NODES = List.of(
      new LocalCluster.Spec("alpha-1", "alpha.example"),
      new LocalCluster.Spec("beta-1", "beta.example"), new LocalCluster.Spec("beta-2", "beta.example"));
  /** The destination organisation's second node: it joins for the crash phase and survives it. */
  private static final String SURVIVOR = "beta-2";
  private static final String VICTIM = "beta-1";
  private static final String SENDER = "alice@alpha.example";
  private static final String RECIPIENT = "bob@beta.example";
  private static final long DAY_SECONDS = 86_400;
  /** Just over the demo timings' min-lead-time (25 s): the wake-up phase's mails. */
  private static final long NEAR_LEAD_SECONDS = 30;
  /**
   * The crash phase's lead: time to sleep, to be killed and taken over (failure detection and the
   * split brain resolver's stable-after, about 10 s) before the destination's cut-offs come due.
   */
  private static final long CRASH_LEAD_SECONDS = 90;
  private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");
  private static final String LATENESS = "certmail_reminders_lateness_seconds";

  @Override
  public Integer call() throws Exception {
    if (mails < 1 || wakeMails < 0 || crashMails < 0 || quietSeconds < 1 || concurrency < 1 || startMinutes < 1) {
      throw new UserInputException("give --mails >= 1, --wake-mails >= 0, --crash-mails >= 0, --quiet-seconds >= 1,"
          + " --concurrency >= 1, --start-minutes >= 1");
    }
    PrintWriter say = spec.commandLine().getOut();
    Path dir = out != null ? out : Path.of("var", "bench", "waiting-" + Instant.now().toString().replace(':', '-'));
    Files.createDirectories(dir);
    say.printf(Locale.ROOT, "bench waiting: %d mails, %d wake-up mails, %d crash mails, %d cores, files in %s%n",
        mails, wakeMails, crashMails, Runtime.getRuntime().availableProcessors(), dir);
    Map<String, String> tokens = new LinkedHashMap<>();
    String runId = Long.toString(System.currentTimeMillis(), 36);
    try (LocalCluster cluster = BenchNetwork.start(dir, "bench/waiting-network.conf", NODES, Set.of(SURVIVOR),
        List.of(new BenchNetwork.Mailbox(SENDER, "alpha-1"), new BenchNetwork.Mailbox(RECIPIENT, "beta-1")),
        node -> "include classpath(\"bench/certmail-waiting.conf\")\n" + BenchNetwork.organisationJournal(dir, node),
        nodeHeap, Duration.ofMinutes(startMinutes), tokens, say)) {
      // Two pools: the submitters block in HttpClient.send, whose own work must not wait for them.
      ExecutorService pool = Executors.newFixedThreadPool(concurrency, daemon("bench-waiting-submit"));
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
          .executor(Executors.newFixedThreadPool(4, daemon("bench-waiting-http"))).build();
      Mailer mailer = new Mailer(http, cluster.node("alpha-1").apiUri(), tokens.get(SENDER), runId);

      // A few mails first, so that the classes and caches a mail needs are loaded in both figures.
      say.println("warm-up: 20 waiting mails, then the nodes settle ...");
      say.flush();
      mailer.submit("warm", 20, DAY_SECONDS, pool, say);
      awaitAsleep(http, cluster, say);

      Map<String, NodeFigures> before = measure(cluster, "before", say);
      long started = System.nanoTime();
      mailer.submit("wait", mails, DAY_SECONDS, pool, say);
      say.printf(Locale.ROOT, "created %d waiting mails in %.0f s%n", mails, (System.nanoTime() - started) / 1e9);
      awaitAsleep(http, cluster, say);
      Map<String, NodeFigures> after = measure(cluster, "after", say);

      say.println();
      say.println(" node       idle CPU % of a core   heap after GC MB    heap bytes per waiting mail");
      double worstBytesPerMail = 0;
      double worstCpuPoints = Double.NEGATIVE_INFINITY;
      Map<String, Object> report = new LinkedHashMap<>();
      for (String node : before.keySet()) {
        NodeFigures b = before.get(node);
        NodeFigures a = after.get(node);
        double bytesPerMail = (double) (a.heapBytes() - b.heapBytes()) / mails;
        worstBytesPerMail = Math.max(worstBytesPerMail, bytesPerMail);
        worstCpuPoints = Math.max(worstCpuPoints, a.cpuPercent() - b.cpuPercent());
        say.printf(Locale.ROOT, " %-9s  %5.1f -> %5.1f (%+.1f pp)   %6.1f -> %6.1f    %8.0f%n", node,
            b.cpuPercent(), a.cpuPercent(), a.cpuPercent() - b.cpuPercent(), b.heapBytes() / 1e6,
            a.heapBytes() / 1e6, bytesPerMail);
        report.put(node, Map.of("before", b, "after", a, "heapBytesPerMail", bytesPerMail));
      }
      say.flush();

      Lateness lateness = Lateness.NONE;
      if (wakeMails > 0) {
        lateness = wakeUps(http, cluster, mailer, pool, say);
      }
      Lateness afterKill = Lateness.NONE;
      if (crashMails > 0) {
        afterKill = wakeUpsAfterAKill(http, cluster, mailer, pool, say);
      }
      report.put("mails", mails);
      report.put("wakeUps", lateness);
      report.put("wakeUpsAfterAKill", afterKill);
      JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("waiting.json").toFile(), report);
      say.println();
      say.println("results: " + dir.resolve("waiting.json"));
      say.printf(Locale.ROOT, "waiting: %d mails, heap %.0f bytes/mail, idle CPU %+.1f pp, wake p99 %s ms, after a kill"
          + " %s ms%n", mails, worstBytesPerMail, worstCpuPoints, lateness.p99Text(), afterKill.p99Text());
      say.flush();
      pool.shutdownNow();
      return 0;
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  // ---- the cost of waiting ----

  record NodeFigures(double cpuPercent, long heapBytes) {}

  /** Idle CPU of every node over one quiet window (all at once), then each node's heap after a full GC. */
  private Map<String, NodeFigures> measure(LocalCluster cluster, String when, PrintWriter say)
      throws IOException, InterruptedException {
    say.printf(Locale.ROOT, "%s: idle CPU over %d s, then heap after a full GC ...%n", when, quietSeconds);
    say.flush();
    Map<String, Duration> cpuBefore = BenchNetwork.cpu(cluster);
    long started = System.nanoTime();
    Thread.sleep(quietSeconds * 1000L);
    Map<String, Duration> cpuAfter = BenchNetwork.cpu(cluster);
    double wallSeconds = (System.nanoTime() - started) / 1e9;
    Map<String, NodeFigures> figures = new LinkedHashMap<>();
    for (LocalCluster.Node node : cluster.running()) {
      double cpu = 100.0 * (cpuAfter.get(node.name()).toNanos() - cpuBefore.get(node.name()).toNanos()) / 1e9
          / wallSeconds;
      figures.put(node.name(), new NodeFigures(cpu, heapAfterFullGc(node)));
      say.printf(Locale.ROOT, "%s: %s idle CPU %.1f%% of a core, heap after GC %.1f MB%n", when, node.name(), cpu,
          figures.get(node.name()).heapBytes() / 1e6);
    }
    say.flush();
    return figures;
  }

  /** The node's used heap right after a full GC, as its JVM reports it (jcmd GC.run, GC.heap_info). */
  private static long heapAfterFullGc(LocalCluster.Node node) throws IOException, InterruptedException {
    jcmd(node, "GC.run");
    String info = jcmd(node, "GC.heap_info");
    Matcher used = HEAP_USED.matcher(info);
    if (!used.find()) {
      throw new IOException("jcmd " + node.pid() + " GC.heap_info printed no \"used <n>K\": " + info);
    }
    return Long.parseLong(used.group(1)) * 1024;
  }

  private static String jcmd(LocalCluster.Node node, String command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder("jcmd", Long.toString(node.pid()), command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("jcmd " + node.pid() + " " + command + " failed (is a JDK's jcmd on the PATH?): " + output);
    }
    return output;
  }

  /**
   * Waits until the nodes' active entities stop falling: every waiting entity has persisted its
   * next due instant and passivated. Gives up after five minutes and says so; the figures then
   * include entities still awake.
   */
  private static void awaitAsleep(HttpClient http, LocalCluster cluster, PrintWriter say)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    double last = Double.MAX_VALUE;
    int steady = 0;
    while (System.nanoTime() < deadline) {
      double active = 0;
      for (LocalCluster.Node node : cluster.running()) {
        active += Metrics.scrape(http, node).sum("certmail_entities_active");
      }
      say.printf(Locale.ROOT, "settling: %.0f entities awake%n", active);
      say.flush();
      steady = active >= last ? steady + 1 : 0;
      if (active == 0 || steady >= 3) {
        return;
      }
      last = active;
      Thread.sleep(5_000);
    }
    say.println("settling: entities still awake after 5 minutes; measuring anyway");
  }

  // ---- how late due reminders wake their entities ----

  record Lateness(long count, long p50Millis, long p99Millis, long maxMillis) {
    static final Lateness NONE = new Lateness(0, 0, 0, 0);

    String p99Text() {
      return count == 0 ? "n/a" : Long.toString(p99Millis);
    }
  }

  /**
   * M mails with T just over the minimum lead: their entities go to sleep (bob holds them) and
   * wake from reminder rows at the destination's delivery cut-off and the origin's verdict
   * cut-off. Lateness over the phase from the growth of the nodes' lateness histograms.
   */
  private Lateness wakeUps(HttpClient http, LocalCluster cluster, Mailer mailer, ExecutorService pool, PrintWriter say)
      throws Exception {
    say.println();
    say.printf(Locale.ROOT, "wake-ups: %d mails with T in %d s, held by bob; their reminders come due at the"
        + " cut-offs ...%n", wakeMails, NEAR_LEAD_SECONDS);
    say.flush();
    List<LocalCluster.Node> nodes = cluster.running();
    Map<Double, Double> bucketsBefore = latenessBuckets(http, nodes, "");
    List<String> ids = mailer.submit("near", wakeMails, NEAR_LEAD_SECONDS, pool, say);
    long concluded = awaitConcluded(mailer, ids, NEAR_LEAD_SECONDS + 120, "wake-ups", say);
    Lateness lateness = latenessSince(http, nodes, "", bucketsBefore);
    say.printf(Locale.ROOT, "wake-ups: %d of %d mails concluded; %d reminders fired, lateness p50 <= %d ms,"
        + " p99 <= %d ms, max %d ms%n", concluded, ids.size(), lateness.count(), lateness.p50Millis(),
        lateness.p99Millis(), lateness.maxMillis());
    say.flush();
    return lateness;
  }

  /**
   * K mails held by bob with T {@link #CRASH_LEAD_SECONDS} ahead, after beta-2 joined beta.example;
   * once their entities sleep, beta-1 (the organisation's oldest node: its reminder scanner, and
   * shards of the mails) is killed. The lateness of the wake-ups beta-2 sends for beta.example
   * from then on, from the growth of its histogram.
   */
  private Lateness wakeUpsAfterAKill(HttpClient http, LocalCluster cluster, Mailer mailer, ExecutorService pool,
                                     PrintWriter say) throws Exception {
    LocalCluster.Node survivor = cluster.node(SURVIVOR);
    LocalCluster.Node victim = cluster.node(VICTIM);
    String organisation = survivor.organisation();
    say.println();
    say.printf(Locale.ROOT, "after a kill: %s joins %s (it shares the organisation's journal) ...%n", SURVIVOR,
        organisation);
    say.flush();
    cluster.restart(survivor, Duration.ofMinutes(startMinutes));
    List<LocalCluster.Node> survivors = List.of(survivor);
    Map<Double, Double> bucketsBefore = latenessBuckets(http, survivors, organisation);
    say.printf(Locale.ROOT, "after a kill: %d mails with T in %d s, held by bob ...%n", crashMails,
        CRASH_LEAD_SECONDS);
    say.flush();
    long submitted = System.nanoTime();
    List<String> ids = mailer.submit("kill", crashMails, CRASH_LEAD_SECONDS, pool, say);
    awaitAsleep(http, cluster, say);
    say.printf(Locale.ROOT, "after a kill: kill -9 of %s, which runs %s's reminder scanner, %.0f s after the"
        + " submissions began ...%n", VICTIM, organisation, (System.nanoTime() - submitted) / 1e9);
    say.flush();
    long killed = System.nanoTime();
    cluster.kill(victim);
    double takeoverSeconds = Double.NaN;
    while (System.nanoTime() - killed < TimeUnit.MINUTES.toNanos(2)) {
      if (Metrics.scrape(http, survivor).only(organisation).sum("certmail_reminders_waiting") > 0) {
        takeoverSeconds = (System.nanoTime() - killed) / 1e9;
        break;
      }
      Thread.sleep(250);
    }
    say.printf(Locale.ROOT, "after a kill: %s's reminder scanner runs on %s %s after the kill; T is %.0f s after"
        + " it%n", organisation, SURVIVOR, Double.isNaN(takeoverSeconds) ? "not within 2 minutes"
        : String.format(Locale.ROOT, "%.1f s", takeoverSeconds), CRASH_LEAD_SECONDS - (killed - submitted) / 1e9);
    say.flush();
    long concluded = awaitConcluded(mailer, ids, CRASH_LEAD_SECONDS + 120, "after a kill", say);
    Lateness lateness = latenessSince(http, survivors, organisation, bucketsBefore);
    say.printf(Locale.ROOT, "after a kill: %d of %d mails concluded; %d reminders fired on %s, lateness p50 <= %d ms,"
        + " p99 <= %d ms, max %d ms%n", concluded, ids.size(), lateness.count(), SURVIVOR, lateness.p50Millis(),
        lateness.p99Millis(), lateness.maxMillis());
    say.flush();
    return lateness;
  }

  /** Polls the mails' status every 5 s until all have their outcome or {@code seconds} passed; how many have. */
  private static long awaitConcluded(Mailer mailer, List<String> ids, long seconds, String phase, PrintWriter say)
      throws IOException, InterruptedException {
    long concluded = 0;
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < giveUp) {
      concluded = mailer.concluded(ids);
      say.printf(Locale.ROOT, "%s: %d/%d mails concluded%n", phase, concluded, ids.size());
      say.flush();
      if (concluded == ids.size()) {
        break;
      }
      Thread.sleep(5_000);
    }
    Thread.sleep(2_000); // the scanners' last wake-ups of rows the verdicts left behind
    return concluded;
  }

  /** The lateness of the wake-ups the nodes sent since {@code bucketsBefore} was read. */
  private static Lateness latenessSince(HttpClient http, List<LocalCluster.Node> nodes, String organisation,
                                        Map<Double, Double> bucketsBefore) throws IOException, InterruptedException {
    Map<Double, Double> bucketsAfter = latenessBuckets(http, nodes, organisation);
    TreeMap<Double, Double> grown = new TreeMap<>();
    bucketsAfter.forEach((le, count) -> grown.put(le, count - bucketsBefore.getOrDefault(le, 0.0)));
    double total = grown.isEmpty() ? 0 : grown.lastEntry().getValue();
    double max = 0;
    for (LocalCluster.Node node : nodes) {
      max = Math.max(max, Metrics.scrape(http, node).only(organisation).max(LATENESS + "_max"));
    }
    return new Lateness((long) total, millis(quantile(grown, total, 0.5)), millis(quantile(grown, total, 0.99)),
        millis(max));
  }

  /**
   * The nodes' lateness histograms summed (of one organisation's wake-ups, or all for ""):
   * cumulative count per bucket upper bound (seconds).
   */
  private static Map<Double, Double> latenessBuckets(HttpClient http, List<LocalCluster.Node> nodes,
                                                     String organisation) throws IOException, InterruptedException {
    Map<Double, Double> buckets = new TreeMap<>();
    for (LocalCluster.Node node : nodes) {
      Metrics.scrape(http, node).only(organisation).buckets(LATENESS + "_bucket")
          .forEach((le, count) -> buckets.merge(le, count, Double::sum));
    }
    return buckets;
  }

  /** The smallest bucket bound under which {@code q} of the observations fall. */
  static double quantile(TreeMap<Double, Double> cumulative, double total, double q) {
    for (Map.Entry<Double, Double> bucket : cumulative.entrySet()) {
      if (bucket.getValue() >= q * total) {
        return bucket.getKey();
      }
    }
    return Double.POSITIVE_INFINITY;
  }

  private static long millis(double seconds) {
    return Double.isInfinite(seconds) ? Long.MAX_VALUE : Math.round(seconds * 1000);
  }

  // ---- the HTTP API ----

  /** Submits mails from alice to bob through alpha's API, C at a time, with progress. */
  private record Mailer(HttpClient http, String api, String token, String runId) {

    List<String> submit(String prefix, int count, long leadSeconds, ExecutorService pool, PrintWriter say)
        throws InterruptedException, IOException {
      AtomicLong done = new AtomicLong();
      List<String> ids = new ArrayList<>();
      List<Future<?>> sent = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String id = runId + "-" + prefix + "-" + i;
        ids.add(id);
        sent.add(pool.submit(() -> {
          post(id, leadSeconds);
          done.incrementAndGet();
          return null;
        }));
      }
      long lastReport = System.nanoTime();
      for (Future<?> future : sent) {
        try {
          future.get();
        } catch (java.util.concurrent.ExecutionException e) {
          pool.shutdownNow();
          throw new IOException("a submission failed: " + e.getCause().getMessage()
              + " (see the node logs under the --out directory)", e.getCause());
        }
        if (System.nanoTime() - lastReport > TimeUnit.SECONDS.toNanos(5)) {
          say.printf(Locale.ROOT, "submitting: %d/%d%n", done.get(), count);
          say.flush();
          lastReport = System.nanoTime();
        }
      }
      return ids;
    }

    private void post(String id, long leadSeconds) throws IOException, InterruptedException {
      // An absolute deadline, fixed once: a retry after a timeout is then the same submission, not a conflict.
      Instant deadline = Instant.now().plusSeconds(leadSeconds).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
      String body = "{\"recipient\":\"" + RECIPIENT + "\",\"subject\":\"waiting " + id
          + "\",\"body\":\"A certified mail bob will hold.\",\"flavour\":\"NSR\",\"deadline\":\"" + deadline + "\"}";
      for (int attempt = 1; ; attempt++) {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/mailboxes/" + SENDER
                + "/outbox")).timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json").header("Idempotency-Key", id)
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 == 2) {
          return;
        }
        if (attempt >= 5 || response.statusCode() / 100 == 4 && response.statusCode() != 429) {
          throw new IOException("submission " + id + ": HTTP " + response.statusCode() + " " + response.body());
        }
        Thread.sleep(1_000L * attempt); // the same Idempotency-Key: a retry is the same submission
      }
    }

    /** How many of the mails have their outcome (any state but the waiting ones). */
    long concluded(List<String> ids) throws IOException, InterruptedException {
      long concluded = 0;
      for (String id : ids) {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/mailboxes/" + SENDER
            + "/outbox/" + id)).timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + token).GET()
            .build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          String state = JSON.readTree(response.body()).path("status").asText();
          if (List.of("DELIVERED", "NOT_DELIVERED", "LOST", "NOT_POSTED").contains(state)) {
            concluded++;
          }
        }
      }
      return concluded;
    }
  }

  /** One node's Prometheus exposition. */
  record Metrics(List<String> lines) {
    static Metrics scrape(HttpClient http, LocalCluster.Node node) throws IOException, InterruptedException {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(node.managementUri() + "/metrics"))
          .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
      return new Metrics(List.of(response.body().split("\n")));
    }

    /** The series of one organisation (all when it is ""). */
    Metrics only(String organisation) {
      if (organisation.isEmpty()) {
        return this;
      }
      String label = "organisation=\"" + organisation + "\"";
      return new Metrics(lines.stream().filter(line -> line.contains(label)).toList());
    }

    double sum(String name) {
      return lines.stream().filter(line -> line.startsWith(name + "{") || line.startsWith(name + " "))
          .mapToDouble(Metrics::value).sum();
    }

    double max(String name) {
      return lines.stream().filter(line -> line.startsWith(name + "{") || line.startsWith(name + " "))
          .mapToDouble(Metrics::value).max().orElse(0);
    }

    /** Cumulative bucket counts by upper bound, summed over the series' other labels. */
    Map<Double, Double> buckets(String name) {
      Map<Double, Double> buckets = new TreeMap<>();
      Pattern le = Pattern.compile("le=\"([^\"]+)\"");
      for (String line : lines) {
        if (line.startsWith(name + "{")) {
          Matcher bound = le.matcher(line);
          if (bound.find()) {
            double upper = bound.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound.group(1));
            buckets.merge(upper, value(line), Double::sum);
          }
        }
      }
      return buckets;
    }

    private static double value(String line) {
      return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
  }
}
