package net.certmail.node.chaos;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import net.certmail.node.cluster.LocalCluster;
import net.certmail.protocol.Timings;

/**
 * The nemesis: injects faults drawn from the seed while the workload runs, one crash-like fault
 * at a time (each followed by the cluster's recovery), envelope faults and clock skew beside them.
 * <ul>
 *   <li>{@code kill}: kill -9 of the node that hosts most entities of mails in flight (cluster
 *       sharding's state of every node), then a restart;</li>
 *   <li>{@code pause}: SIGSTOP of such a node for longer than the failure detector and the split
 *       brain resolver wait, then SIGCONT (the node finds itself downed and is restarted);</li>
 *   <li>{@code partition}: a node cut from all others both ways; {@code partition-one-way}: one
 *       node's messages to another dropped (Artery's test transport), then healed;</li>
 *   <li>{@code cassandra}: the journal stopped and started again while mails flow;</li>
 *   <li>{@code envelopes}: for a while every node's transport drops (never twice in a row),
 *       duplicates, delays and so reorders protocol messages, within half of max-transit;</li>
 *   <li>{@code clock-skew}: every node's clock set off by up to the stated clock-skew.</li>
 * </ul>
 */
final class Nemesis {
  static final List<String> CRASH_KINDS = List.of("kill", "pause", "partition", "partition-one-way", "cassandra");

  private final LocalCluster cluster;
  private final History history;
  private final Random random;
  private final Timings timings;
  private final Supplier<List<MailRecord>> inFlight;
  private final Path cassandraScript;
  private final Path logDir;
  private final Consumer<String> progress;
  private final long pauseBeyondDetectorMillis;
  private final List<Fault> faults = Collections.synchronizedList(new ArrayList<>());
  private volatile boolean stopped;

  /**
   * @param cassandraScript scripts/cassandra.sh to stop and start the journal; null: no journal faults
   * @param pauseBeyondDetectorMillis how long a pause must last to be taken for a crash (failure
   *     detector's acceptable pause + the resolver's stable-after)
   */
  Nemesis(LocalCluster cluster, History history, long seed, Timings timings, Supplier<List<MailRecord>> inFlight,
          Path cassandraScript, Path logDir, long pauseBeyondDetectorMillis, Consumer<String> progress) {
    this.cluster = cluster;
    this.history = history;
    this.random = new Random(seed ^ 0x5DEECE66DL);
    this.timings = timings;
    this.inFlight = inFlight;
    this.cassandraScript = cassandraScript;
    this.logDir = logDir;
    this.pauseBeyondDetectorMillis = pauseBeyondDetectorMillis;
    this.progress = progress;
  }

  List<Fault> faults() {
    synchronized (faults) {
      return List.copyOf(faults);
    }
  }

  void stop() {
    stopped = true;
  }

  /** Injects faults until {@code until} (epoch millis on the history's clock), then heals everything. */
  void run(long until) throws InterruptedException {
    List<String> kinds = new ArrayList<>(CRASH_KINDS);
    if (cassandraScript == null) {
      kinds.remove("cassandra");
    }
    sleep(5_000);
    skewClocks();
    sleep(3_000);
    envelopes(until);
    List<String> rotation = new ArrayList<>();
    boolean firstRound = true;
    while (!stopped && history.now() < until - 20_000) {
      sleep(6_000 + random.nextInt(8_000));
      if (stopped || history.now() >= until - 20_000) {
        break;
      }
      if (rotation.isEmpty()) {
        rotation.addAll(kinds);
        Collections.shuffle(rotation, random);
        if (firstRound && rotation.remove("cassandra")) {
          // The slowest to recover from: last in the first round, so a short run sees the others.
          rotation.add("cassandra");
        }
        if (!firstRound) {
          // Clock skew and envelope faults (both began the run) come back once per round.
          rotation.add(random.nextInt(rotation.size()), "clock-skew");
          rotation.add(random.nextInt(rotation.size()), "envelopes");
        }
        firstRound = false;
      }
      String kind = rotation.remove(0);
      try {
        switch (kind) {
          case "kill" -> kill();
          case "pause" -> pause();
          case "partition" -> partition();
          case "partition-one-way" -> partitionOneWay();
          case "cassandra" -> cassandra();
          case "clock-skew" -> skewClocks();
          case "envelopes" -> envelopes(until);
          default -> throw new IllegalStateException(kind);
        }
      } catch (NoTarget e) {
        rotation.add(0, kind); // every organisation is still recovering: try again after the next gap
      } catch (IOException e) {
        // A node that was still starting does not answer (a ConnectException has no message).
        String error = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        history.add("nemesis", "info", kind, null, Map.of("error", error));
        progress.accept("nemesis: " + kind + " failed: " + error);
        liftPartitions(); // a partition that failed half-way leaves no cut behind
        recover(null);
      }
    }
  }

