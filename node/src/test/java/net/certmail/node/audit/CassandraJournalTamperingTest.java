package net.certmail.node.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.certmail.node.audit.EmbeddedJournalTamperingTest.CertmailCliRun;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tamperings on copies of a Cassandra journal that real mails wrote: the shared instance on
 * 127.0.0.1:9042, the bench's keyspace and one copy keyspace, restored before each tampering
 * (both dropped afterwards).
 */
@Tag("cassandra")
class CassandraJournalTamperingTest extends TamperingScenarios {
  static final String CONTACT_POINT = "127.0.0.1:9042";
  @TempDir
  static Path dir;
  static CqlSession session;
  static String benchKeyspace;
  static List<String> labels;
  static CassandraJournalCopy journal;
  static final java.util.concurrent.atomic.AtomicInteger AUDITS = new java.util.concurrent.atomic.AtomicInteger();

  @BeforeAll
  static void journalOfRealMails() {
    // --no-raw-writes: the bench's raw write benchmark (256 writes in flight for 13 s) measures nothing
    // here and loads the shared Cassandra while the test and others use it.
    CertmailCliRun bench = CertmailCliRun.of("bench", "journal", "--journal", "cassandra", "--mails", "12",
        "--in-flight", "12", "--keep", "--no-raw-writes", "--contact-points", CONTACT_POINT, "--dir", dir.toString());
    assertEquals(0, bench.exitCode(), bench.out() + bench.err());
    Matcher keyspace = Pattern.compile("--keyspace (\\w+)").matcher(bench.out());
    assertTrue(keyspace.find(), bench.out());
    benchKeyspace = keyspace.group(1);
    session = CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", 9042))
        .withLocalDatacenter("datacenter1").build();
    journal = new CassandraJournalCopy(session, benchKeyspace, "tamper_" + suffix());
    labels = labelsIn(journal.persistenceIds());
    assertEquals(13, labels.size(), "12 mails and the warm-up: " + labels);
  }

  @AfterAll
  static void dropKeyspaces() {
    if (session == null) {
      return;
    }
    if (journal != null) {
      journal.drop();
    }
    for (String name : List.of(benchKeyspace, benchKeyspace + "_snapshot")) {
      session.execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + name)
          .setTimeout(java.time.Duration.ofSeconds(30)));
    }
    session.close();
  }

  private static String suffix() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  }

  /** The one copy, restored to the journal as the mails wrote it (tests run one after another). */
  @Override
  TamperableJournal copy(String name) {
    journal.restore();
    return journal;
  }

  @Override
  Audit audit(TamperableJournal journal) throws Exception {
    String keyspace = ((CassandraJournalCopy) journal).keyspace();
    // One copy keyspace for every test: a report of its own per audit, never an earlier one read back.
    Path report = dir.resolve(keyspace + "-audit-" + AUDITS.incrementAndGet() + ".json");
    CertmailCliRun audit = CertmailCliRun.of("audit", "--journal", "cassandra", "--contact-points", CONTACT_POINT,
        "--keyspace", keyspace, "--keys", dir.resolve("keys").toString(), "--report", report.toString());
    return new Audit(audit.exitCode(), findingsOf(report), audit.out() + audit.err());
  }

  @Override
  List<String> labels() {
    return labels;
  }
}
