package net.certmail.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /metrics} on the management port of a running node, as Prometheus scrapes it: the
 * figures an operator watches, real journal writes (and a journal that refuses them), and the
 * sample Grafana dashboard, which must ask only for series a node exports.
 */
class MetricsEndpointTest {
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path dir;
  static TestNode network;
  static String alice;

  @BeforeAll
  static void startNode() throws Exception {
    // Reminder rows are counted every second here (10 s by default): carol's held mail waits 12 s.
    network = TestNode.start(dir, "certmail.reminders.count-interval = 1s");
    alice = network.token("alice@alpha.example");
  }

  @AfterAll
  static void stopNode() {
    if (network != null) {
      network.close();
    }
  }

  /** One sample line: a metric name, its labels and its value. */
  record Sample(String name, Map<String, String> labels, double value) {}

  private static final Pattern LINE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  record Scrape(String contentType, List<Sample> samples) {
    double sum(String name, String... labels) {
      return matching(name, labels).stream().mapToDouble(Sample::value).sum();
    }

    boolean has(String name, String... labels) {
      return !matching(name, labels).isEmpty();
    }

    List<Sample> matching(String name, String... labels) {
      return samples.stream().filter(sample -> sample.name().equals(name)).filter(sample -> {
        for (int i = 0; i < labels.length; i += 2) {
          if (!labels[i + 1].equals(sample.labels().get(labels[i]))) {
            return false;
          }
        }
        return true;
      }).toList();
    }
  }

  static Scrape scrape() throws Exception {
    HttpResponse<String> response = CLIENT.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + network.managementPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    List<Sample> samples = new ArrayList<>();
    for (String line : response.body().split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher matcher = LINE.matcher(line);
      assertTrue(matcher.matches(), "not a Prometheus sample line: " + line);
      Map<String, String> labels = new HashMap<>();
      if (matcher.group(2) != null) {
        Matcher label = LABEL.matcher(matcher.group(2));
        while (label.find()) {
          labels.put(label.group(1), label.group(2));
        }
      }
      samples.add(new Sample(matcher.group(1), labels, Double.parseDouble(matcher.group(3))));
    }
    return new Scrape(response.headers().firstValue("Content-Type").orElse(""), samples);
  }

