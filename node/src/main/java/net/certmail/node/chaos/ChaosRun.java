package net.certmail.node.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import net.certmail.actors.EngineSettings;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.NetworkDescription;
import net.certmail.node.CertmailCli;
import net.certmail.node.cluster.LocalCluster;
import net.certmail.node.http.TokenStore;
import net.certmail.protocol.Timings;

/**
 * One chaos run: the network's keys, five node JVMs, the workload and the nemesis for the given
 * duration, the drain until every deadline has passed, the audit of the journal, the checker, and
 * the report. {@code ChaosCommand} is its command line.
 */
public final class ChaosRun {
  /** What the command line chose. */
  public record Options(Duration duration, long seed, String journal, Path dir, Path report, double rate,
                        int cassandraPort, Path cassandraScript, boolean cassandraFaults, List<String> jvmOptions) {}

  /** The outcome: the text report's last line and whether it passed. */
  public record Result(String lastLine, int violations) {}

  static final List<LocalCluster.Spec> NODES = List.of(
      new LocalCluster.Spec("alpha-1", "alpha.example"), new LocalCluster.Spec("relay-1", "relay.example"),
      new LocalCluster.Spec("beta-1", "beta.example"), new LocalCluster.Spec("alpha-2", "alpha.example"),
      new LocalCluster.Spec("beta-2", "beta.example"));
  static final List<String> MAILBOXES = List.of("alice@alpha.example", "anna@alpha.example", "abby@alpha.example",
      "adam@alpha.example", "bob@beta.example", "carol@beta.example", "dave@beta.example");

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private final Options options;
  private final Consumer<String> out;

  public ChaosRun(Options options, Consumer<String> out) {
    this.options = options;
    this.out = out;
  }

  /** The engine settings every chaos node runs with (EngineSettings checks them as a node does). */
  public static EngineSettings engineSettings() {
    return EngineSettings.fromConfig(nodeSettings());
  }

  /** Every chaos node's settings, as far as they are the same for all (chaos/certmail-chaos.conf over the defaults). */
  static Config nodeSettings() {
    return ConfigFactory.parseResources(ChaosRun.class.getClassLoader(), "chaos/certmail-chaos.conf")
        .withFallback(ConfigFactory.defaultReference(ChaosRun.class.getClassLoader())).resolve();
  }