  /** Lifts every fault: partitions healed, envelopes and clocks honest again, every node running. */
  void healAll() throws InterruptedException {
    for (LocalCluster.Node node : cluster.nodes()) {
      if (node.alive() && !node.paused()) {
        quietly(node, "POST", "/chaos/heal");
        quietly(node, "POST", "/chaos/faults?drop=0&duplicate=0&delay=0&maxDelayMillis=0");
      }
    }
    awaitWhole(null);
  }

  // ---- the faults ----

  private void kill() throws IOException, InterruptedException, NoTarget {
    Target target = hostOfMailsInFlight();
    Fault fault = begin("kill", target.node, target.detail);
    cluster.kill(target.node);
    history.add("nemesis", "info", "kill", null, Map.of("node", target.node.name()));
    fault.endedAt = history.now();
    recover(fault);
  }

  private void pause() throws IOException, InterruptedException, NoTarget {
    Target target = hostOfMailsInFlight();
    long pauseMillis = pauseBeyondDetectorMillis + 3_000 + random.nextInt(5_000);
    Fault fault = begin("pause", target.node, target.detail + "; SIGSTOP for " + pauseMillis / 1000 + " s");
    cluster.pause(target.node);
    sleep(pauseMillis);
    if (target.node.alive()) {
      cluster.resume(target.node);
    }
    history.add("nemesis", "info", "resume", null, Map.of("node", target.node.name()));
    fault.endedAt = history.now();
    recover(fault);
  }

  private void partition() throws IOException, InterruptedException, NoTarget {
    List<LocalCluster.Node> live = live();
    List<LocalCluster.Node> candidates = candidates();
    LocalCluster.Node isolated = candidates.get(random.nextInt(candidates.size()));
    long holdMillis = pauseBeyondDetectorMillis + 3_000 + random.nextInt(5_000);
    Fault fault = begin("partition", isolated, "cut from every other node both ways for " + holdMillis / 1000 + " s");
    for (LocalCluster.Node other : live) {
      if (other != isolated) {
        cluster.chaos(isolated, "POST", "/chaos/partition?address=" + other.address() + "&direction=both");
        cluster.chaos(other, "POST", "/chaos/partition?address=" + isolated.address() + "&direction=both");
      }
    }
    sleep(holdMillis);
    heal(fault);
  }

  private void partitionOneWay() throws IOException, InterruptedException, NoTarget {
    List<LocalCluster.Node> live = live();
    List<LocalCluster.Node> candidates = candidates();
    LocalCluster.Node from = candidates.get(random.nextInt(candidates.size()));
    List<LocalCluster.Node> others = new ArrayList<>(live);
    others.remove(from);
    LocalCluster.Node to = others.get(random.nextInt(others.size()));
    long holdMillis = pauseBeyondDetectorMillis + 3_000 + random.nextInt(5_000);
    Fault fault = begin("partition-one-way", from, "messages " + from.name() + " -> " + to.name() + " dropped for "
        + holdMillis / 1000 + " s (" + to.name() + " -> " + from.name() + " flows)");
    cluster.chaos(from, "POST", "/chaos/partition?address=" + to.address() + "&direction=send");
    sleep(holdMillis);
    heal(fault);
  }

  private void heal(Fault fault) throws InterruptedException {
    liftPartitions();
    history.add("nemesis", "info", "heal", null, Map.of());
    fault.endedAt = history.now();
    recover(fault);
  }

  private void cassandra() throws IOException, InterruptedException {
    Fault fault = begin("cassandra", null, "journal stopped (SIGTERM) and started again");
    script("stop");
    history.add("nemesis", "info", "cassandra-stopped", null, Map.of());
    sleep(2_000 + random.nextInt(4_000));
    script("start");
    history.add("nemesis", "info", "cassandra-started", null, Map.of());
    fault.endedAt = history.now();
    fault.detail = "journal stopped (SIGTERM) and started again; down " + (fault.endedAt - fault.startedAt) / 1000 + " s";
    recover(fault);
  }

