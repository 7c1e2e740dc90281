package net.certmail.node.metrics;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import net.certmail.actors.EntityKind;
import net.certmail.crypto.SignatureCounts;
import net.certmail.persistence.EmbeddedJournalFile;
import net.certmail.persistence.JournalBackend;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The metrics of one node, in Prometheus' format at {@code /metrics} on the management port
 * ({@link MetricsRoute}): what the entities report ({@link net.certmail.actors.EnvelopeMetrics}),
 * journal writes ({@link MeteredJdbcJournal}, {@link MeteredCassandraJournal}), the entities and
 * shards this node runs, cluster membership as this node sees it, and the JVM's memory, GC,
 * threads, classes, CPU, file descriptors and uptime. Every series carries the tag
 * {@code node} (certmail.node.name). One registry per ActorSystem: a JVM running several nodes
 * (the demo, tests) keeps them apart.
 */
public final class NodeMetrics implements Extension {
  public static final Id ID = new Id();

  public static final String ENTITIES_ACTIVE = "certmail.entities.active";
  /** Signatures made (operation=sign) and checked (operation=verify) by this JVM, by use (envelope, evidence, key-check): see SignatureCounts. */
  public static final String SIGNATURES = "certmail.signatures";
  /** Of the checks, those answered from the signatures this JVM signed or verified a moment ago: see SignatureCounts. */
  public static final String SIGNATURE_CHECKS_REMEMBERED = "certmail.signature.checks.remembered";
  /** Certificate chains validated with PKIX by this JVM: see SignatureCounts. */
  public static final String CERTIFICATE_PATHS = "certmail.certificate.paths.validated";
  public static final String SHARDS_ACTIVE = "certmail.shards.active";
  /** The embedded journal's H2 file: size, chunks and the chunks' live share (EmbeddedJournalFile). */
  public static final String JOURNAL_FILE_BYTES = "certmail.journal.file.bytes";
  public static final String JOURNAL_FILE_CHUNKS = "certmail.journal.file.chunks";
  public static final String JOURNAL_FILE_LIVE = "certmail.journal.file.live.percent";
  public static final String CLUSTER_MEMBERS = "certmail.cluster.members";
  public static final String CLUSTER_UNREACHABLE = "certmail.cluster.unreachable";

  /** Membership states worth a series each (Removed members are gone from the state). */
  private static final List<MemberStatus> STATUSES = List.of(MemberStatus.joining(), MemberStatus.weaklyUp(),
      MemberStatus.up(), MemberStatus.leaving(), MemberStatus.exiting(), MemberStatus.down());

  /** How long a scrape waits for the shard regions to say which entities run here. */
  private static final Duration CENSUS_TIMEOUT = Duration.ofSeconds(2);

  private final PrometheusMeterRegistry registry;
  /** Gauges hold their state weakly: these maps keep the counts alive. */
  private final Map<EntityTypeKey<?>, AtomicLong> entities = new ConcurrentHashMap<>();
  private final Map<EntityTypeKey<?>, AtomicLong> shards = new ConcurrentHashMap<>();
  private volatile org.apache.pekko.actor.typed.ActorSystem<?> typedSystem;

  private NodeMetrics(ExtendedActorSystem system) {
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Config config = system.settings().config();
    if (config.hasPath("certmail.node.name")) {
      registry.config().commonTags("node", config.getString("certmail.node.name"));
    }
    new JvmMemoryMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmInfoMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    for (SignatureCounts.Use use : SignatureCounts.Use.values()) {
      FunctionCounter.builder(SIGNATURES, this, any -> SignatureCounts.made(use))
          .tag("operation", "sign").tag("use", use.tag())
          .description("signatures made (sign) and checked (verify) by this JVM, by use").register(registry);
      FunctionCounter.builder(SIGNATURES, this, any -> SignatureCounts.checked(use))
          .tag("operation", "verify").tag("use", use.tag())
          .description("signatures made (sign) and checked (verify) by this JVM, by use").register(registry);
      FunctionCounter.builder(SIGNATURE_CHECKS_REMEMBERED, this, any -> SignatureCounts.remembered(use))
          .tag("use", use.tag())
          .description("checks answered from the same signature and bytes this JVM signed or verified a moment ago")
          .register(registry);
    }
    FunctionCounter.builder(CERTIFICATE_PATHS, this, any -> SignatureCounts.pathsValidated())
        .description("certificate chains validated against the network CA (PKIX; once per certificate)")
        .register(registry);
    if ("cluster".equals(config.getString("pekko.actor.provider"))) {
      bindCluster(Cluster.get(system));
    }
    bindJournalFile(EmbeddedJournalFile.get(Adapter.toTyped(system)));
    system.registerOnTermination(() -> {
      gc.close();
      registry.close();
    });
  }

  public static NodeMetrics get(ActorSystem system) {
    return ID.get(system);
  }

  public static NodeMetrics get(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    return ID.get(Adapter.toClassic(system));
  }

  /** The registry the node's engine and journal report to. */
  public MeterRegistry registry() {
    return registry;
  }

