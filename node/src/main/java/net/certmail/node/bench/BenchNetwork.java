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
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
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
    return start(dir, networkResource, nodes, Set.of(), mailboxes, spec -> commonConfig, nodeHeap, startTimeout, tokens,
        say);
  }

  /**
   * As above, with HOCON per node, and the nodes named in {@code later} left for the benchmark to
   * start ({@link LocalCluster#restart}) when it needs them.
   */
  static LocalCluster start(Path dir, String networkResource, List<LocalCluster.Spec> nodes, Set<String> later,
                            List<Mailbox> mailboxes, Function<LocalCluster.Spec, String> nodeConfig, String nodeHeap,
                            Duration startTimeout, Map<String, String> tokens, PrintWriter say)
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
    LocalCluster cluster = new LocalCluster(dir.resolve("nodes"), keys, nodes, nodeConfig,
        jvmOptions(nodeHeap, dir.resolve("nodes")));
    say.println("network: starting " + String.join(", ", nodes.stream().map(LocalCluster.Spec::name)
        .filter(name -> !later.contains(name)).toList()) + " (node JVMs from the real main class) ...");
    say.flush();
    try {
      cluster.start(startTimeout, later);
    } catch (IOException | RuntimeException e) {
      cluster.close();
      throw new IOException("the network did not start within " + startTimeout.toSeconds() + " s: " + e.getMessage()
          + " (node logs in " + dir.resolve("nodes") + "; on a busy machine give the nodes longer)", e);
    }
    for (LocalCluster.Node node : cluster.running()) {
      say.printf(Locale.ROOT, "network: %s (%s) ready, API %s, pid %d%n", node.name(), node.organisation(),
          node.apiUri(), node.pid());
    }
    return cluster;
  }

  /** A node's JVM options when CERTMAIL_NODE_JAVA_OPTS is not set: the launcher's default for `certmail node`. */
  static final List<String> DEFAULT_NODE_JVM_OPTIONS = List.of("-XX:+UseParallelGC");

  /**
   * The heap, fixed at {@code nodeHeap} from the start (-Xms and -Xmx), a GC log per node JVM in
   * {@code nodesDir} ({@code <node>-gc-<pid>.log}), then the options in the environment variable
   * CERTMAIL_NODE_JAVA_OPTS (split at blanks; they replace {@link #DEFAULT_NODE_JVM_OPTIONS}, as for
   * `certmail node`), e.g. "-XX:+UseG1GC" or a JFR recording: how to try a JVM setting or profile
   * the nodes of a run.
   *
   * <p>Why -Xms: a heap that starts small grows by full collections (the parallel collector's
   * "Ergonomics"), 450-600 ms each on a busy node of bench load, and one such stall in a step is a
   * p99 that misses. Why the log: pauses are where a node's time goes that no profile samples.
   */
  static List<String> jvmOptions(String nodeHeap, Path nodesDir) {
    List<String> options = new java.util.ArrayList<>(List.of("-Xms" + nodeHeap, "-Xmx" + nodeHeap,
        "-Xlog:gc:file=" + nodesDir.toAbsolutePath().resolve(LocalCluster.NODE_NAME + "-gc-%p.log")
            + ":uptime,level,tags"));
    String given = System.getenv("CERTMAIL_NODE_JAVA_OPTS");
    options.addAll(given == null ? DEFAULT_NODE_JVM_OPTIONS
        : given.isBlank() ? List.of() : List.of(given.trim().split("\\s+")));
    return options;
  }

  /**
   * The embedded journal of a run: each node its own H2 file under {@code dir/journal/<node>}, as
   * separate organisations keep their own journals (one organisation per node here). One file
   * served by the first node to the others cost every other node a TCP round trip per statement
   * and put all three nodes' commits behind one writer (bench load: 5 vs 10 mails/s).
   */
  static String embeddedJournal(Path dir) {
    return """
        certmail.journal { backend = embedded, embedded.auto-server = true,
          embedded.path = "%s/"${certmail.node.name}"/certmail" }
        """.formatted(dir.resolve("journal").toAbsolutePath().toString().replace("\\", "/"));
  }

  /**
   * The embedded journal of an organisation with several nodes: one H2 file per organisation under
   * {@code dir/journal/<organisation>}, which its nodes share (H2's auto-server: the first node to
   * open it serves it, and when that node dies another takes the file over), as they would share
   * the organisation's Cassandra keyspace.
   */
  static String organisationJournal(Path dir, LocalCluster.Spec node) {
    return """
        certmail.journal { backend = embedded, embedded.auto-server = true, embedded.path = "%s" }
        """.formatted(dir.resolve("journal").resolve(node.organisation()).resolve("certmail").toAbsolutePath()
        .toString().replace("\\", "/"));
  }

  /** CPU time each node's JVM has used so far. */
  static Map<String, Duration> cpu(LocalCluster cluster) {
    Map<String, Duration> totals = new LinkedHashMap<>();
    for (LocalCluster.Node node : cluster.running()) {
      totals.put(node.name(), ProcessHandle.of(node.pid()).flatMap(handle -> handle.info().totalCpuDuration())
          .orElse(Duration.ZERO));
    }
    return totals;
  }

  /** CPU time the nodes' JIT compiler threads have used so far, all nodes together; empty without /proc. */
  static Optional<Duration> jitCpu(LocalCluster cluster) {
    Duration total = Duration.ZERO;
    for (LocalCluster.Node node : cluster.running()) {
      Optional<Duration> jit = JitCpu.of(node.pid());
      if (jit.isEmpty()) {
        return Optional.empty();
      }
      total = total.plus(jit.get());
    }
    return Optional.of(total);
  }
}
