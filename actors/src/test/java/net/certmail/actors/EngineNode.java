package net.certmail.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValueFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import net.certmail.persistence.EmbeddedJournalSchema;
import net.certmail.persistence.JournalBackend;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardRegion.CurrentShardRegionState;
import org.apache.pekko.cluster.sharding.ShardRegion.ShardState;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.HashCodeMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;

/** One certmail node in a test: an ActorSystem in the cluster, running the engine for its organisations. */
public final class EngineNode implements AutoCloseable {
  public final ActorSystem<Void> system;
  public final CertmailEngine engine;
  /** The node's meters (certmail_*), as its /metrics would show them. */
  public final io.micrometer.core.instrument.MeterRegistry registry;

  private EngineNode(ActorSystem<Void> system, CertmailEngine engine, io.micrometer.core.instrument.MeterRegistry registry) {
    this.system = system;
    this.engine = engine;
    this.registry = registry;
  }

  /**
   * The Artery settings every certmail node runs with (certmail-artery.conf, which the nodes'
   * certmail-cluster.conf includes): the large-message channel for mails up to max-content-size.
   */
  public static Config artery() {
    return ConfigFactory.parseResources(EngineNode.class.getClassLoader(), "certmail-artery.conf",
        ConfigParseOptions.defaults().setAllowMissing(false));
  }

  /** The in-memory journal of pekko-persistence-testkit: one per ActorSystem. */
  public static Config inMemoryJournal() {
    return PersistenceTestKitPlugin.getInstance().config()
        .withFallback(PersistenceTestKitSnapshotPlugin.config());
  }

  /** The embedded H2 journal in a directory: shared by every node of this JVM, and kept across restarts. */
  public static Config embeddedJournal(Path directory) {
    return ConfigFactory.parseString("certmail.journal.embedded.path = \"" + directory.toAbsolutePath().resolve("journal")
            + "\"")
        .withFallback(ConfigFactory.parseResources(JournalBackend.class.getClassLoader(),
            JournalBackend.EMBEDDED.resource()));
  }

  public static EngineNode start(TestNetwork network, ManualClock clock, List<String> organisations,
                                 Config journal, Address seed) {
    return start(network, clock, organisations, journal, seed, ConfigFactory.empty());
  }

  /** @param overrides settings that take precedence over the test network's (e.g. the engine's limits) */
  public static EngineNode start(TestNetwork network, ManualClock clock, List<String> organisations,
                                 Config journal, Address seed, Config overrides) {
    return start(network, clock, organisations, journal, seed, overrides, UnaryOperator.identity());
  }