  /**
   * The node's settings with its journal plugin swapped for the metered subclass of the same
   * plugin, so that every write's latency and outcome is measured.
   */
  public static Config withMeteredJournal(Config config, JournalBackend backend) {
    return switch (backend) {
      case EMBEDDED -> config.withValue("jdbc-journal.class",
          ConfigValueFactory.fromAnyRef(MeteredJdbcJournal.class.getName()));
      case CASSANDRA -> config.withValue("pekko.persistence.cassandra.journal.class",
          ConfigValueFactory.fromAnyRef(MeteredCassandraJournal.class.getName()));
    };
  }

  /**
   * Counts, at every scrape, the entities and shards of each kind this node runs for its
   * organisations (the shard regions' own state; other organisations' regions here are proxies).
   */
  public void watchEntities(org.apache.pekko.actor.typed.ActorSystem<?> system, Collection<String> organisations) {
    this.typedSystem = system;
    for (String organisation : organisations) {
      for (EntityKind kind : EntityKind.values()) {
        EntityTypeKey<?> key = EntityTypeKey.create(Object.class, kind.typeName(organisation));
        String kindName = kind.name().toLowerCase(Locale.ROOT);
        AtomicLong entityCount = entities.computeIfAbsent(key, k -> new AtomicLong());
        AtomicLong shardCount = shards.computeIfAbsent(key, k -> new AtomicLong());
        Gauge.builder(ENTITIES_ACTIVE, entityCount, AtomicLong::get)
            .description("Entities running on this node (in memory: owing work or recently used), by kind")
            .tags("kind", kindName, "organisation", organisation).register(registry);
        Gauge.builder(SHARDS_ACTIVE, shardCount, AtomicLong::get)
            .description("Shards hosted by this node, by entity kind")
            .tags("kind", kindName, "organisation", organisation).register(registry);
      }
    }
  }

  /** The whole registry in Prometheus' text format, entity counts refreshed first. */
  public CompletionStage<String> scrape() {
    return refreshEntities().handle((done, failure) -> registry.scrape());
  }

  private CompletionStage<Void> refreshEntities() {
    org.apache.pekko.actor.typed.ActorSystem<?> system = typedSystem;
    if (system == null) {
      return CompletableFuture.completedFuture(null);
    }
    ClusterSharding sharding = ClusterSharding.get(system);
    List<CompletableFuture<?>> asked = new ArrayList<>();
    for (Map.Entry<EntityTypeKey<?>, AtomicLong> entry : entities.entrySet()) {
      EntityTypeKey<?> key = entry.getKey();
      CompletionStage<ShardRegion.CurrentShardRegionState> state = AskPattern.ask(sharding.shardState(),
          replyTo -> new GetShardRegionState(key, replyTo), CENSUS_TIMEOUT, system.scheduler());
      asked.add(state.thenAccept(current -> {
        entry.getValue().set(current.getShards().stream().mapToLong(shard -> shard.getEntityIds().size()).sum());
        shards.get(key).set(current.getShards().size());
      }).toCompletableFuture());
    }
    // A region that does not answer in time keeps its last count.
    return CompletableFuture.allOf(asked.toArray(CompletableFuture[]::new)).handle((done, failure) -> null);
  }

  /** Series only while this process holds an embedded journal's file (none on Cassandra). */
  private void bindJournalFile(EmbeddedJournalFile file) {
    Gauge.builder(JOURNAL_FILE_BYTES, file, f -> f.state().map(state -> (double) state.bytes()).orElse(Double.NaN))
        .description("Size of the embedded journal's H2 file").baseUnit("bytes").register(registry);
    Gauge.builder(JOURNAL_FILE_CHUNKS, file, f -> f.state().map(state -> (double) state.chunks()).orElse(Double.NaN))
        .description("Chunks in the embedded journal's H2 file (one per commit until compacted)").register(registry);
    Gauge.builder(JOURNAL_FILE_LIVE, file,
            f -> f.state().map(state -> (double) state.livePercent()).orElse(Double.NaN))
        .description("Share of the H2 file's chunk bytes still live; compaction keeps it up").register(registry);
  }

  private void bindCluster(Cluster cluster) {
    for (MemberStatus status : STATUSES) {
      Gauge.builder(CLUSTER_MEMBERS, cluster, c -> count(c, status))
          .description("Cluster members as this node sees them, by status")
          .tag("status", status.toString()).register(registry);
    }
    Gauge.builder(CLUSTER_UNREACHABLE, cluster, c -> c.state().getUnreachable().size())
        .description("Members this node's failure detector deems unreachable").register(registry);
  }

  private static double count(Cluster cluster, MemberStatus status) {
    long n = 0;
    for (Member member : cluster.state().getMembers()) {
      if (member.status().equals(status)) {
        n++;
      }
    }
    return n;
  }

  public static final class Id extends AbstractExtensionId<NodeMetrics> {
    @Override
    public NodeMetrics createExtension(ExtendedActorSystem system) {
      return new NodeMetrics(system);
    }
  }
}
