package net.certmail.node.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import net.certmail.node.CertmailCli;

/**
 * A cluster of certmail node JVMs on this machine, each started from the real main class
 * ({@code certmail node --config FILE}) on free ports, and the operations a test or a chaos
 * run performs on them: wait until ready, kill -9, pause (SIGSTOP) and resume (SIGCONT), restart
 * on the same ports, and find which node hosts an entity (from cluster sharding's state, over the
 * chaos route: nodes run with {@code certmail.chaos.enabled = on}, which injects nothing by itself).
 *
 * <p>Each node's file is written to the cluster's directory with its log beside it. The first
 * two nodes are the seed nodes; a restarted node joins through the other nodes only, so that it
 * never forms a second cluster on its own.
 */
public final class LocalCluster implements AutoCloseable {
  /** One node to run: its name (its key directory under the keys) and its organisation. */
  public record Spec(String name, String organisation) {}

  /** A node of the cluster: its ports stay the same across restarts. */
  public static final class Node {
    private final Spec spec;
    private final int arteryPort;
    private final int httpPort;
    private final int managementPort;
    private volatile Process process;
    private volatile boolean paused;
    private int starts;

    Node(Spec spec, int arteryPort, int httpPort, int managementPort) {
      this.spec = spec;
      this.arteryPort = arteryPort;
      this.httpPort = httpPort;
      this.managementPort = managementPort;
    }

    public String name() {
      return spec.name();
    }

    public String organisation() {
      return spec.organisation();
    }

    /** Its HTTP API, e.g. http://127.0.0.1:40123. */
    public String apiUri() {
      return "http://127.0.0.1:" + httpPort;
    }

    public String managementUri() {
      return "http://127.0.0.1:" + managementPort;
    }

    /** Its cluster address, as seed lists and partitions name it. */
    public String address() {
      return "pekko://certmail@127.0.0.1:" + arteryPort;
    }

    public boolean alive() {
      Process p = process;
      return p != null && p.isAlive();
    }

    public boolean paused() {
      return paused;
    }

    public long pid() {
      return process.pid();
    }