  public Result run() throws Exception {
    Path dir = options.dir();
    Files.createDirectories(dir);
    EngineSettings settings = engineSettings();
    Timings timings = settings.timings();
    long minLead = settings.submissionPolicy().minLeadTime().toMillis();
    say("chaos: seed " + options.seed() + ", " + options.duration().toSeconds() + " s of mails, journal "
        + options.journal() + ", in " + dir);
    say("chaos: time model: clock-skew " + Timings.show(timings.clockSkew()) + ", max-transit "
        + Timings.show(timings.maxTransit()) + ", min-lead-time " + minLead / 1000 + " s, grace "
        + Timings.show(timings.grace()) + " (chaos/certmail-chaos.conf)");

    // Keys and tokens.
    NetworkDescription network;
    try (InputStream in = ChaosRun.class.getClassLoader().getResourceAsStream("chaos/chaos-network.conf")) {
      network = NetworkDescription.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    Path keys = dir.resolve("keys");
    KeyDirectory.initNetwork(network, keys, new KeyDirectory.InitOptions(KeyDirectory.InitOptions.defaults().algorithm(),
        Duration.ofDays(30), Clock.systemUTC(), false, line -> { }));
    Map<String, Map<String, String>> tokens = new HashMap<>();
    for (LocalCluster.Spec spec : NODES) {
      Map<String, String> forNode = new HashMap<>();
      for (String mailbox : MAILBOXES) {
        if (mailbox.endsWith("@" + spec.organisation())) {
          forNode.put(mailbox, TokenStore.issue(keys.resolve(spec.name()), mailbox));
        }
      }
      tokens.put(spec.name(), forNode);
    }

    // The journal.
    boolean startedCassandra = false;
    Path script = null;
    String keyspace = "chaos_" + options.seed() + "_" + Long.toString(System.currentTimeMillis(), 36);
    String journalConfig;
    if ("cassandra".equals(options.journal())) {
      if (!cqlAnswers(options.cassandraPort())) {
        say("chaos: no Cassandra on 127.0.0.1:" + options.cassandraPort() + ": starting one with "
            + options.cassandraScript() + " start (as the test command does)");
        runScript(options.cassandraScript(), "start", dir);
        startedCassandra = true;
      }
      // Journal faults only on a Cassandra that is the run's own: one it started, or one the caller
      // declares its alone; and in both cases one the script can stop and start again.
      boolean owned = (startedCassandra || options.cassandraFaults())
          && scriptOwnsCassandra(options.cassandraScript(), dir);
      if (owned) {
        script = options.cassandraScript();
      } else {
        say("chaos: the Cassandra on port " + options.cassandraPort() + " is used but never stopped (no journal"
            + " faults): " + (options.cassandraFaults() ? options.cassandraScript() + " with this environment does"
            + " not report it as its own" : "the run did not start it and --cassandra-faults was not given")
            + ". For journal faults run one of your own: CASSANDRA_DIR=var/cassandra-chaos CASSANDRA_CQL_PORT=19042"
            + " CASSANDRA_STORAGE_PORT=17000 CASSANDRA_JMX_PORT=17199 scripts/cassandra.sh start, then"
            + " certmail chaos ... --cassandra-faults");
      }
      journalConfig = """
          certmail.journal {
            backend = cassandra
            cassandra { contact-points = ["127.0.0.1:%d"], keyspace = "%s", snapshot-keyspace = "%s_snapshot",
                        schema-autocreate = on }
          }
          """.formatted(options.cassandraPort(), keyspace, keyspace);
    } else {
      journalConfig = """
          certmail.journal { backend = embedded, embedded.path = "%s", embedded.auto-server = true }
          """.formatted(dir.resolve("journal").resolve("certmail").toString().replace("\\", "/"));
    }
    String common = "include classpath(\"chaos/certmail-chaos.conf\")\n" + journalConfig;

    // The client blocks (up to 15 s per node while one is down or paused): with too few threads the
    // follow-ups of a 60-minute run fell minutes behind on a saturated machine. Threads that wait
    // on a socket cost little; 64 keep submissions on time while a few dozen calls hang.
    ScheduledExecutorService executor = Executors.newScheduledThreadPool(64, runnable -> {
      Thread thread = new Thread(runnable, "chaos-workload");
      thread.setDaemon(true);
      return thread;
    });
    LocalCluster cluster = new LocalCluster(dir.resolve("nodes"), keys, NODES, common, options.jvmOptions());
    History history = null;
    Workload workload = null;
    Nemesis nemesis = null;
    try {
      say("chaos: starting " + NODES.size() + " node JVMs (alpha.example x2, relay.example x1, beta.example x2) ...");
      long startAt = System.nanoTime();
      cluster.start(Duration.ofMinutes(10)); // an idle 2-core machine needs about a minute
      say("chaos: cluster ready after " + (System.nanoTime() - startAt) / 1_000_000_000 + " s: "
          + String.join(", ", cluster.nodes().stream().map(n -> n.name() + " " + n.apiUri()).toList()));
      // Times in the history and the report count from here: the first mail.
      history = new History(dir.resolve("history.jsonl"));

      ChaosClient client = new ChaosClient(history, node -> tokens.get(node.name()));
      workload = new Workload(cluster, client, history, timings, executor);
      int mails = (int) Math.max(1, Math.round(options.duration().toMillis() / 1000.0 * options.rate()));
      long interval = Math.round(1000 / options.rate());
      List<MailPlan> plans = MailPlan.plans(options.seed(), mails, minLead);
      long begin = history.now();
      long until = begin + options.duration().toMillis();
      workload.start(plans, interval);
      Workload running = workload;
      nemesis = new Nemesis(cluster, history, options.seed(), timings, () -> running.records().stream()
          .filter(MailRecord::inFlight).toList(), script, dir,
          nodeSettings().getDuration("pekko.cluster.failure-detector.acceptable-heartbeat-pause").toMillis(),
          nodeSettings().getDuration("pekko.cluster.split-brain-resolver.stable-after").toMillis(), this::say);
      Nemesis chaos = nemesis;
      Thread nemesisThread = new Thread(() -> {
        try {
          chaos.run(until);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "chaos-nemesis");
      nemesisThread.start();

      // Progress while mails flow, then while the last deadlines pass.
      long lastBound = 0;
      while (true) {
        Thread.sleep(10_000);
        List<MailRecord> records = workload.started();
        long now = history.now();
        long finals = records.stream().filter(MailRecord::isFinal).count();
        long done = records.stream().filter(r -> r.done).count();
        long up = cluster.nodes().stream().filter(n -> n.alive() && !n.paused()).count();
        say(String.format("chaos: %4d s  mails %d submitted, %d with a verdict, %d in flight; faults %d; nodes up %d/%d",
            (now - begin) / 1000, records.size(), finals, records.stream().filter(MailRecord::inFlight).count(),
            nemesis.faults().size(), up, NODES.size()));
        // As a process supervisor would: a node that ended by itself (downed by the resolver, say)
        // is started again, also while the nemesis is between faults.
        nemesis.restartTheDead();
        if (now >= until && nemesisThread.isAlive()) {
          continue;
        }
        if (now >= until) {
          if (lastBound == 0) {
            nemesis.healAll();
            lastBound = workload.records().stream().filter(r -> r.firstSubmitAt > 0)
                .mapToLong(r -> running.verdictBound(r.deadline)).max().orElse(now) + 30_000;
            say("chaos: workload over; faults healed; waiting for the last verdicts (until T + grace + skew + transit"
                + " of the last mail, " + Math.max(0, lastBound - now) / 1000 + " s at most)");
          }
          if (done == records.size() && records.size() == plans.size() || now > lastBound) {
            break;
          }
        }
      }
      workload.stop();
      nemesis.stop();
      // Whatever the follow-ups missed is read once more, the faults healed (when the workload ended).
      workload.sweep(Duration.ofMinutes(5), this::say);
    } finally {
      if (nemesis != null) {
        nemesis.stop();
      }
      if (workload != null) {
        workload.stop();
      }
      executor.shutdownNow();
      executor.awaitTermination(30, TimeUnit.SECONDS);
      cluster.close();
      if (history != null) {
        history.close();
      }
    }

    // The audit of the journal, then the checker.
    say("chaos: nodes stopped; auditing the journal ...");
    Path auditFile = dir.resolve("audit.json");
    List<String> audit = new ArrayList<>(List.of("audit", "--journal", options.journal(), "--keys",
        keys.resolve("alpha-1").toString(), "--report", auditFile.toString(), "--now", Instant.now().toString()));
    if ("cassandra".equals(options.journal())) {
      audit.addAll(List.of("--contact-points", "127.0.0.1:" + options.cassandraPort(), "--keyspace", keyspace));
    } else {
      audit.addAll(List.of("--journal-path", dir.resolve("journal").resolve("certmail").toString()));
    }
    StringWriter auditOut = new StringWriter();
    var auditCommand = CertmailCli.commandLine();
    auditCommand.setOut(new PrintWriter(auditOut));
    auditCommand.setErr(new PrintWriter(auditOut));
    int auditExit = auditCommand.execute(audit.toArray(String[]::new));
    Files.writeString(dir.resolve("audit.txt"), auditOut.toString());
    JsonNode auditReport = Files.exists(auditFile) ? JSON.readTree(auditFile.toFile()) : null;
    say("chaos: audit exit " + auditExit + ": " + lastLines(auditOut.toString(), 2));
    if (startedCassandra) {
      runScript(options.cassandraScript(), "stop", dir);
    }

    KeyDirectory.Loaded loaded = KeyDirectory.load(keys.resolve("alpha-1"));
    Checker checker = new Checker(new EvidenceVerifier(loaded.trustStore()), workload, timings.grace().toMillis(),
        history.ops());
    List<MailRecord> records = workload.started();
    List<Checker.Violation> violations = checker.check(records, auditReport);
    return report(records, nemesis.faults(), violations, history, auditReport, timings);
  }

  private Result report(List<MailRecord> records, List<Fault> faults, List<Checker.Violation> violations,
                        History history, JsonNode audit, Timings timings) throws IOException {
    long start = history.startWall();
    Map<String, Map<String, Integer>> byFlavour = new TreeMap<>();
    Map<String, Integer> byOutcome = new TreeMap<>();
    for (MailRecord record : records) {
      String outcome = record.finalStatus != null ? record.finalStatus.path("status").asText()
          + (record.finalStatus.path("reason").asText("").isEmpty() ? "" : " " + record.finalStatus.path("reason").asText())
          : record.submitRefused != null ? "REQUEST_REFUSED " + record.submitRefused : "NO_VERDICT";
      byFlavour.computeIfAbsent(record.plan.flavour(), f -> new TreeMap<>()).merge(outcome, 1, Integer::sum);
      byOutcome.merge(outcome.split(" ")[0], 1, Integer::sum);
    }
    List<String> text = new ArrayList<>();
    List<Map<String, Object>> faultJson = new ArrayList<>();
    Map<String, Integer> kinds = new TreeMap<>();
    text.add("== certmail chaos report: seed " + options.seed() + ", " + options.duration().toSeconds() + " s, journal "
        + options.journal() + " ==");
    text.add("mails by flavour and outcome:");
    byFlavour.forEach((flavour, outcomes) -> text.add("  " + flavour + ": " + outcomes));
    text.add("faults (times from the start; whole = every node up and ready again; first verdict = the first"
        + " verdict any client saw after the fault ended):");
    for (Fault fault : faults) {
      kinds.merge(fault.kind, 1, Integer::sum);
      long firstVerdict = records.stream().filter(r -> r.finalStatus != null && r.finalSeenAt >= fault.endedAt
              && fault.endedAt > 0).mapToLong(r -> r.finalSeenAt).min().orElse(-1);
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("kind", fault.kind);
      f.put("target", fault.target);
      f.put("detail", fault.detail);
      f.put("startSeconds", (fault.startedAt - start) / 1000.0);
      f.put("endSeconds", fault.endedAt == 0 ? null : (fault.endedAt - start) / 1000.0);
      f.put("wholeAfterSeconds", fault.wholeAt == 0 ? null : (fault.wholeAt - fault.startedAt) / 1000.0);
      f.put("firstVerdictAfterSeconds", firstVerdict < 0 ? null : (firstVerdict - fault.endedAt) / 1000.0);
      faultJson.add(f);
      text.add(String.format("  %7.1f s  %-17s %-8s ended %s, whole after %s, first verdict %s  %s",
          (fault.startedAt - start) / 1000.0, fault.kind, fault.target,
          fault.endedAt == 0 ? "-" : String.format("%.1f s", (fault.endedAt - start) / 1000.0),
          fault.wholeAt == 0 ? "-" : String.format("%.1f s", (fault.wholeAt - fault.startedAt) / 1000.0),
          firstVerdict < 0 ? "none" : String.format("%.1f s after", (firstVerdict - fault.endedAt) / 1000.0), fault.detail));
    }
    text.add("audit: " + (audit == null ? "no report" : (audit.path("passed").asBoolean() ? "PASSED" : "FAILED")
        + ", " + audit.path("labels").asText() + " labels, " + audit.path("evidenceVerified").asText()
        + " evidence items verified"));
    text.add("violations: " + violations.size());
    for (Checker.Violation v : violations) {
      text.add("  " + v.rule() + ": label " + (v.label().isEmpty() ? "(none)" : v.label()) + ", mail " + v.mail() + ": "
          + v.detail());
      for (String line : v.trace()) {
        text.add("      " + line);
      }
    }
    String kindList = String.join(", ", kinds.keySet());
    String last = "chaos: " + records.size() + " mails, " + faults.size() + " faults (" + kindList + "), violations "
        + violations.size();

    Map<String, Object> json = new LinkedHashMap<>();
    json.put("seed", options.seed());
    json.put("durationSeconds", options.duration().toSeconds());
    json.put("journal", options.journal());
    json.put("timings", Map.of("clockSkewMillis", timings.clockSkew().toMillis(), "maxTransitMillis",
        timings.maxTransit().toMillis(), "graceMillis", timings.grace().toMillis(), "handshakeMillis",
        timings.handshakeMillis()));
    json.put("mails", records.size());
    json.put("mailsByOutcome", byOutcome);
    json.put("mailsByFlavourAndOutcome", byFlavour);
    json.put("faultsByKind", kinds);
    json.put("faults", faultJson);
    json.put("auditPassed", audit != null && audit.path("passed").asBoolean());
    json.put("rules", Checker.RULES);
    List<Map<String, Object>> vs = new ArrayList<>();
    for (Checker.Violation v : violations) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("rule", v.rule());
      m.put("label", v.label());
      m.put("mail", v.mail());
      m.put("detail", v.detail());
      m.put("trace", v.trace());
      vs.add(m);
    }
    json.put("violations", vs);
    json.put("history", options.dir().resolve("history.jsonl").toString());
    json.put("lastLine", last);

    Path reportFile = options.report() != null ? options.report() : options.dir().resolve("report.txt");
    Path jsonFile = reportFile.resolveSibling(stripExtension(reportFile.getFileName().toString()) + ".json");
    if (reportFile.toAbsolutePath().getParent() != null) {
      Files.createDirectories(reportFile.toAbsolutePath().getParent());
    }
    Files.writeString(reportFile, String.join("\n", text) + "\n" + last + "\n");
    JSON.writeValue(jsonFile.toFile(), json);
    text.forEach(this::say);
    say("chaos: report " + reportFile + " and " + jsonFile + "; history " + options.dir().resolve("history.jsonl"));
    say(last);
    return new Result(last, violations.size());
  }

  private static String stripExtension(String name) {
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }

  private static String lastLines(String text, int n) {
    String[] lines = text.strip().split("\n");
    return String.join(" / ", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - n), lines.length));
  }

  private void say(String line) {
    out.accept(line);
  }

  private static boolean cqlAnswers(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** True when the script reports the instance as its own ("running (pid N)"): only then may the nemesis stop it. */
  private static boolean scriptOwnsCassandra(Path script, Path dir) throws IOException, InterruptedException {
    if (!Files.isExecutable(script)) {
      return false;
    }
    Process status = new ProcessBuilder(script.toString(), "status").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("cassandra-nemesis.log").toFile())).start();
    return status.waitFor() == 0;
  }

  private static void runScript(Path script, String command, Path dir) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(script.toString(), command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("cassandra-nemesis.log").toFile())).start();
    if (process.waitFor() != 0) {
      throw new IOException(script + " " + command + " failed; see " + dir.resolve("cassandra-nemesis.log"));
    }
  }
}
