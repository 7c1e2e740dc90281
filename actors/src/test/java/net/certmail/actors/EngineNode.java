package net.certmail.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;

/** One certmail node in a test: an ActorSystem in the cluster, running the engine for its organisations. */
public final class EngineNode implements AutoCloseable {
  public final ActorSystem<Void> system;
  public final CertmailEngine engine;

  private EngineNode(ActorSystem<Void> system, CertmailEngine engine) {
    this.system = system;
    this.engine = engine;
  }

  /** The in-memory journal of pekko-persistence-testkit: one per ActorSystem. */
  public static Config inMemoryJournal() {
    return PersistenceTestKitPlugin.getInstance().config()
        .withFallback(PersistenceTestKitSnapshotPlugin.config());
  }

  public static EngineNode start(TestNetwork network, AdjustableClock clock, List<String> organisations,
                                 Config journal, Address seed) {
    Config config = ConfigFactory.parseString("""
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
        .withValue("pekko.cluster.roles", ConfigFactory.parseString("r = " + quoted(organisations)).getValue("r"))
        .withFallback(ConfigFactory.parseString(TestNetwork.engineConfig()))
        .withFallback(journal)
        .withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "certmail", config);
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(seed == null ? cluster.selfMember().address() : seed));
    awaitCondition(() -> cluster.selfMember().status() == MemberStatus.up(), Duration.ofSeconds(30),
        "node joined the cluster");
    CertmailEngine engine = CertmailEngine.start(system, EngineSettings.fromConfig(config),
        network.keysOf(organisations), network.trustStore(), clock, new SimpleMeterRegistry());
    return new EngineNode(system, engine);
  }

  public Address address() {
    return Cluster.get(system).selfMember().address();
  }

  @Override
  public void close() {
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
    long until = System.nanoTime() + timeout.toNanos();
    T last = null;
    Exception failure = null;
    while (System.nanoTime() < until) {
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