    /** How many times this node was started (1 after the cluster's start). */
    public int starts() {
      return starts;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Stands for the node's name in a JVM option. */
  public static final String NODE_NAME = "{node}";

  private final Path dir;
  private final Path keys;
  private final Function<Spec, String> nodeConfig;
  private final List<String> jvmOptions;
  /**
   * Stops the node JVMs when this JVM exits without {@link #close} (Ctrl-C on a benchmark or a chaos
   * run): child processes outlive their parent, and three node JVMs of 2 GiB each left running
   * would hold their ports and slow every figure measured after them.
   */
  private final Thread stopNodesOnExit = new Thread(this::close, "local-cluster-stop-nodes");
  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private volatile boolean closed;

  /**
   * @param dir where node files and logs go
   * @param keys a network's key directory ({@code keys init}): one sub-directory per node name
   * @param specs the nodes; the first two are the seeds
   * @param commonConfig HOCON every node's file ends with (journal, engine settings, ...)
   * @param jvmOptions options of every node JVM, e.g. -Xmx256m; {@value #NODE_NAME} in one is
   *     replaced by the node's name (a log file per node)
   */
  public LocalCluster(Path dir, Path keys, List<Spec> specs, String commonConfig, List<String> jvmOptions)
      throws IOException {
    this(dir, keys, specs, spec -> commonConfig, jvmOptions);
  }

  /**
   * As above, with HOCON per node, e.g. a journal file per organisation that the organisation's
   * nodes share.
   */
  public LocalCluster(Path dir, Path keys, List<Spec> specs, Function<Spec, String> nodeConfig,
                      List<String> jvmOptions) throws IOException {
    if (specs.size() < 2) {
      throw new IllegalArgumentException("a local cluster needs at least two nodes (the seeds)");
    }
    this.dir = dir;
    this.keys = keys;
    this.nodeConfig = nodeConfig;
    this.jvmOptions = List.copyOf(jvmOptions);
    Files.createDirectories(dir);
    for (Spec spec : specs) {
      nodes.put(spec.name(), new Node(spec, freePort(), freePort(), freePort()));
    }
    Runtime.getRuntime().addShutdownHook(stopNodesOnExit);
  }

  public List<Node> nodes() {
    return List.copyOf(nodes.values());
  }

  /** The nodes whose JVM runs now (not killed, not yet started). */
  public List<Node> running() {
    return nodes.values().stream().filter(Node::alive).toList();
  }

  public Node node(String name) {
    Node node = nodes.get(name);
    if (node == null) {
      throw new IllegalArgumentException("no node " + name + " in this cluster: " + nodes.keySet());
    }
    return node;
  }

  public Path log(Node node) {
    return dir.resolve(node.name() + ".log");
  }

  /**
   * Starts every node and waits until each is ready: the first seed alone (it forms the cluster),
   * then the others together. A node that ends while starting (on a saturated machine a joining
   * node can be taken for dead and downed) is started again, up to three times.
   */
  public void start(Duration timeout) throws IOException, InterruptedException {
    start(timeout, Set.of());
  }

  /**
   * As above, but the nodes named in {@code later} are left for {@link #restart} to start when the
   * caller wants them (e.g. a second node of an organisation joining a running cluster). The two
   * seeds must not be among them.
   */
  public void start(Duration timeout, Set<String> later) throws IOException, InterruptedException {
    List<Node> all = nodes();
    if (later.contains(all.get(0).name()) || later.contains(all.get(1).name())) {
      throw new IllegalArgumentException("the seeds " + all.get(0).name() + " and " + all.get(1).name()
          + " start first; start other nodes later");
    }
    startWithRetries(List.of(all.get(0)), timeout);
    startWithRetries(all.subList(1, all.size()).stream().filter(node -> !later.contains(node.name())).toList(),
        timeout);
  }

  private void startWithRetries(List<Node> group, Duration timeout) throws IOException, InterruptedException {
    for (Node node : group) {
      launch(node, seedsFor(node, node.starts == 0));
    }
    for (Node node : group) {
      for (int attempt = 1; ; attempt++) {
        try {
          awaitReady(node, timeout);
          break;
        } catch (IOException ended) {
          if (node.alive() || attempt >= 3) {
            throw ended;
          }
          launch(node, seedsFor(node, node == nodes().get(0) && !anyOtherReady(node)));
        }
      }
    }
  }

  private boolean anyOtherReady(Node node) {
    return nodes.values().stream().anyMatch(other -> other != node && other.alive() && ready(other));
  }

  /** SIGKILL: the JVM ends at once, mid-write if it was writing. */
  public void kill(Node node) throws InterruptedException {
    Process p = node.process;
    if (p != null) {
      p.destroyForcibly(); // SIGKILL ends a stopped process too
      if (node.paused && p.isAlive()) {
        try {
          signal(node, "CONT");
        } catch (IOException alreadyGone) {
          // it ended between the two signals
        }
      }
      p.waitFor(30, TimeUnit.SECONDS);
    }
    node.paused = false;
  }

  /** SIGSTOP: the JVM freezes; its peers stop hearing from it. */
  public void pause(Node node) throws IOException, InterruptedException {
    signal(node, "STOP");
    node.paused = true;
  }

  /** SIGCONT. */
  public void resume(Node node) throws IOException, InterruptedException {
    signal(node, "CONT");
    node.paused = false;
  }

  /**
   * Starts the node again on its ports (after a kill, or after it stopped by itself, e.g. downed
   * by the split brain resolver), or for the first time when {@link #start(Duration, Set)} left it
   * for later, joining through the other nodes, and waits until it is ready.
   */
  public void restart(Node node, Duration timeout) throws IOException, InterruptedException {
    if (node.alive()) {
      kill(node);
    }
    launch(node, seedsFor(node, false));
    awaitReady(node, timeout);
  }

  /** Waits until the node's /ready answers 200; fails at once when its JVM ended. */
  public void awaitReady(Node node, Duration timeout) throws IOException, InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < until) {
      if (!node.alive()) {
        throw new IOException("node " + node.name() + " ended while starting (exit code "
            + node.process.exitValue() + "); the end of its log " + log(node) + ":\n" + tail(log(node), 30));
      }
      if (ready(node)) {
        return;
      }
      Thread.sleep(250);
    }
    throw new IOException("node " + node.name() + " was not ready within " + timeout.toSeconds()
        + " s; the end of its log " + log(node) + ":\n" + tail(log(node), 30));
  }

