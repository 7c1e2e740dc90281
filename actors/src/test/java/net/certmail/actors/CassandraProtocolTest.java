package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.CAROL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import net.certmail.persistence.JournalBackend;
import net.certmail.persistence.audit.AuditResult;
import net.certmail.persistence.audit.JournalAudit;
import net.certmail.persistence.audit.Violation;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.Flavour;
import net.certmail.protocol.recipient.RecipientView;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The protocol on the real Cassandra journal: every flavour delivered, a node stopped while a held
 * mail awaits the recipient's decision and a new node taking over from the journal alone, then the
 * audit over the keyspace. Runs in a keyspace of its own (auto-created here, dropped afterwards).
 *
 * <p>Tagged "cassandra": needs {@code ./scripts/cassandra.sh start} ({@code ./scripts/test.sh} does
 * it) and FAILS, never skips, when no Cassandra answers.
 */
@Tag("cassandra")
@ExtendWith(LogCapturingExtension.class)
class CassandraProtocolTest {
  static final String HOST = "127.0.0.1";
  static final int PORT = 9042;
  static final String KEYSPACE = "cm_protocol_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12)
      .toLowerCase(Locale.ROOT);

  static TestNetwork network;
  static ManualClock clock;
  static Config journal;
  static EngineNode node;

  @BeforeAll
  static void start() {
    requireRunningCassandra();
    network = new TestNetwork();
    clock = new ManualClock(Instant.now());
    journal = JournalBackend.CASSANDRA.config(ConfigFactory.parseString("""
        certmail.journal.cassandra {
          contact-points = ["%s:%d"]
          keyspace = "%s"
          snapshot-keyspace = "%s_snapshot"
          schema-autocreate = on
        }
        # tests start and stop ActorSystems: close driver sessions at once
        datastax-java-driver.advanced.netty {
          io-group.shutdown.quiet-period = 0
          admin-group.shutdown.quiet-period = 0
        }
        """.formatted(HOST, PORT, KEYSPACE, KEYSPACE)));
    node = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS, journal, null);
  }

  @AfterAll
  static void stopAndDrop() {
    if (node != null) {
      node.close();
    }
    if (journal != null) {
      try (CqlSession session = CqlSession.builder().addContactPoint(new InetSocketAddress(HOST, PORT))
          .withLocalDatacenter("datacenter1").build()) {
        for (String keyspace : List.of(KEYSPACE, KEYSPACE + "_snapshot")) {
          // a DROP takes seconds on a busy 2-core machine: the driver's default is 2 s
          session.execute(SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + keyspace)
              .setTimeout(Duration.ofSeconds(60)));
        }
      }
    }
  }

  @Test
  void everyFlavourIsDeliveredOnCassandraAndTheAuditOfTheKeyspacePasses() throws Exception {
    // asserts DELIVERED for CEM, NSR and IP over routes of 1, 2 and 3 servers
    Map<String, String> delivered = new MailScenarios(node.engine, clock).deliveries().labels;

    // The last receipts between servers are events too: audited until they are written (or the wait ends).
    // The keyspace may also hold the other test's mail, concluded when that test ended.
    AtomicReference<AuditResult> audited = new AtomicReference<>();
    try {
      EngineNode.awaitCondition(() -> {
        audited.set(JournalAudit.run(node.system, JournalBackend.CASSANDRA, network.trustStore(), clock.instant(),
            progress -> {}).result());
        return audited.get().violations().isEmpty();
      }, MailScenarios.WAIT, "the audit of the journal passing");
    } catch (AssertionError stillViolated) {
      // the assertion below names the violations
    }
    AuditResult result = audited.get();
    assertEquals(List.of(), result.violations().stream().map(Violation::describe).toList());
    for (Map.Entry<String, String> mail : delivered.entrySet()) {
      assertEquals(AuditResult.Outcome.DELIVERED, result.outcomes().get(mail.getValue()),
          mail.getKey() + " (" + mail.getValue() + ") in the audit of the Cassandra journal");
    }
    // A delivered mail carries at least its COP, COD, ROD_n and ROD (more with relays and content handovers).
    assertTrue(result.evidenceVerified() >= 4L * delivered.size(), "evidence verified: " + result.evidenceVerified());
  }

  @Test
  void heldMailSurvivesANodeStopAndIsDeliveredByTheNextNode() throws Exception {
    String id = UUID.randomUUID().toString();
    MailScenarios.submitUntilTaken(node.engine, id, CAROL, MailScenarios.mail("across a restart"),
        clock.millis() + Duration.ofMinutes(10).toMillis(), Flavour.IP);
    String label = EngineNode.await(() -> node.engine.status(ALICE, id), s -> !s.label().isEmpty(),
        MailScenarios.WAIT, "COP").label();
    EngineNode.await(() -> node.engine.inboxEntry(CAROL, label), v -> v.status() == RecipientView.Status.AWAITING_DECISION,
        MailScenarios.WAIT, "carol notified");

    node.close(); // everything in memory is gone; only the Cassandra journal remains
    node = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS, journal, null);

    EngineNode.await(() -> node.engine.inboxEntry(CAROL, label), v -> v.status() == RecipientView.Status.AWAITING_DECISION,
        MailScenarios.WAIT, "carol's held mail recovered from the journal");
    node.engine.accept(CAROL, label).toCompletableFuture().get(10, TimeUnit.SECONDS);
    MailStatus status = EngineNode.await(() -> node.engine.status(ALICE, id), MailStatus::isFinal,
        Duration.ofSeconds(60), "the verdict after the restart");
    assertEquals(DeliveryStatus.DELIVERED, status.status());
    EngineNode.await(() -> node.engine.inboxEntry(CAROL, label), v -> v.status() == RecipientView.Status.RETRIEVED,
        MailScenarios.WAIT, "carol holding the content");
  }

  static void requireRunningCassandra() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(HOST, PORT), 2000);
    } catch (IOException e) {
      fail("No Cassandra answers on " + HOST + ":" + PORT + " (" + e.getMessage() + "): start it with"
          + " ./scripts/cassandra.sh start, or run the whole suite with ./scripts/test.sh");
    }
  }
}
