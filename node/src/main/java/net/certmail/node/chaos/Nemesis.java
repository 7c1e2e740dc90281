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
    while (!stopped && history.now() < until - 20_000) {
      sleep(6_000 + random.nextInt(8_000));
      if (stopped || history.now() >= until - 20_000) {
        break;
      }
      if (rotation.isEmpty()) {
        rotation.addAll(kinds);
        Collections.shuffle(rotation, random);
        // Clock skew and envelope faults come back once per round, beside the crashes.
        rotation.add(random.nextInt(rotation.size()), "clock-skew");
        rotation.add(random.nextInt(rotation.size()), "envelopes");
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
      } catch (IOException e) {
        history.add("nemesis", "info", kind, null, Map.of("error", String.valueOf(e.getMessage())));
        progress.accept("nemesis: " + kind + " failed: " + e.getMessage());
        awaitWhole(null);
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

  private void kill() throws IOException, InterruptedException {
    Target target = hostOfMailsInFlight();
    Fault fault = begin("kill", target.node, target.detail);
    cluster.kill(target.node);
    history.add("nemesis", "info", "kill", null, Map.of("node", target.node.name()));
    fault.endedAt = history.now();
    awaitWhole(fault);
  }

  private void pause() throws IOException, InterruptedException {
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
    awaitWhole(fault);
  }

  private void partition() throws IOException, InterruptedException {
    List<LocalCluster.Node> live = live();
    LocalCluster.Node isolated = live.get(random.nextInt(live.size()));
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

  private void partitionOneWay() throws IOException, InterruptedException {
    List<LocalCluster.Node> live = live();
    LocalCluster.Node from = live.get(random.nextInt(live.size()));
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
    for (LocalCluster.Node node : cluster.nodes()) {
      if (node.alive() && !node.paused()) {
        quietly(node, "POST", "/chaos/heal");
      }
    }
    history.add("nemesis", "info", "heal", null, Map.of());
    fault.endedAt = history.now();
    awaitWhole(fault);
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
    awaitWhole(fault);
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
  private Target hostOfMailsInFlight() {
    List<MailRecord> flying = inFlight.get();
    Map<LocalCluster.Node, List<String>> hosted = new LinkedHashMap<>();
    for (LocalCluster.Node node : live()) {
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

  /**
   * Restarts every node that is not running (killed, or ended by itself after being downed) and
   * waits until all are ready; records when the cluster was whole again.
   */
  void awaitWhole(Fault fault) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (System.nanoTime() < deadline) {
      boolean whole = true;
      for (LocalCluster.Node node : cluster.nodes()) {
        if (node.paused()) {
          continue;
        }
        if (!node.alive()) {
          whole = false;
          history.add("nemesis", "info", "restart", null, Map.of("node", node.name()));
          progress.accept("nemesis: restarting " + node.name());
          try {
            cluster.restart(node, Duration.ofMinutes(3));
            history.add("nemesis", "ok", "restart", null, Map.of("node", node.name()));
          } catch (IOException e) {
            history.add("nemesis", "fail", "restart", null, Map.of("node", node.name(),
                "error", String.valueOf(e.getMessage())));
          }
        } else if (!cluster.ready(node)) {
          whole = false;
        }
      }
      if (whole) {
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
    progress.accept("nemesis: the cluster was not whole again within 5 minutes");
  }

  private List<LocalCluster.Node> live() {
    return cluster.nodes().stream().filter(n -> n.alive() && !n.paused()).toList();
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
