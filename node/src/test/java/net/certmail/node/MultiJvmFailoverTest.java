package net.certmail.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.NetworkDescription;
import net.certmail.node.cluster.LocalCluster;
import net.certmail.node.http.TokenStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The network as separate node JVMs started from the real main class ({@link LocalCluster}), on
 * the real Cassandra: mails go in through the HTTP API, the node of beta.example (a two-node
 * organisation) that cluster sharding says hosts entities of mails in flight is killed with
 * SIGKILL, and every mail still reaches its verdict; the audit of the keyspace then passes.
 * Carol holds her mails, so they are certainly in flight when the node dies: she accepts them
 * afterwards, through the surviving node.
 */
@Tag("cassandra")
class MultiJvmFailoverTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String ALICE = "alice@alpha.example";
  static final String CAROL = "carol@beta.example";

  final HttpClient http = HttpClient.newHttpClient();
  LocalCluster cluster;

  @AfterEach
  void stopNodes() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void killingTheNodeThatHostsMailsInFlightLosesNoMail(@TempDir Path dir) throws Exception {
    requireCassandra();
    NetworkDescription network;
    try (var sample = getClass().getClassLoader().getResourceAsStream("networks/local-network.conf")) {
      // a stream, not a Path: under `mvn verify` the file lies inside the cluster-config jar
      network = NetworkDescription.parse(new String(sample.readAllBytes(), StandardCharsets.UTF_8));
    }
    Path keys = dir.resolve("keys");
    KeyDirectory.initNetwork(network, keys, new KeyDirectory.InitOptions(
        KeyDirectory.InitOptions.defaults().algorithm(), Duration.ofDays(30), Clock.systemUTC(), false, line -> { }));
    String alice = TokenStore.issue(keys.resolve("alpha-1"), ALICE);
    Map<String, String> carol = Map.of("beta-1", TokenStore.issue(keys.resolve("beta-1"), CAROL),
        "beta-2", TokenStore.issue(keys.resolve("beta-2"), CAROL));
    String keyspace = "certmail_e2e_" + Long.toString(System.nanoTime(), 36);
    cluster = new LocalCluster(dir.resolve("nodes"), keys, List.of(
        new LocalCluster.Spec("alpha-1", "alpha.example"), new LocalCluster.Spec("relay-1", "relay.example"),
        new LocalCluster.Spec("beta-1", "beta.example"), new LocalCluster.Spec("beta-2", "beta.example")), """
        include classpath("certmail-local-network")
        certmail.journal {
          backend = cassandra
          cassandra { keyspace = "%s", snapshot-keyspace = "%s_snapshot", schema-autocreate = on }
        }
        pekko.cluster.split-brain-resolver.stable-after = 3s
        """.formatted(keyspace, keyspace), List.of("-Xmx384m"));
    cluster.start(Duration.ofMinutes(6)); // a readiness wait, not an assertion on time: loaded machines start JVMs slowly

    String alpha = cluster.node("alpha-1").apiUri();
    Map<String, String> recipients = new LinkedHashMap<>();
    String[] flavours = {"CEM", "NSR", "IP"};
    for (int i = 0; i < 9; i++) {
      String id = "e2e-" + i;
      String recipient = i < 3 ? CAROL : "bob@beta.example";
      recipients.put(id, recipient);
      String body = JSON.writeValueAsString(Map.of("recipient", recipient, "subject", "mail " + i,
          "body", "certified mail " + i, "flavour", flavours[i % 3], "leadSeconds", 900));
      HttpResponse<String> response = submit(alpha, alice, id, body);
      // 503 says "retry": the first writes to a new keyspace can be slow; the idempotency key makes
      // a retry safe, as a real client would do.
      for (int attempt = 0; response.statusCode() == 503 && attempt < 20; attempt++) {
        Thread.sleep(2000);
        response = submit(alpha, alice, id, body);
      }
      assertEquals(202, response.statusCode(), response.body());
    }

    // Carol's mails wait for her at beta.example: in flight, with entities on one of its nodes.
    List<String> carolsLabels = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      carolsLabels.add(awaitStatus(alpha, alice, "e2e-" + i, Set.of("IN_DELIVERY", "AWAITING_COLLECTION"),
          Duration.ofSeconds(120)).get("label").asText());
    }
    // Entities that only wait sleep (reminders wake them; Pn sleeps once carol acknowledged holding
    // the mail): carol reads her entries, which wakes each on the beta node that hosts its shard,
    // and the victim is a beta node on which sharding then runs an entity of carol's mails.
    LocalCluster.Node victim = null;
    int hosted = 0;
    long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (hosted == 0 && System.nanoTime() < until) {
      for (String label : carolsLabels) {
        http.send(HttpRequest.newBuilder(URI.create(cluster.node("beta-1").apiUri() + "/v1/mailboxes/" + CAROL
                + "/inbox/" + label)).header("Authorization", "Bearer " + carol.get("beta-1"))
            .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
      }
      for (String name : List.of("beta-1", "beta-2")) {
        LocalCluster.Node node = cluster.node(name);
        Set<String> entities = cluster.entities(node);
        int count = 0;
        for (String label : carolsLabels) {
          count += (entities.contains("beta.example|" + label) ? 1 : 0) + (entities.contains(CAROL + "|" + label) ? 1 : 0);
        }
        if (count > hosted) {
          hosted = count;
          victim = node;
        }
      }
      if (hosted == 0) {
        Thread.sleep(1000);
      }
    }
    assertTrue(hosted > 0, "sharding shows no entity of carol's mails on beta-1 or beta-2");
    cluster.kill(victim); // kill -9 while the mails are in flight
    for (String label : carolsLabels) {
      String status = status(alpha, alice, "e2e-" + carolsLabels.indexOf(label)).get("status").asText();
      assertTrue(Set.of("IN_DELIVERY", "AWAITING_COLLECTION").contains(status),
          "carol's mail " + label + " was still in flight when " + victim.name() + " was killed: " + status);
    }
    assertFalse(victim.alive());

    // Carol accepts through the surviving node, once her entities have moved there.
    LocalCluster.Node survivor = cluster.node(victim.name().equals("beta-1") ? "beta-2" : "beta-1");
    for (String label : carolsLabels) {
      accept(survivor, carol.get(survivor.name()), label, Duration.ofSeconds(120));
    }
    for (String id : recipients.keySet()) {
      JsonNode status = awaitStatus(alpha, alice, id, Set.of("DELIVERED", "NOT_DELIVERED", "LOST", "NOT_POSTED"),
          Duration.ofSeconds(180));
      assertEquals("DELIVERED", status.get("status").asText(), id + ": " + status);
    }

    StringWriter out = new StringWriter();
    CommandLine audit = CertmailCli.commandLine();
    audit.setOut(new PrintWriter(out));
    audit.setErr(new PrintWriter(new StringWriter()));
    int auditExit = audit.execute("audit", "--journal", "cassandra", "--keyspace", keyspace,
        "--keys", keys.resolve("alpha-1").toString(), "--now", java.time.Instant.now().toString());
    assertEquals(0, auditExit, out.toString());
    assertTrue(out.toString().contains("PASSED"), out.toString());
  }

  private HttpResponse<String> submit(String node, String token, String id, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(node + "/v1/mailboxes/" + ALICE + "/outbox"))
        .header("Authorization", "Bearer " + token).header("Idempotency-Key", id)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode status(String node, String token, String id) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(node + "/v1/mailboxes/" + ALICE
        + "/outbox/" + id)).header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  private void accept(LocalCluster.Node node, String token, String label, Duration timeout) throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    String last = "";
    while (System.nanoTime() < until) {
      try {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(node.apiUri() + "/v1/mailboxes/"
                + CAROL + "/inbox/" + label + "/accept")).header("Authorization", "Bearer " + token)
            .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          return;
        }
        last = response.statusCode() + " " + response.body();
      } catch (IOException notYet) {
        last = notYet.toString();
      }
      Thread.sleep(1000);
    }
    throw new AssertionError("carol could not accept " + label + " on " + node.name() + ": " + last);
  }

  private JsonNode awaitStatus(String node, String token, String id, Set<String> wanted, Duration timeout)
      throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < until) {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(node + "/v1/mailboxes/" + ALICE
              + "/outbox/" + id)).header("Authorization", "Bearer " + token).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 200) {
        last = JSON.readTree(response.body());
        if (wanted.contains(last.get("status").asText())) {
          return last;
        }
      }
      Thread.sleep(500);
    }
    throw new AssertionError("no status " + wanted + " for " + id + " within " + timeout.toSeconds() + " s; last: " + last);
  }

  private static void requireCassandra() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", 9042), 2000);
    } catch (IOException e) {
      throw new AssertionError("no Cassandra on 127.0.0.1:9042: start it with ./certmail cassandra start, or run"
          + " the whole suite with ./certmail test");
    }
  }
}