  private void envelopes(long until) {
    long maxDelay = Math.min(timings.maxTransit().toMillis() / 2, 5_000);
    long window = Math.min(40_000, Math.max(10_000, until - history.now() - 10_000));
    Fault fault = begin("envelopes", null, "drop 20% (never twice in a row per kind and pair), duplicate 10%, delay"
        + " 30% up to " + maxDelay + " ms, on every node for " + window / 1000 + " s");
    for (LocalCluster.Node node : live()) {
      quietly(node, "POST", "/chaos/faults?drop=0.2&duplicate=0.1&delay=0.3&maxDelayMillis=" + maxDelay);
    }
    Thread off = new Thread(() -> {
      try {
        Thread.sleep(window);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      for (LocalCluster.Node node : cluster.nodes()) {
        if (node.alive() && !node.paused()) {
          quietly(node, "POST", "/chaos/faults?drop=0&duplicate=0&delay=0&maxDelayMillis=0");
        }
      }
      history.add("nemesis", "info", "envelopes-off", null, Map.of());
      fault.endedAt = history.now();
      fault.wholeAt = fault.endedAt;
    }, "nemesis-envelopes-off");
    off.setDaemon(true);
    off.start();
  }

  private void skewClocks() {
    long skew = timings.clockSkew().toMillis();
    StringBuilder offsets = new StringBuilder();
    Fault fault = begin("clock-skew", null, "");
    for (LocalCluster.Node node : live()) {
      long offset = (long) ((random.nextDouble() * 2 - 1) * skew);
      quietly(node, "POST", "/chaos/clock?offsetMillis=" + offset);
      offsets.append(offsets.isEmpty() ? "" : ", ").append(node.name()).append(' ').append(offset > 0 ? "+" : "")
          .append(offset).append(" ms");
    }
    fault.detail = "clocks set off (bound " + skew + " ms): " + offsets;
    fault.endedAt = history.now();
    fault.wholeAt = fault.endedAt;
  }

  // ---- helpers ----

  private record Target(LocalCluster.Node node, String detail) {}

  /**
   * The node that runs most entities of the mails in flight, by sharding's state on each node; a
   * random live node when none is in flight (the detail says so).
   */
  private Target hostOfMailsInFlight() throws NoTarget {
    List<MailRecord> flying = inFlight.get();
    Map<LocalCluster.Node, List<String>> hosted = new LinkedHashMap<>();
    for (LocalCluster.Node node : candidates()) {
      Set<String> entities = cluster.entities(node);
      List<String> mine = new ArrayList<>();
      for (MailRecord mail : flying) {
        for (String id : entityIds(mail)) {
          if (entities.contains(id)) {
            mine.add(id);
          }
        }
      }
      hosted.put(node, mine);
    }
    LocalCluster.Node best = null;
    for (Map.Entry<LocalCluster.Node, List<String>> entry : hosted.entrySet()) {
      if (best == null || entry.getValue().size() > hosted.get(best).size()
          || (entry.getValue().size() == hosted.get(best).size() && random.nextBoolean())) {
        best = entry.getKey();
      }
    }
    List<String> ids = hosted.get(best);
    String detail = ids.isEmpty() ? "no mail in flight: a random node"
        : "hosted " + ids.size() + " entities of the " + flying.size() + " mails in flight (sharding state), e.g. "
            + ids.get(0);
    return new Target(best, detail);
  }

  /** The entities a mail in flight has: A's outbox entry, each server's part, B's inbox entry. */
  static List<String> entityIds(MailRecord mail) {
    List<String> ids = new ArrayList<>();
    ids.add(mail.plan.sender() + "|" + mail.plan.submissionId());
    ids.add("alpha.example|" + mail.label);
    if (mail.plan.longRoute()) {
      ids.add("relay.example|" + mail.label);
      ids.add("beta.example|" + mail.label);
    }
    ids.add(mail.plan.recipient() + "|" + mail.label);
    return ids;
  }

  private Fault begin(String kind, LocalCluster.Node target, String detail) {
    Fault fault = new Fault(kind, target == null ? "" : target.name(), history.now());
    fault.detail = detail;
    faults.add(fault);
    Map<String, Object> value = new LinkedHashMap<>();
    if (target != null) {
      value.put("node", target.name());
    }
    value.put("detail", detail);
    history.add("nemesis", "invoke", kind, null, value);
    progress.accept("nemesis: " + kind + (target == null ? "" : " " + target.name()) + (detail.isEmpty() ? "" : ": " + detail));
    return fault;
  }

  /** No node may be hit now: every organisation with a node down is left alone until it is whole. */
  static final class NoTarget extends Exception {
    NoTarget() {
      super("no organisation is whole", null, false, false);
    }
  }

  /**
   * Nodes a fault may hit: running nodes of organisations whose every node is running and ready, so
   * that a fault never takes an organisation's last node while its other one is still coming back.
   */
  private List<LocalCluster.Node> candidates() throws NoTarget {
    Map<String, Boolean> whole = new LinkedHashMap<>();
    Map<LocalCluster.Node, Boolean> ready = new LinkedHashMap<>();
    for (LocalCluster.Node node : cluster.nodes()) {
      boolean up = node.alive() && !node.paused() && !restarting.contains(node.name()) && cluster.ready(node);
      ready.put(node, up);
      whole.merge(node.organisation(), up, Boolean::logicalAnd);
    }
    List<LocalCluster.Node> candidates = cluster.nodes().stream()
        .filter(node -> ready.get(node) && whole.get(node.organisation())).toList();
    if (candidates.isEmpty()) {
      throw new NoTarget();
    }
    return candidates;
  }

  private final Set<String> restarting = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Starts every node that is not running again, each in the background (a restart on a loaded machine takes minutes). */
  void restartTheDead() {
    if (stopped) {
      return; // the run is over: the cluster is being shut down
    }
    for (LocalCluster.Node node : cluster.nodes()) {
      if (!node.alive() && restarting.add(node.name())) {
        history.add("nemesis", "invoke", "restart", null, Map.of("node", node.name()));
        progress.accept("nemesis: restarting " + node.name());
        Thread thread = new Thread(() -> {
          try {
            cluster.restart(node, Duration.ofMinutes(5));
            history.add("nemesis", "ok", "restart", null, Map.of("node", node.name()));
            progress.accept("nemesis: " + node.name() + " is back");
          } catch (IOException e) {
            history.add("nemesis", "fail", "restart", null, Map.of("node", node.name(),
                "error", String.valueOf(e.getMessage())));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } finally {
            restarting.remove(node.name());
          }
        }, "nemesis-restart-" + node.name());
        thread.setDaemon(true);
        thread.start();
      }
    }
  }

  private boolean allReady() {
    return cluster.nodes().stream().allMatch(n -> n.alive() && !n.paused() && !restarting.contains(n.name())
        && cluster.ready(n));
  }

  /**
   * After a fault: dead nodes are restarted in the background; returns once every organisation
   * has a ready node and a majority of nodes is ready (the next fault then hits only whole
   * organisations), and records, when it happens, the instant the cluster is whole again.
   */
  private void recover(Fault fault) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    restartTheDead();
    if (fault != null) {
      Thread watcher = new Thread(() -> {
        try {
          awaitWhole(fault);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "nemesis-whole-" + fault.kind);
      watcher.setDaemon(true);
      watcher.start();
    }
    while (System.nanoTime() < deadline && !stopped) {
      restartTheDead();
      Map<String, Boolean> served = new LinkedHashMap<>();
      int ready = 0;
      for (LocalCluster.Node node : cluster.nodes()) {
        boolean up = node.alive() && !node.paused() && !restarting.contains(node.name()) && cluster.ready(node);
        ready += up ? 1 : 0;
        served.merge(node.organisation(), up, Boolean::logicalOr);
      }
      if (ready * 2 > cluster.nodes().size() && !served.containsValue(false)) {
        return;
      }
      Thread.sleep(1_000);
    }
  }

  /** Restarts every node that is not running and waits until all are ready; records when the cluster was whole again. */
  void awaitWhole(Fault fault) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    while (System.nanoTime() < deadline && !stopped) {
      restartTheDead();
      if (allReady()) {
        if (fault != null) {
          fault.wholeAt = history.now();
          history.add("nemesis", "ok", fault.kind, null, Map.of("wholeAfterMillis", fault.wholeAt - fault.startedAt));
          progress.accept("nemesis: " + fault.kind + " over, cluster whole after "
              + (fault.wholeAt - fault.startedAt) / 1000 + " s");
        }
        return;
      }
      Thread.sleep(1_000);
    }
    if (!stopped) {
      progress.accept("nemesis: the cluster was not whole again within 10 minutes");
    }
  }

  private void liftPartitions() {
    for (LocalCluster.Node node : cluster.nodes()) {
      if (node.alive() && !node.paused()) {
        quietly(node, "POST", "/chaos/heal");
      }
    }
  }

  /** Nodes a fault can involve: running, not paused, not being started again. */
  private List<LocalCluster.Node> live() {
    return cluster.nodes().stream().filter(n -> n.alive() && !n.paused() && !restarting.contains(n.name())).toList();
  }

  private void quietly(LocalCluster.Node node, String method, String path) {
    try {
      cluster.chaos(node, method, path);
    } catch (IOException e) {
      history.add("nemesis", "info", "control", null, Map.of("node", node.name(), "request", path,
          "error", String.valueOf(e.getMessage())));
    }
  }

  private void script(String command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(cassandraScript.toString(), command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logDir.resolve("cassandra-nemesis.log").toFile())).start();
    if (process.waitFor() != 0) {
      throw new IOException(cassandraScript + " " + command + " failed (exit " + process.exitValue() + "); see "
          + logDir.resolve("cassandra-nemesis.log"));
    }
  }

  private void sleep(long millis) throws InterruptedException {
    long until = System.nanoTime() + millis * 1_000_000;
    while (!stopped && System.nanoTime() < until) {
      Thread.sleep(Math.min(250, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
    }
  }
}
