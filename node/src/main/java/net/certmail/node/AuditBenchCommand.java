package net.certmail.node;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.TrustStore;
import net.certmail.persistence.CassandraJournalSchema;
import net.certmail.persistence.JournalBackend;
import net.certmail.persistence.audit.JournalAudit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code certmail bench audit}: how fast {@code certmail audit} goes over a large journal, and
 * where its CPU goes. The journal is one {@code certmail bench journal} wrote (real mails); for
 * Cassandra its rows are first copied as stored (serializer id, manifest, bytes) into a keyspace
 * of the bench's own with the plugin's schema, so both backends audit the same events.
 */
@Command(name = "audit", mixinStandardHelpOptions = true,
    description = {
        "Audit a journal that 'certmail bench journal' wrote and print events/s, CPU, peak heap and load.",
        "",
        "Embedded: audits the H2 file in place (read-only). Cassandra: copies the H2 file's events as stored"
            + " into a new keyspace (the plugin's schema, raw driver writes), audits that keyspace, then drops it"
            + " (unless --keep). Write a journal of ~100,000 events first with e.g."
            + " 'certmail bench journal --journal embedded --mails 6600 --in-flight 200 --dir var/bench/100k'."})
final class AuditBenchCommand implements Callable<Integer> {
  private static final int IN_FLIGHT = 64;
  private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC);

  @Spec
  CommandSpec spec;

  @Option(names = "--journal", defaultValue = "embedded", paramLabel = "embedded|cassandra",
      description = "Which journal to audit (default ${DEFAULT-VALUE}).")
  String journal;

  @Option(names = "--dir", required = true, paramLabel = "DIR",
      description = "The directory 'certmail bench journal --dir DIR' wrote: DIR/journal.mv.db and DIR/keys.")
  Path dir;

  @Option(names = "--contact-points", defaultValue = "127.0.0.1:9042", paramLabel = "H:P",
      description = "Cassandra: where to copy the journal (default ${DEFAULT-VALUE}).")
  String contactPoint;

  @Option(names = "--keep", description = "Cassandra: keep the bench keyspace (default: drop it at the end).")
  boolean keep;

  @Override
  public Integer call() throws Exception {
    JournalBackend backend;
    try {
      backend = JournalBackend.valueOf(journal.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--journal must be \"embedded\" or \"cassandra\", not \"" + journal + "\"");
    }
    Path journalPath = dir.resolve("journal").toAbsolutePath().normalize();
    if (!Files.isRegularFile(Path.of(journalPath + ".mv.db")) || !Files.isDirectory(dir.resolve("keys"))) {
      throw new UserInputException("no bench journal in " + dir + " (journal.mv.db and keys/); write one first with"
          + " 'certmail bench journal --journal embedded --mails 6600 --in-flight 200 --dir " + dir + "'");
    }
    AuditCommand.requireNotInUse(journalPath);
    PrintWriter out = spec.commandLine().getOut();
    TrustStore trustStore = KeyDirectory.load(dir.resolve("keys")).trustStore();
    Config settings = ConfigFactory.parseString("""
        pekko.loglevel = WARNING
        pekko.stdout-loglevel = WARNING
        pekko.coordinated-shutdown.exit-jvm = off
        """);
    String keyspace = "certmail_auditbench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    CqlSession session = null;
    if (backend == JournalBackend.EMBEDDED) {
      settings = settings.withValue("certmail.journal.embedded.path", ConfigValueFactory.fromAnyRef(journalPath.toString()));
    } else {
      // The driver's 2 s default times out on these busy shared cores (docs/architecture.md).
      session = CqlSession.builder().addContactPoint(address(contactPoint)).withLocalDatacenter("datacenter1")
          .withConfigLoader(DriverConfigLoader.programmaticBuilder()
              .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(30)).build())
          .build();
      long copied = copyToCassandra(journalPath, session, keyspace, out);
      out.printf(Locale.ROOT, "copied %d events into Cassandra keyspace %s%n", copied, keyspace);
      settings = settings
          .withValue("certmail.journal.cassandra.contact-points", ConfigValueFactory.fromIterable(List.of(contactPoint)))
          .withValue("certmail.journal.cassandra.keyspace", ConfigValueFactory.fromAnyRef(keyspace))
          .withValue("certmail.journal.cassandra.snapshot-keyspace", ConfigValueFactory.fromAnyRef(keyspace + "_snapshot"));
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "certmail-audit-bench", backend.config(settings));
    try {
      var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      double loadBefore = os.getSystemLoadAverage();
      long cpuBefore = os.getProcessCpuTime();
      JournalAudit.Report report = JournalAudit.run(system, backend, trustStore, Instant.now(), progress -> {});
      double cpuSeconds = (os.getProcessCpuTime() - cpuBefore) / 1e9;
      double loadAfter = os.getSystemLoadAverage();
      long events = report.result().events() + report.result().shardingEvents();
      report.summary().forEach(out::println);
      out.printf(Locale.ROOT, "process CPU during the audit: %.1f s (%.0f events per CPU-second, %d cores);"
              + " of it checking labels (LabelAudit, all check threads): %.1f s%n", cpuSeconds, events / cpuSeconds,
          Runtime.getRuntime().availableProcessors(), report.checkCpuNanos() / 1e9);
      out.printf(Locale.ROOT, "load average (1 min) %.1f before, %.1f after%n", loadBefore, loadAfter);
      out.printf(Locale.ROOT, "bench audit %s: %d events, %.0f events/s, peak heap %d MiB%n",
          backend.name().toLowerCase(Locale.ROOT), events, report.auditEventsPerSecond(), report.peakHeapBytes() >> 20);
      return report.result().passed() ? CertmailCli.OK : CertmailCli.INVALID;
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
      if (session != null) {
        if (!keep) {
          for (String name : List.of(keyspace, keyspace + "_snapshot")) {
            session.execute(SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + name).setTimeout(Duration.ofSeconds(60)));
          }
        } else {
          out.println("kept: ./certmail audit --journal cassandra --keyspace " + keyspace + " --keys " + dir.resolve("keys"));
        }
        session.close();
      }
    }
  }

  /**
   * The H2 journal's events, as stored, into pekko-persistence-cassandra's messages table
   * (partition 0: certmail's streams are far below 500,000 events; no all_persistence_ids rows, as
   * certmail's nodes write none either).
   */
  private static long copyToCassandra(Path journalPath, CqlSession session, String keyspace, PrintWriter out)
      throws Exception {
    CassandraJournalSchema.apply(session, keyspace, keyspace + "_snapshot", Map.of("datacenter1", 1));
    PreparedStatement insert = session.prepare("INSERT INTO " + keyspace + ".messages (persistence_id, partition_nr,"
        + " sequence_nr, timestamp, timebucket, writer_uuid, ser_id, ser_manifest, event_manifest, event)"
        + " VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?)");
    String password = Files.readString(Path.of(journalPath + ".password")).trim();
    String writer = UUID.randomUUID().toString();
    Semaphore inFlight = new Semaphore(IN_FLIGHT);
    AtomicReference<Throwable> failed = new AtomicReference<>();
    long copied = 0;
    long start = System.nanoTime();
    try (Connection h2 = DriverManager.getConnection("jdbc:h2:file:" + journalPath
        + ";IFEXISTS=TRUE;ACCESS_MODE_DATA=r;TRACE_LEVEL_FILE=0", "sa", password);
         Statement select = h2.createStatement();
         ResultSet rows = select.executeQuery("SELECT \"persistence_id\", \"sequence_number\", \"write_timestamp\","
             + " \"event_ser_id\", \"event_ser_manifest\", \"adapter_manifest\", \"event_payload\" FROM \"event_journal\""
             // In write order: one pass over the table (in id order every row is a random page read).
             + " WHERE NOT \"deleted\" ORDER BY \"ordering\"")) {
      while (rows.next()) {
        String id = rows.getString(1);
        long writtenAt = rows.getLong(3);
        inFlight.acquire();
        if (failed.get() != null) {
          throw new IllegalStateException("copying into Cassandra failed: " + failed.get().getMessage(), failed.get());
        }
        session.executeAsync(insert.bind(id, rows.getLong(2), Uuids.startOf(writtenAt),
                DAY.format(Instant.ofEpochMilli(writtenAt)), writer, rows.getInt(4), rows.getString(5),
                rows.getString(6) == null ? "" : rows.getString(6), ByteBuffer.wrap(rows.getBytes(7))))
            .whenComplete((done, failure) -> released(inFlight, failed, failure));
        if (++copied % 20_000 == 0) {
          out.printf(Locale.ROOT, "  copied %d events into Cassandra ...%n", copied);
          out.flush();
        }
      }
    }
    inFlight.acquire(IN_FLIGHT);
    if (failed.get() != null) {
      throw new IllegalStateException("copying into Cassandra failed: " + failed.get().getMessage(), failed.get());
    }
    out.printf(Locale.ROOT, "  %.0f events/s copied%n", copied / ((System.nanoTime() - start) / 1e9));
    return copied;
  }

  private static void released(Semaphore inFlight, AtomicReference<Throwable> failed, Throwable failure) {
    if (failure != null) {
      failed.compareAndSet(null, failure);
    }
    inFlight.release();
  }

  private static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new UserInputException("--contact-points is host:port, e.g. 127.0.0.1:9042");
    }
    return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }
}
