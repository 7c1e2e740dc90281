package net.certmail.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.NetworkDescription;
import net.certmail.node.http.TokenStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The network as separate node JVMs started from the real main class, on the real Cassandra:
 * mails go in through the HTTP API, one node of beta.example (a two-node organisation) is
 * killed with SIGKILL while they are in flight, and every mail still reaches its verdict; the
 * audit of the keyspace then passes.
 */
@Tag("cassandra")
class MultiJvmFailoverTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String ALICE = "alice@alpha.example";

  final List<Process> processes = new ArrayList<>();
  final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stopNodes() {
    processes.forEach(Process::destroyForcibly);
  }

  @Test
  void killingOneNodeOfATwoNodeOrganisationLosesNoMail(@TempDir Path dir) throws Exception {
    requireCassandra();
    NetworkDescription network;
    try (var sample = getClass().getClassLoader().getResourceAsStream("networks/local-network.conf")) {
      // a stream, not a Path: under `mvn verify` the file lies inside the cluster-config jar
      network = NetworkDescription.parse(new String(sample.readAllBytes(), StandardCharsets.UTF_8));
    }
    Path keys = dir.resolve("keys");
    KeyDirectory.initNetwork(network, keys, new KeyDirectory.InitOptions(
        KeyDirectory.InitOptions.defaults().algorithm(), Duration.ofDays(30), Clock.systemUTC(), false, line -> { }));
    String token = TokenStore.issue(keys.resolve("alpha-1"), ALICE);
    String keyspace = "certmail_e2e_" + Long.toString(System.nanoTime(), 36);

    String[][] nodes = {{"alpha-1", "alpha.example"}, {"relay-1", "relay.example"}, {"beta-1", "beta.example"},
        {"beta-2", "beta.example"}};
    Map<String, int[]> ports = new LinkedHashMap<>();
    for (String[] node : nodes) {
      ports.put(node[0], new int[] {freePort(), freePort(), freePort()}); // artery, http, management
    }
    String seeds = "[\"pekko://certmail@127.0.0.1:" + ports.get("alpha-1")[0] + "\", \"pekko://certmail@127.0.0.1:"
        + ports.get("relay-1")[0] + "\"]";
    Map<String, Process> byName = new LinkedHashMap<>();
    for (String[] node : nodes) {
      Path config = dir.resolve(node[0] + ".conf");
      int[] p = ports.get(node[0]);
      Files.writeString(config, """
          include classpath("certmail-node")
          include classpath("certmail-local-network")
          certmail.node { name = "%s", organisations = ["%s"], key-directory = "%s" }
          certmail.journal {
            backend = cassandra
            cassandra { keyspace = "%s", snapshot-keyspace = "%s_snapshot", schema-autocreate = on }
          }
          pekko.remote.artery.canonical { hostname = "127.0.0.1", port = %d }
          pekko.cluster.seed-nodes = %s
          pekko.cluster.split-brain-resolver.stable-after = 3s
          certmail.http.port = %d
          pekko.management.http.port = %d
          """.formatted(node[0], node[1], keys.resolve(node[0]), keyspace, keyspace, p[0], seeds, p[1], p[2]));
      ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx384m", "-cp", System.getProperty("java.class.path"), CertmailCli.class.getName(),
          "node", "--config", config.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve(node[0] + ".log").toFile());
      Process process = builder.start();
      processes.add(process);
      byName.put(node[0], process);
    }
    for (String[] node : nodes) {
      awaitReady(node[0], ports.get(node[0])[2], dir.resolve(node[0] + ".log"));
    }

    String alpha = "http://127.0.0.1:" + ports.get("alpha-1")[1];
    List<String> ids = new ArrayList<>();
    String[] flavours = {"CEM", "NSR", "IP"};
    for (int i = 0; i < 9; i++) {
      String id = "e2e-" + i;
      String body = JSON.writeValueAsString(Map.of("recipient", "bob@beta.example", "subject", "mail " + i,
          "body", "certified mail " + i, "flavour", flavours[i % 3], "leadSeconds", 900));
      HttpRequest submit = HttpRequest.newBuilder(URI.create(alpha + "/v1/mailboxes/" + ALICE + "/outbox"))
          .header("Authorization", "Bearer " + token).header("Idempotency-Key", id)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
      HttpResponse<String> response = http.send(submit, HttpResponse.BodyHandlers.ofString());
      // 503 says "retry": the first writes to a new keyspace can be slow; the idempotency key makes
      // a retry safe, as a real client would do.
      for (int attempt = 0; response.statusCode() == 503 && attempt < 20; attempt++) {
        Thread.sleep(2000);
        response = http.send(submit, HttpResponse.BodyHandlers.ofString());
      }
      assertEquals(202, response.statusCode(), response.body());
      ids.add(id);
    }
    byName.get("beta-2").destroyForcibly(); // kill -9 while the mails are in flight

    for (String id : ids) {
      JsonNode status = awaitVerdict(alpha, token, id, Duration.ofSeconds(120));
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

  private JsonNode awaitVerdict(String node, String token, String id, Duration timeout) throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < until) {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(node + "/v1/mailboxes/" + ALICE
              + "/outbox/" + id)).header("Authorization", "Bearer " + token).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 200) {
        last = JSON.readTree(response.body());
        String status = last.get("status").asText();
        if (status.equals("DELIVERED") || status.equals("NOT_DELIVERED") || status.equals("LOST")
            || status.equals("NOT_POSTED")) {
          return last;
        }
      }
      Thread.sleep(500);
    }
    throw new AssertionError("no verdict for " + id + " within " + timeout.toSeconds() + " s; last status: " + last);
  }

  private void awaitReady(String name, int managementPort, Path log) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < until) {
      try {
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + managementPort + "/ready")).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (ready.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // the node is still starting
      }
      Thread.sleep(500);
    }
    throw new AssertionError("node " + name + " not ready within 120 s; its log:\n"
        + (Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(none)"));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
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
