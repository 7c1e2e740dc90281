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
import java.util.stream.Collectors;
import net.certmail.actors.CertmailEngine;
import net.certmail.actors.EngineSettings;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.node.metrics.NodeMetrics;
import net.certmail.node.trust.MembershipGuard;
import net.certmail.node.trust.NodeTrust;
import net.certmail.persistence.EmbeddedJournalSchema;
import net.certmail.persistence.InboxLabels;
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

  private CertmailNode(String name, List<String> organisations, ActorSystem<Void> system, CertmailEngine engine,
                       Path keyDirectory, KeyDirectory.Loaded keys, MeterRegistry meters, JournalBackend journal,
                       Clock clock) {
    this.name = name;
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
      return new CertmailNode(name, organisations, system, engine, keyDirectory, keys, meters, backend, engineClock);
    } catch (RuntimeException e) {
      system.terminate();
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
  public InboxLabels inboxLabels() {
    return new InboxLabels(engine.inboxIndex());
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

  /** Leaves the cluster gracefully (coordinated shutdown hands its entities over) and stops. */
  @Override
  public void close() {
    system.terminate();
    try {
      // Longer than coordinated shutdown's phases take together when a peer was just downed
      // (sharding hand-over, leaving, exiting): one such stop took over 60 s in a full test run.
      system.getWhenTerminated().toCompletableFuture().get(120, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("node " + name + " did not stop within 120 s", e);
    }
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
