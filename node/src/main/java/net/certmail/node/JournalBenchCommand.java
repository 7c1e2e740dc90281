package net.certmail.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import net.certmail.actors.CertmailEngine;
import net.certmail.actors.EngineSettings;
import net.certmail.actors.MailStatus;
import net.certmail.crypto.KeyAlgorithm;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.NetworkCa;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.crypto.TrustStore;
import net.certmail.persistence.EmbeddedJournalSchema;
import net.certmail.persistence.JournalBackend;
import net.certmail.persistence.audit.AuditResult;
import net.certmail.persistence.audit.JournalAudit;
import net.certmail.persistence.bench.CassandraWriteBench;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import net.certmail.protocol.Routing;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code certmail bench journal}: what the protocol costs in journal writes, measured on real mails.
 *
 * <p>Runs the engine on one node hosting a small network (alice at alpha.example sending to
 * bob at beta.example through relay.example: the general route of three servers), sends mails of
 * the three flavours in rounds, then audits the journal it wrote. Reports persisted events per
 * mail by flavour (counted per label by the audit), journal events/s while the mails flowed,
 * audit events/s (end to end), and on Cassandra the raw driver write rate measured in the same run.
 */
@Command(name = "journal", mixinStandardHelpOptions = true,
    description = {
        "Send real mails through the engine on one node, audit the journal, and print the rates.",
        "",
        "The mails are CEM, NSR and IP over 3 servers. Prints the events per mail by flavour, the journal's"
            + " events/s while mails flow, the audit's events/s and, on Cassandra, the raw driver write"
            + " rate in the same run. Leaves the journal and a key directory to audit again."})
final class JournalBenchCommand implements Callable<Integer> {
  private static final String ALPHA = "alpha.example";
  private static final String RELAY = "relay.example";
  private static final String BETA = "beta.example";
  private static final String ALICE = "alice@alpha.example";
  private static final String BOB = "bob@beta.example";
  private static final List<Flavour> FLAVOURS = List.of(Flavour.CEM, Flavour.NSR, Flavour.IP);

  @Spec
  CommandSpec spec;

  @Mixin
  JournalOptions journal;

  @Option(names = "--mails", paramLabel = "N", defaultValue = "300",
      description = "Mails to send, split evenly over the flavours (default ${DEFAULT-VALUE}).")
  int mails;

  @Option(names = "--in-flight", paramLabel = "N", defaultValue = "30",
      description = "Mails sent per round; a round ends when all have their verdict (default ${DEFAULT-VALUE}).")
  int inFlight;

  @Option(names = "--dir", paramLabel = "DIR",
      description = "Where the embedded journal and the key directory go (default: a new directory under"
          + " ./var/bench).")
  Path directory;

  @Option(names = "--keep", description = "Cassandra: keep the bench keyspace (default: drop it at the end).")
  boolean keep;

  @Option(names = "--no-raw-writes",
      description = "Cassandra: skip the raw driver write rate (13 s of 256 writes in flight) after the audit.")
  boolean noRawWrites;

