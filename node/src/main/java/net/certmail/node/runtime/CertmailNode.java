package net.certmail.node.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.slf4j.LoggerFactory;
import net.certmail.actors.CertmailEngine;
import net.certmail.actors.EngineSettings;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.node.metrics.NodeMetrics;
import net.certmail.node.trust.MembershipGuard;
import net.certmail.node.trust.NodeTrust;
import net.certmail.persistence.EmbeddedJournalSchema;
import net.certmail.persistence.MailboxIndex;
import net.certmail.persistence.JournalBackend;
import net.certmail.protocol.Routing;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import net.certmail.node.chaos.ChaosSwitch;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * One certmail node: an ActorSystem in the cluster with its organisations as roles, the journal
 * its settings name, the key directory of this node (private keys of its own organisations
 * only), and the protocol engine.
 *
 * <p>Settings ({@code certmail.node.*}, see certmail-node.conf): name, organisations,
 * key-directory; the journal under {@code certmail.journal}; cluster seeds under
 * {@code pekko.cluster.seed-nodes} (empty: the node joins the address it is given, or itself).
 */
public final class CertmailNode implements AutoCloseable {
  private final String name;
  private final List<String> organisations;
  private final ActorSystem<Void> system;
  private final CertmailEngine engine;
  private final KeyDirectory.Loaded keys;
  private final MeterRegistry meters;
  private final Path keyDirectory;
  private final JournalBackend journal;
  private final Clock clock;
  private final CompletionStage<Done> stopped;

  private CertmailNode(String name, List<String> organisations, ActorSystem<Void> system, CertmailEngine engine,
                       Path keyDirectory, KeyDirectory.Loaded keys, MeterRegistry meters, JournalBackend journal,
                       Clock clock, CompletionStage<Done> stopped) {
    this.name = name;
    this.stopped = stopped;
    this.clock = clock;
    this.journal = journal;
    this.keyDirectory = keyDirectory;
    this.organisations = List.copyOf(organisations);
    this.system = system;
    this.engine = engine;
    this.keys = keys;
    this.meters = meters;
  }