  /** True when the node answers /ready with 200 now. */
  public boolean ready(Node node) {
    try {
      HttpResponse<Void> ready = http.send(HttpRequest.newBuilder(URI.create(node.managementUri() + "/ready"))
          .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.discarding());
      return ready.statusCode() == 200;
    } catch (IOException notYet) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The entity ids the node runs, from cluster sharding's state (empty when it does not answer). */
  public Set<String> entities(Node node) {
    try {
      JsonNode answer = chaos(node, "GET", "/chaos/entities");
      Set<String> ids = new TreeSet<>();
      answer.get("entities").forEach(id -> ids.add(id.asText()));
      return ids;
    } catch (IOException e) {
      return Set.of();
    }
  }

  /** The live node that runs the entity, if one does. */
  public Optional<Node> hostOf(String entityId) {
    for (Node node : nodes.values()) {
      if (node.alive() && !node.paused && entities(node).contains(entityId)) {
        return Optional.of(node);
      }
    }
    return Optional.empty();
  }

  /** A request to the node's chaos route; the answer's JSON, or an IOException with its error. */
  public JsonNode chaos(Node node, String method, String pathAndQuery) throws IOException {
    try {
      HttpRequest request = HttpRequest.newBuilder(URI.create(node.managementUri() + pathAndQuery))
          .timeout(Duration.ofSeconds(20)).method(method, HttpRequest.BodyPublishers.noBody()).build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IOException(node.name() + " " + pathAndQuery + ": HTTP " + response.statusCode() + " " + response.body());
      }
      return JSON.readTree(response.body());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /** Ends every node JVM (SIGCONT first for a paused one). */
  @Override
  public synchronized void close() {
    closed = true; // a restart still under way elsewhere must not bring a node back
    for (Node node : nodes.values()) {
      try {
        kill(node);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      Runtime.getRuntime().removeShutdownHook(stopNodesOnExit);
    } catch (IllegalStateException exiting) {
      // closed by that hook: the JVM is exiting
    }
  }

  private List<String> seedsFor(Node node, boolean firstStart) {
    List<String> seeds = new ArrayList<>();
    if (firstStart) {
      List<Node> all = nodes();
      seeds.add(all.get(0).address());
      seeds.add(all.get(1).address());
    } else {
      for (Node other : nodes.values()) {
        if (other != node) {
          seeds.add(other.address());
        }
      }
    }
    return seeds;
  }

  private synchronized void launch(Node node, List<String> seeds) throws IOException {
    if (closed) {
      throw new IOException("the cluster is closed: " + node.name() + " is not started again");
    }
    Path config = dir.resolve(node.name() + ".conf");
    StringBuilder seedList = new StringBuilder();
    for (String seed : seeds) {
      seedList.append(seedList.isEmpty() ? "" : ", ").append('"').append(seed).append('"');
    }
    Files.writeString(config, """
        include classpath("certmail-node")
        certmail.node { name = "%s", organisations = ["%s"], key-directory = "%s" }
        pekko.remote.artery.canonical { hostname = "127.0.0.1", port = %d }
        pekko.cluster.seed-nodes = [%s]
        certmail.http.port = %d
        pekko.management.http.port = %d
        certmail.chaos { enabled = on, seed = %d }
        %s
        """.formatted(node.name(), node.organisation(), keys.resolve(node.name()).toString().replace("\\", "/"),
        node.arteryPort, seedList, node.httpPort, node.managementPort, node.name().hashCode() * 31L + node.starts,
        nodeConfig.apply(node.spec)));
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    jvmOptions.forEach(option -> command.add(option.replace(NODE_NAME, node.name())));
    command.add("-Dh2.bindAddress=127.0.0.1");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(CertmailCli.class.getName());
    command.add("node");
    command.add("--config");
    command.add(config.toString());
    Path log = log(node);
    Files.writeString(log, "---- start " + (node.starts + 1) + " at " + java.time.Instant.now() + " ----\n",
        StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    node.process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    node.paused = false;
    node.starts++;
  }

  private static void signal(Node node, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(node.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IOException("kill -" + signal + " " + node.pid() + " (" + node.name() + ") failed");
    }
  }

  private static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** Ports this JVM has handed out: two nodes started together must not get the same one. */
  private static final Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private static final int LOWEST_PORT = 20000;
  private static final int PORTS = 12000;

  /**
   * A port nothing listens on right now, below the kernel's range for outgoing connections
   * (32768-60999 on Linux). A port from that range (what {@code new ServerSocket(0)} gives) can be
   * taken by any process's next outgoing connection before the node binds it: a 5-node chaos run
   * failed that way ("Address already in use") while its nodes connected to Cassandra and each other.
   */
  public static int freePort() throws IOException {
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 100; attempt++) {
      int port = LOWEST_PORT + random.nextInt(PORTS);
      if (!HANDED_OUT.add(port)) {
        continue;
      }
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new java.net.InetSocketAddress("127.0.0.1", port));
        return port;
      } catch (IOException inUse) {
        // another listener has it: try the next
      }
    }
    throw new IOException("no free TCP port between " + LOWEST_PORT + " and " + (LOWEST_PORT + PORTS)
        + " after 100 tries: stop stale certmail nodes (ps aux | grep certmail)");
  }
}