  @Override
  public Integer call() throws Exception {
    JournalBackend backend = journal.backend();
    if (mails < FLAVOURS.size() || inFlight < 1) {
      throw new UserInputException("--mails must be at least 3 and --in-flight at least 1");
    }
    PrintWriter out = spec.commandLine().getOut();
    Path dir = directory != null ? directory
        : Path.of("var", "bench", "journal-" + Instant.now().toString().replace(':', '-'));
    Files.createDirectories(dir);
    String keyspace = "certmail_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);

    // A fresh network CA and keys for this run; the key directory holds certificates only: enough to audit.
    NetworkCa ca = NetworkCa.create("certmail bench CA", KeyAlgorithm.ED25519, Duration.ofDays(30), Clock.systemUTC());
    Map<String, PrincipalKeys> keys = new LinkedHashMap<>();
    for (String principal : List.of(ALPHA, RELAY, BETA, ALICE, BOB)) {
      keys.put(principal, ca.issue(principal, Routing.organisationOf(principal), KeyAlgorithm.ED25519,
          Duration.ofDays(30)));
    }
    Path keyDirectory = dir.resolve("keys");
    KeyDirectory.write(keyDirectory, ca.certificate(), keys, List.of());
    TrustStore trustStore = KeyDirectory.load(keyDirectory).trustStore();

    Config config = backend.config(settings(backend, dir, keyspace));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "certmail-bench", config);
    try {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
      awaitUp(cluster);
      if (backend == JournalBackend.EMBEDDED) {
        EmbeddedJournalSchema.ensureCreated(system);
      }
      CertmailEngine engine = CertmailEngine.start(system, EngineSettings.fromConfig(config), keys, trustStore,
          Clock.systemUTC(), new SimpleMeterRegistry());

      out.printf(Locale.ROOT, "certmail bench journal: %s journal, %d mails (%s over %s -> %s -> %s), %d per round%n",
          backend.name().toLowerCase(Locale.ROOT), mails, FLAVOURS, ALPHA, RELAY, BETA, inFlight);
      round(engine, 1, 0); // warm-up: sharding, journal connections, JIT
      long start = System.nanoTime();
      for (int sent = 0; sent < mails; sent += inFlight) {
        round(engine, Math.min(inFlight, mails - sent), sent);
        out.printf(Locale.ROOT, "  %d/%d mails with a verdict%n", Math.min(sent + inFlight, mails), mails);
        out.flush();
      }
      double mailSeconds = (System.nanoTime() - start) / 1e9;
      Thread.sleep(1_000); // the last receipts between servers are events too

      JournalAudit.Report audit = JournalAudit.run(system, backend, trustStore, Instant.now(), progress -> {});
      AuditResult result = audit.result();
      // Every event of the run was written while the mails flowed (warm-up mail included: 1 of N+1).
      long written = result.events() + result.shardingEvents();
      Double raw = backend == JournalBackend.CASSANDRA && !noRawWrites ? rawCassandraRate(out) : null;

      out.println();
      out.println("Results:");
      result.averageEventsPerMail().forEach((flavour, average) -> out.printf(Locale.ROOT,
          "  events per mail, %-4s      %6.1f  (all principals: A, P1, relay, Pn, B)%n", flavour, average));
      out.printf(Locale.ROOT, "  mails with verdict /s      %6.1f  (%d mails in %.1f s)%n", mails / mailSeconds, mails,
          mailSeconds);
      out.printf(Locale.ROOT, "  journal events/s (mails)   %6.0f  (%d events incl. %d of cluster sharding)%n",
          written / mailSeconds, written, result.shardingEvents());
      out.printf(Locale.ROOT, "  audit events/s             %6.0f  (read, decode, chain, replay, %d signatures; %d ms,"
          + " peak heap %d MiB)%n", audit.auditEventsPerSecond(), result.evidenceVerified(), audit.elapsed().toMillis(),
          audit.peakHeapBytes() >> 20);
      if (raw != null) {
        out.printf(Locale.ROOT, "  raw driver writes/s        %6.0f  (100-byte rows, 256 in flight, same server)%n", raw);
      }
      out.println("  audit: " + (result.passed() ? "PASSED" : "FAILED with " + result.violations().size()
          + " violation(s)"));
      if (backend == JournalBackend.EMBEDDED) {
        out.println("Audit it again: ./certmail audit --journal embedded --journal-path "
            + dir.resolve("journal").toAbsolutePath() + " --keys " + keyDirectory.toAbsolutePath());
      } else if (keep) {
        out.println("Audit it again: ./certmail audit --journal cassandra --keyspace " + keyspace + " --keys "
            + keyDirectory.toAbsolutePath());
      }
      return result.passed() ? CertmailCli.OK : CertmailCli.INVALID;
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
      if (backend == JournalBackend.CASSANDRA && !keep) {
        dropKeyspace(keyspace);
      }
    }
  }

  private Config settings(JournalBackend backend, Path dir, String keyspace) {
    // One node that is every organisation of the route; the engine's test timings are not needed:
    // every mail here is delivered at once (bob auto-accepts).
    Config settings = ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = "127.0.0.1"
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.roles = ["alpha.example", "relay.example", "beta.example"]
        pekko.cluster.sharding.distributed-data.durable.keys = []
        pekko.loglevel = WARNING
        pekko.stdout-loglevel = WARNING
        pekko.coordinated-shutdown.exit-jvm = off
        certmail.engine.routes { "alpha.example" { "beta.example" = "relay.example" } }
        """);
    if (backend == JournalBackend.EMBEDDED) {
      return settings.withValue("certmail.journal.embedded.path",
          ConfigValueFactory.fromAnyRef(dir.resolve("journal").toAbsolutePath().toString()));
    }
    return settings
        .withValue("certmail.journal.cassandra.contact-points", ConfigValueFactory.fromIterable(contactPoints()))
        .withValue("certmail.journal.cassandra.keyspace", ConfigValueFactory.fromAnyRef(keyspace))
        .withValue("certmail.journal.cassandra.snapshot-keyspace", ConfigValueFactory.fromAnyRef(keyspace + "_snapshot"))
        .withValue("certmail.journal.cassandra.schema-autocreate", ConfigValueFactory.fromAnyRef(true));
  }

  private static void awaitUp(Cluster cluster) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > until) {
        throw new IllegalStateException("the bench node did not join its own cluster within 30 s");
      }
      Thread.sleep(50);
    }
  }

  /** Sends {@code count} mails, flavours in turn, and waits until each has its verdict. */
  private void round(CertmailEngine engine, int count, int offset) throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String id = UUID.randomUUID().toString();
      Flavour flavour = FLAVOURS.get((offset + i) % FLAVOURS.size());
      engine.submit(ALICE, id, BOB, mail(flavour, offset + i), deadline(), flavour)
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      ids.add(id);
    }
    long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (!ids.isEmpty()) {
      List<String> open = new ArrayList<>();
      for (String id : ids) {
        MailStatus status = engine.status(ALICE, id).toCompletableFuture().get(30, TimeUnit.SECONDS);
        if (!status.isFinal()) {
          open.add(id);
        } else if (status.status() != DeliveryStatus.DELIVERED) {
          throw new IllegalStateException("bench mail " + id + " was not delivered: " + status.status() + " "
              + status.reason() + "; the machine may be too busy for the protocol's timeouts");
        }
      }
      ids = open;
      if (System.nanoTime() > until) {
        throw new IllegalStateException(ids.size() + " bench mails have no verdict after 5 minutes; is the journal"
            + " keeping up? Try fewer --in-flight");
      }
      if (!ids.isEmpty()) {
        Thread.sleep(100);
      }
    }
  }

  private static long deadline() {
    return System.currentTimeMillis() + Duration.ofHours(1).toMillis();
  }

  private static MailItem mail(Flavour flavour, int number) {
    return MailItem.newBuilder().setSubject("bench " + flavour + " #" + number)
        .setBody("A contract of about a kilobyte. ".repeat(32)).setContentType("text/plain; charset=utf-8").build();
  }

  private Double rawCassandraRate(PrintWriter out) throws InterruptedException {
    out.println("raw Cassandra driver writes (CassandraWriteBench, 10 s after 3 s warm-up) ...");
    out.flush();
    return CassandraWriteBench.writesPerSecond("contact-point=" + contactPoints().get(0), "seconds=10", "warmup-seconds=3",
        "rows=1000000");
  }

  /** The contact points given, else the local Cassandra; the raw write bench and the clean-up use the first. */
  private List<String> contactPoints() {
    return journal.contactPoints().orElse(List.of("127.0.0.1:9042"));
  }

  private void dropKeyspace(String keyspace) {
    String contactPoint = contactPoints().get(0);
    try (var session = com.datastax.oss.driver.api.core.CqlSession.builder()
        .addContactPoint(new java.net.InetSocketAddress(contactPoint.substring(0, contactPoint.lastIndexOf(':')),
            Integer.parseInt(contactPoint.substring(contactPoint.lastIndexOf(':') + 1))))
        .withLocalDatacenter("datacenter1").build()) {
      for (String name : List.of(keyspace, keyspace + "_snapshot")) {
        session.execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS "
            + name).setTimeout(Duration.ofSeconds(60)));
      }
    }
  }
}