  static Scrape awaitScrape(Predicate<Scrape> done, String what) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    Scrape last;
    do {
      last = scrape();
      if (done.test(last)) {
        return last;
      }
      Thread.sleep(200);
    } while (System.nanoTime() < until);
    fail("no " + what + " in /metrics within 30 s; last scrape: " + last.samples().stream()
        .filter(sample -> sample.name().startsWith("certmail_")).toList());
    return last;
  }

  static HttpRequest submission(String recipient, String flavour, String key) {
    String deadline = Instant.now().plusSeconds(120).truncatedTo(ChronoUnit.SECONDS).toString();
    return HttpRequest.newBuilder(URI.create(network.endpoints.apiUri() + "/v1/mailboxes/alice@alpha.example/outbox"))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + alice).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("""
            {"recipient": "%s", "subject": "metrics", "body": "counted", "flavour": "%s", "deadline": "%s",
             "idempotencyKey": "%s"}""".formatted(recipient, flavour, deadline, key))).build();
  }

  @Test
  void metricsShowWhatAnOperatorWatchesInPrometheusFormat() throws Exception {
    // Failed writes so far (the failing-journal test may have run first): this test adds none.
    double failedBefore = scrape().sum("certmail_journal_writes_seconds_count", "outcome", "failed");
    // A mail carol holds: its entities wait for her decision and the verdict.
    HttpResponse<String> submitted = CLIENT.send(submission("carol@beta.example", "NSR", "metrics-1"),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(202, submitted.statusCode(), submitted.body());

    // The entities sleep while carol decides (their reminder rows wait): the shard stays.
    Scrape scrape = awaitScrape(s -> s.sum("certmail_shards_active", "kind", "outbox",
        "organisation", "alpha.example") >= 1 && s.sum("certmail_journal_writes_seconds_count", "outcome", "ok") >= 1
        && s.sum("certmail_submissions_total", "flavour", "NSR") >= 1
        && s.sum("certmail_reminders_waiting", "organisation", "alpha.example") >= 1,
        "outbox shard, journal writes, the submission counted and its reminder rows");
    assertTrue(scrape.contentType().startsWith("text/plain") && scrape.contentType().contains("version=0.0.4"),
        scrape.contentType());
    // Every series names its node.
    assertTrue(scrape.samples().stream().allMatch(sample -> "test-node".equals(sample.labels().get("node"))),
        "a series without node=\"test-node\"");
    // Cluster: this node alone, Up.
    assertEquals(1, scrape.sum("certmail_cluster_members", "status", "Up"));
    assertEquals(0, scrape.sum("certmail_cluster_unreachable"));
    // Entities and shards this node runs, by kind and organisation.
    assertTrue(scrape.has("certmail_entities_active", "kind", "outbox", "organisation", "alpha.example"));
    assertTrue(scrape.sum("certmail_shards_active", "kind", "outbox", "organisation", "alpha.example") >= 1);
    // Journal writes: a latency histogram by outcome, none failed.
    assertTrue(scrape.has("certmail_journal_writes_seconds_bucket", "outcome", "ok", "le", "0.01"));
    assertEquals(failedBefore, scrape.sum("certmail_journal_writes_seconds_count", "outcome", "failed"));
    // Principals of one node check what the other signed from memory: alice's submission envelope, opened by alpha.example.
    assertTrue(scrape.sum("certmail_signature_checks_remembered_total", "use", "envelope") >= 1);
    // Rejected envelopes by reason, every reason a series from the start.
    assertTrue(scrape.has("certmail_envelopes_rejected_total", "reason", "BAD_SIGNATURE")
        && scrape.has("certmail_envelopes_rejected_total", "reason", "REPLAYED"));
    // Submissions by flavour, verdicts by kind and reason, submission-to-verdict histogram.
    assertTrue(scrape.has("certmail_submissions_total", "flavour", "NSR"));
    assertTrue(scrape.has("certmail_verdicts_total", "verdict", "DELIVERED", "reason", "NONE"));
    assertTrue(scrape.has("certmail_verdict_latency_seconds_bucket", "le", "3600.0"));
    // Reminders: rows of entities that owe work (the held mail's servers wait for its verdict), none failed.
    assertTrue(scrape.has("certmail_reminders_waiting", "organisation", "alpha.example"));
    assertEquals(0, scrape.sum("certmail_reminders_store_failures_total"));
    // The node holds its embedded journal's file: its size, chunks and their live share.
    assertTrue(scrape.sum("certmail_journal_file_bytes") > 0, "journal file size");
    assertTrue(scrape.sum("certmail_journal_file_chunks") >= 1, "journal file chunks");
    double live = scrape.sum("certmail_journal_file_live_percent");
    assertTrue(live > 0 && live <= 100, "live share of the journal file's chunks: " + live);
    // HTTP answers by method, resource (never the mailbox of the path) and status: the submission above.
    assertTrue(scrape.sum("certmail_http_requests_seconds_count", "method", "POST", "resource", "outbox",
        "status", "202") >= 1, "the submission's 202 is counted");
    assertTrue(scrape.samples().stream().filter(sample -> sample.name().startsWith("certmail_http_requests"))
        .noneMatch(sample -> sample.labels().values().stream().anyMatch(value -> value.contains("@"))),
        "a request series names a mailbox");
    // The JVM.
    assertTrue(scrape.sum("jvm_memory_used_bytes", "area", "heap") > 0);
    assertTrue(scrape.has("jvm_threads_live_threads") && scrape.has("jvm_gc_memory_allocated_bytes_total")
        && scrape.has("process_cpu_usage") && scrape.has("system_cpu_count") && scrape.has("process_uptime_seconds"));
  }

  @Test
  void theSampleDashboardAsksOnlyForSeriesANodeExports() throws Exception {
    // Some series appear with the first mail: this test sends its own.
    HttpResponse<String> submitted = CLIENT.send(submission("bob@beta.example", "CEM", "metrics-dashboard"),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(202, submitted.statusCode(), submitted.body());
    JsonNode dashboard = JSON.readTree(Files.readString(repositoryRoot().resolve("cluster-config/grafana/certmail-node.json")));
    TreeSet<String> asked = new TreeSet<>();
    Pattern metric = Pattern.compile("\\b((?:certmail|jvm|process|system)_[a-z0-9_]+)");
    dashboard.findValues("expr").forEach(expr -> {
      Matcher matcher = metric.matcher(expr.asText());
      while (matcher.find()) {
        asked.add(matcher.group(1));
      }
    });
    assertTrue(asked.size() >= 10, "the dashboard asks for " + asked);
    System.gc(); // the GC pause timer appears with the first collection
    Scrape scrape = awaitScrape(s -> asked.stream().allMatch(name -> s.has(name)), "series of every dashboard query");
    for (String name : asked) {
      assertTrue(scrape.has(name), "the dashboard asks for " + name + ", which the node does not export");
    }
  }

  /**
   * A journal that reads but refuses writes (an H2 trigger): the submission's first event cannot
   * be stored, and the failed write is counted where an operator's alert looks.
   */
  @Test
  void aFailedJournalWriteIsCounted() throws Exception {
    com.typesafe.config.Config db = network.node.system().settings().config()
        .getConfig("pekko-persistence-jdbc.shared-databases.slick.db");
    // The journal is the node's own: its URL and its password (owner-only, made at first start).
    try (Connection connection = DriverManager.getConnection(db.getString("url"), db.getString("user"),
        db.getString("password"));
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE TRIGGER \"fail_writes\" BEFORE INSERT ON \"event_journal\" FOR EACH ROW CALL \""
          + FailJournalWrites.class.getName() + "\"");
      try {
        double failedBefore = scrape().sum("certmail_journal_writes_seconds_count", "outcome", "failed");
        // The entity never answers (it stops on the failed write): do not wait for the response.
        CLIENT.sendAsync(submission("bob@beta.example", "CEM", "metrics-refused"), HttpResponse.BodyHandlers.discarding());
        awaitScrape(s -> s.sum("certmail_journal_writes_seconds_count", "outcome", "failed") > failedBefore,
            "failed journal write");
      } finally {
        statement.execute("DROP TRIGGER \"fail_writes\"");
      }
    }
  }

  private static Path repositoryRoot() {
    for (Path path = Path.of("").toAbsolutePath(); path != null; path = path.getParent()) {
      if (Files.isDirectory(path.resolve("cluster-config/grafana"))) {
        return path;
      }
    }
    throw new IllegalStateException("no cluster-config/grafana above " + Path.of("").toAbsolutePath());
  }
}