  /** @param transport wraps the node's transport (a test that records what the entities send) */
  public static EngineNode start(TestNetwork network, ManualClock clock, List<String> organisations,
                                 Config journal, Address seed, Config overrides, UnaryOperator<Transport> transport) {
    Config config = overrides.withFallback(ConfigFactory.parseString("""
            pekko.actor.provider = cluster
            pekko.remote.artery.canonical.hostname = "127.0.0.1"
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            pekko.cluster.downing-provider-class = "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"
            pekko.cluster.split-brain-resolver.stable-after = 2s
            pekko.coordinated-shutdown.exit-jvm = off
            pekko.coordinated-shutdown.terminate-actor-system = on
            pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
            pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
            pekko.cluster.sharding.distributed-data.durable.keys = []
            """)
        .withValue("certmail.reminders.jdbc-url", ConfigValueFactory.fromAnyRef(network.reminderDatabase))
        .withValue("pekko.cluster.roles", ConfigFactory.parseString("r = " + quoted(organisations)).getValue("r"))
        .withFallback(ConfigFactory.parseString(TestNetwork.engineConfig()))
        .withFallback(journal)
        .withFallback(artery())
        .withFallback(ConfigFactory.load()))
        .resolve();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "certmail", config);
    if (config.getString("pekko.persistence.journal.plugin").equals("jdbc-journal")) {
      EmbeddedJournalSchema.ensureCreated(system);
    }
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(seed == null ? cluster.selfMember().address() : seed));
    awaitCondition(() -> cluster.selfMember().status() == MemberStatus.up(), Duration.ofSeconds(30),
        "node joined the cluster");
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CertmailEngine engine = CertmailEngine.start(system, EngineSettings.fromConfig(config),
        network.keysOf(organisations), network.trustStore(), clock, registry, transport);
    return new EngineNode(system, engine, registry);
  }

  /**
   * Whether this node's shard region holds the shard of the entity, running or not: an entity
   * with nothing due passivates, but its shard stays where it was allocated, and a message to the
   * entity starts it there.
   */
  public boolean holdsShardOf(EntityTypeKey<?> typeKey, String entityId) {
    String shardId = new HashCodeMessageExtractor<>(system.settings().config()
        .getInt("pekko.cluster.sharding.number-of-shards")).shardId(entityId);
    return shards(typeKey).stream().anyMatch(shard -> shard.shardId().equals(shardId));
  }

  /** The ids of the entities of a type running on this node now. */
  public java.util.Set<String> runningEntities(EntityTypeKey<?> typeKey) {
    java.util.Set<String> ids = new java.util.HashSet<>();
    shards(typeKey).forEach(shard -> ids.addAll(shard.getEntityIds()));
    return ids;
  }

  private java.util.Set<ShardState> shards(EntityTypeKey<?> typeKey) {
    try {
      CurrentShardRegionState state = AskPattern.<ClusterShardingQuery, CurrentShardRegionState>ask(
              ClusterSharding.get(system).shardState(), replyTo -> new GetShardRegionState(typeKey, replyTo),
              Duration.ofSeconds(5), system.scheduler())
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      return state.getShards();
    } catch (Exception e) {
      throw new IllegalStateException("could not ask the shard region of " + typeKey.name(), e);
    }
  }

  public Address address() {
    return Cluster.get(system).selfMember().address();
  }

  @Override
  public void close() {
    if (system.whenTerminated().isCompleted()) {
      return;
    }
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("node did not stop", e);
    }
  }

  /** Polls an asynchronous query until its answer satisfies the condition. */
  public static <T> T await(Supplier<CompletionStage<T>> query, Predicate<T> condition, Duration timeout,
                            String what) {
    return await(query, condition, timeout, what, () -> {});
  }

  /**
   * Like {@link #await(Supplier, Predicate, Duration, String)}, while protocol time passes: the
   * test's clock moves one {@code step} before each poll, so that resends of messages lost to a
   * node that went down fall due. Only for tests whose scenario loses messages.
   */
  public static <T> T awaitWhileTimePasses(ManualClock clock, Duration step, Supplier<CompletionStage<T>> query,
                                           Predicate<T> condition, Duration timeout, String what) {
    return await(query, condition, timeout, what, () -> clock.advance(step));
  }

  private static <T> T await(Supplier<CompletionStage<T>> query, Predicate<T> condition, Duration timeout,
                             String what, Runnable beforeEachPoll) {
    long until = System.nanoTime() + timeout.toNanos();
    T last = null;
    Exception failure = null;
    while (System.nanoTime() < until) {
      beforeEachPoll.run();
      try {
        last = query.get().toCompletableFuture().get(5, TimeUnit.SECONDS);
        if (condition.test(last)) {
          return last;
        }
      } catch (Exception e) {
        failure = e;
      }
      sleep(50);
    }
    throw new AssertionError("timed out waiting for " + what + "; last answer: " + last, failure);
  }

  public static void awaitCondition(Supplier<Boolean> condition, Duration timeout, String what) {
    long until = System.nanoTime() + timeout.toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > until) {
        throw new AssertionError("timed out waiting until " + what);
      }
      sleep(50);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String quoted(List<String> values) {
    return values.stream().map(value -> "\"" + value + "\"").toList().toString();
  }
}
