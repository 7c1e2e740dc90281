package net.certmail.node.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.NetworkDescription;
import net.certmail.node.cluster.LocalCluster;
import net.certmail.node.http.TokenStore;

/**
 * The node JVMs a network benchmark runs ({@code bench load}, {@code bench waiting}): keys from a
 * network description on the classpath, bearer tokens for the mailboxes the benchmark drives, one
 * journal for all nodes, and the nodes started from the real main class and ready.
 */
final class BenchNetwork {
  private BenchNetwork() {}

  /** A mailbox the benchmark drives through the HTTP API, and the node whose key directory issues its token. */
  record Mailbox(String id, String node) {}

  /**
   * Starts the nodes. {@code tokens} receives a bearer token per mailbox; the nodes' files and logs
   * go under {@code dir/nodes}.
   */
  static LocalCluster start(Path dir, String networkResource, List<LocalCluster.Spec> nodes, List<Mailbox> mailboxes,
                            String commonConfig, String nodeHeap, Duration startTimeout, Map<String, String> tokens,
                            PrintWriter say)
      throws IOException, InterruptedException {
    NetworkDescription network;
    try (InputStream in = BenchNetwork.class.getClassLoader().getResourceAsStream(networkResource)) {
      if (in == null) {
        throw new IllegalStateException("no " + networkResource + " on the classpath: rebuild the jar");
      }
      network = NetworkDescription.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    Path keys = dir.resolve("keys");
    KeyDirectory.initNetwork(network, keys, new KeyDirectory.InitOptions(KeyDirectory.InitOptions.defaults().algorithm(),
        Duration.ofDays(30), Clock.systemUTC(), false, line -> { }));
    for (Mailbox mailbox : mailboxes) {
      tokens.put(mailbox.id(), TokenStore.issue(keys.resolve(mailbox.node()), mailbox.id()));
    }
    LocalCluster cluster = new LocalCluster(dir.resolve("nodes"), keys, nodes, commonConfig, List.of("-Xmx" + nodeHeap));
    say.println("network: starting " + String.join(", ", nodes.stream().map(LocalCluster.Spec::name).toList())
        + " (node JVMs from the real main class) ...");
    say.flush();
    try {
      cluster.start(startTimeout);
    } catch (IOException | RuntimeException e) {
      cluster.close();
      throw new IOException("the network did not start within " + startTimeout.toSeconds() + " s: " + e.getMessage()
          + " (node logs in " + dir.resolve("nodes") + "; on a busy machine give the nodes longer)", e);
    }
    for (LocalCluster.Node node : cluster.nodes()) {
      say.printf(Locale.ROOT, "network: %s (%s) ready, API %s, pid %d%n", node.name(), node.organisation(),
          node.apiUri(), node.pid());
    }
    return cluster;
  }

  /** The embedded journal for every node of a run: one H2 file under {@code dir}, served to all. */
  static String embeddedJournal(Path dir) {
    return """
        certmail.journal { backend = embedded, embedded.path = "%s", embedded.auto-server = true }
        """.formatted(dir.resolve("journal").resolve("certmail").toAbsolutePath().toString().replace("\\", "/"));
  }

  /** CPU time each node's JVM has used so far. */
  static Map<String, Duration> cpu(LocalCluster cluster) {
    Map<String, Duration> totals = new LinkedHashMap<>();
    for (LocalCluster.Node node : cluster.nodes()) {
      totals.put(node.name(), ProcessHandle.of(node.pid()).flatMap(handle -> handle.info().totalCpuDuration())
          .orElse(Duration.ZERO));
    }
    return totals;
  }
}