  /**
   * Starts a node from its own settings (parsed, not loaded: see {@link JournalBackend#config}).
   *
   * @param joinAddress where to join when the settings name no seed nodes; null: form a cluster alone
   */
  public static CertmailNode start(Config settings, Clock clock, Address joinAddress) throws IOException {
    Config nodeSettings = settings.resolve().getConfig("certmail.node");
    String name = nodeSettings.getString("name");
    List<String> organisations = nodeSettings.getStringList("organisations");
    if (organisations.isEmpty()) {
      throw new IllegalArgumentException("node " + name + " serves no organisation: set certmail.node.organisations");
    }
    Path keyDirectory = Path.of(nodeSettings.getString("key-directory"));
    KeyDirectory.Loaded keys = KeyDirectory.load(keyDirectory);
    Map<String, PrincipalKeys> hosted = keys.keys().entrySet().stream()
        .filter(entry -> organisations.contains(Routing.organisationOf(entry.getKey())))
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));

    Config withRoles = settings.withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(organisations));
    JournalBackend backend = JournalBackend.fromSettings(withRoles);
    // Every journal write timed and counted for /metrics.
    Config config = NodeMetrics.withMeteredJournal(backend.config(withRoles), backend);
    boolean chaos = ChaosSwitch.enabled(config);
    if (chaos) {
      config = ChaosSwitch.configure(config);
    }
    EngineSettings engineSettings = EngineSettings.fromConfig(config); // inconsistent timings: refuse before joining
    // Who may join: TLS beyond loopback, and only organisations the node's certificate names.
    boolean tls = NodeTrust.check(config, name, organisations, keyDirectory).isPresent();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "certmail", config);
    CompletionStage<Done> stopped = whenStopped(system);
    try {
      if (tls) {
        // Before joining, so that no member is seen unchecked.
        system.systemActorOf(MembershipGuard.create(), "certmail-membership-guard", Props.empty());
      }
      if (backend == JournalBackend.EMBEDDED) {
        EmbeddedJournalSchema.ensureCreated(system);
      }
      Cluster cluster = Cluster.get(system);
      if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
        cluster.manager().tell(Join.create(joinAddress != null ? joinAddress : cluster.selfMember().address()));
      }
      awaitUp(cluster, name, nodeSettings.getDuration("join-timeout"));
      NodeMetrics metrics = NodeMetrics.get(system);
      MeterRegistry meters = metrics.registry();
      CertmailEngine engine;
      Clock engineClock = clock;
      if (chaos) {
        // A chaos run's node: a clock it may skew and a transport it may make faulty (both off at first).
        ChaosSwitch switches = ChaosSwitch.ID.get(Adapter.toClassic(system));
        engineClock = switches.clock(clock, engineSettings.timings().clockSkew(), engineSettings.timings().maxTransit());
        long seed = config.hasPath("certmail.chaos.seed") ? config.getLong("certmail.chaos.seed") : name.hashCode();
        engine = CertmailEngine.start(system, engineSettings, hosted, keys.trustStore(), engineClock, meters,
            transport -> switches.transport(transport, seed));
        switches.engine(engine);
      } else {
        engine = CertmailEngine.start(system, engineSettings, hosted, keys.trustStore(), clock, meters);
      }
      metrics.watchEntities(system, organisations);
      return new CertmailNode(name, organisations, system, engine, keyDirectory, keys, meters, backend, engineClock,
          stopped);
    } catch (RuntimeException e) {
      // Refused or failed: stopped here, so that nothing of it (a transport still dialling the
      // seeds) outlives the error.
      try {
        stop(system, stopped, name);
      } catch (IllegalStateException notStopped) {
        e.addSuppressed(notStopped);
      }
      throw e;
    }
  }

  private static void awaitUp(Cluster cluster, String name, Duration timeout) {
    long until = System.nanoTime() + timeout.toNanos();
    boolean member = false;
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > until) {
        throw new IllegalStateException("node " + name + " did not join the cluster within " + timeout.toSeconds()
            + " s: check that its seed nodes are running and reachable (pekko.cluster.seed-nodes), and that its"
            + " certificate (<key-directory>/tls/node.pem) is of the network's CA: the seeds log a refused TLS handshake");
      }
      // Removed is also the status before the first Join is answered: it counts once the node was a member.
      MemberStatus status = cluster.selfMember().status();
      member |= status == MemberStatus.joining() || status == MemberStatus.weaklyUp();
      if (status == MemberStatus.down() || (member && status == MemberStatus.removed())) {
        throw new IllegalStateException("node " + name + " was downed while joining: the other nodes' logs say why"
            + " (e.g. an organisation its certificate does not name)");
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while joining the cluster", e);
      }
    }
  }

  public String name() {
    return name;
  }

  /** The clock the engine runs on: the one given, or a chaos run's skewable one. */
  public Clock clock() {
    return clock;
  }

  /** The labels delivered to a mailbox, from this node's journal. */
  public MailboxIndex mailboxIndex() {
    return new MailboxIndex(engine.inboxIndex());
  }

  /** The organisations (cluster roles) this node serves. */
  public List<String> organisations() {
    return organisations;
  }

  /** The mailboxes this node hosts: those of its organisations whose private keys it holds. */
  public java.util.Set<String> hostedMailboxes() {
    return keys.keys().keySet().stream()
        .filter(principal -> Routing.isMailbox(principal) && organisations.contains(Routing.organisationOf(principal)))
        .collect(Collectors.toUnmodifiableSet());
  }

  /** The node's key directory (certificates, own private keys, bearer tokens). */
  public Path keyDirectory() {
    return keyDirectory;
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public CertmailEngine engine() {
    return engine;
  }

  public KeyDirectory.Loaded keys() {
    return keys;
  }

  /** The node's metrics, as /metrics on the management port shows them. */
  public MeterRegistry meters() {
    return meters;
  }

  public Address address() {
    return Cluster.get(system).selfMember().address();
  }

  /**
   * Completes once the node has stopped, whoever stopped it (close(), a signal, the split brain
   * resolver): see {@link #whenStopped(ActorSystem)}.
   */
  public CompletionStage<Done> stopped() {
    return stopped;
  }

  /** Leaves the cluster gracefully (coordinated shutdown hands its entities over) and stops. */
  @Override
  public void close() {
    stop(system, stopped, name);
  }

  /**
   * Runs coordinated shutdown and waits until the node has stopped. Every phase of it has a
   * timeout, so it ends within their sum; a node that did not stop by then (plus a margin for a
   * loaded machine) is a failure of another kind, and says so.
   */
  private static void stop(ActorSystem<Void> system, CompletionStage<Done> stopped, String name) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(Adapter.toClassic(system));
    long bound = shutdown.totalTimeout().toMillis() + STOP_MARGIN.toMillis();
    system.terminate(); // runs coordinated shutdown (run-by-actor-system-terminate)
    try {
      stopped.toCompletableFuture().get(bound, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("node " + name + " did not stop within " + bound / 1000 + " s, the sum of its"
          + " coordinated shutdown phases' timeouts: a phase or task does not end; run with"
          + " CERTMAIL_LOG_LEVEL=DEBUG to see which phase it was in", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("node " + name + " failed while stopping: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while node " + name + " was stopping", e);
    }
  }

  /** Beyond coordinated shutdown's own timeouts: a loaded machine runs its phases late. */
  private static final Duration STOP_MARGIN = Duration.ofSeconds(30);

  /**
   * When a node has stopped: its ActorSystem terminated, or, at the latest, its coordinated
   * shutdown completed every phase up to actor-system-terminate (it has left the cluster, handed
   * its shards over and its actors have stopped) and that last phase's own timeout has passed.
   *
   * <p>The second case is Pekko's, not ours: after the actors have stopped, Artery's transport
   * waits without a bound for each of its remoting streams to complete (apache/pekko#3247; later
   * Pekko versions bound it with pekko.remote.artery.advanced.shutdown-streams-timeout). Over TLS a
   * stream to a peer that has just left or been downed was seen to never complete: the log then
   * shows "proceeding with flushing remote transports" but never "Remoting shut down", and
   * {@code whenTerminated} never completes, so a node waiting for it took minutes, or forever, to
   * stop. Nothing of the node runs any more by then but that transport, which the JVM's exit ends.
   */
  public static CompletionStage<Done> whenStopped(ActorSystem<Void> system) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(Adapter.toClassic(system));
    CompletableFuture<Done> actorsStopped = new CompletableFuture<>();
    // The last phase's tasks start once every earlier phase has completed or timed out.
    shutdown.addTask(CoordinatedShutdown.PhaseActorSystemTerminate(), "certmail-node-stopped", () -> {
      actorsStopped.complete(Done.getInstance());
      return CompletableFuture.completedFuture(Done.getInstance());
    });
    Duration lastPhase = Duration.ofMillis(shutdown.timeout(CoordinatedShutdown.PhaseActorSystemTerminate()).toMillis());
    CompletableFuture<Done> terminated = system.getWhenTerminated().toCompletableFuture();
    CompletableFuture<Done> stopped = new CompletableFuture<>();
    terminated.whenComplete((done, failure) -> stopped.complete(Done.getInstance()));
    actorsStopped.thenRun(() -> CompletableFuture.delayedExecutor(lastPhase.toMillis() + 2_000, TimeUnit.MILLISECONDS)
        .execute(() -> {
          if (!terminated.isDone()) {
            LoggerFactory.getLogger(CertmailNode.class).warn("the node has left the cluster and its actors have"
                + " stopped, but Pekko's remoting transport has not finished stopping {} s later (a remoting stream"
                + " that does not complete, apache/pekko#3247): the node counts as stopped", lastPhase.toSeconds() + 2);
          }
          stopped.complete(Done.getInstance());
        }));
    return stopped;
  }

  /** Settings from a file, with its includes resolved against the classpath. */
  public static Config parse(Path file) {
    if (!file.toFile().isFile()) {
      throw new IllegalArgumentException("no node configuration at " + file
          + ": pass a file such as cluster-config/local/alpha-1.conf");
    }
    return ConfigFactory.parseFile(file.toFile());
  }
}
