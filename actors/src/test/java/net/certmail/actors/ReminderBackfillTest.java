package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.CAROL;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.protocol.recipient.RecipientView;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A journal written before reminder rows existed: entities that owe work, and no row to wake
 * them. The reminder scanner's one-time backfill (ReminderBackfill) gives every stream of its
 * organisation a row, so the waiting mail still gets its notice, with nobody touching it.
 */
@ExtendWith(LogCapturingExtension.class)
class ReminderBackfillTest {
  static final Duration WAIT = Duration.ofSeconds(60);

  final TestNetwork network = new TestNetwork();
  final ManualClock clock = new ManualClock(Instant.now());

  @Test
  void waitingMailOfAJournalWithoutReminderRowsStillGetsItsNotice(@TempDir Path dir) throws Exception {
    var journal = EngineNode.embeddedJournal(dir);
    String id = UUID.randomUUID().toString();
    try (EngineNode node = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS, journal, null)) {
      mailThatCarolHolds(node, clock, id);
    }
    JournalTampering database = new JournalTampering(journal.withFallback(com.typesafe.config.ConfigFactory.load())
        .resolve());
    database.forgetReminders();

    // Carol never decides; Pn's delivery give-up (accepted + delivery-timeout 5 min) passes while no node runs.
    clock.advance(Duration.ofMinutes(5).plusSeconds(5));
    String sender = EntityKind.entityId(ALICE, id);
    try (EngineNode restarted = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS, journal, null)) {
      // Nobody asks about the mail (a question would wake alice's entry): only a reminder row can.
      EngineNode.awaitCondition(() -> concluded(database, sender), WAIT, "alice's entry recording the verdict");
      MailStatus status = restarted.engine.status(ALICE, id).toCompletableFuture().get();
      assertEquals(DeliveryStatus.NOT_DELIVERED, status.status());
      assertEquals(ReasonCode.RECIPIENT_DID_NOT_ACKNOWLEDGE, status.reason(), "Pn's notice at its give-up");
    }
  }

  /** Alice's NSR mail to carol (T ten minutes ahead), who holds it without deciding: Pn waits for its give-up. */
  static void mailThatCarolHolds(EngineNode node, ManualClock clock, String id) throws Exception {
    MailItem mail = MailItem.newBuilder().setSubject("held").setBody("by carol, who never decides").build();
    node.engine.submit(ALICE, id, CAROL, mail, clock.millis() + Duration.ofMinutes(10).toMillis(), Flavour.NSR)
        .toCompletableFuture().get();
    String label = EngineNode.await(() -> node.engine.status(ALICE, id), s -> !s.label().isEmpty(), WAIT, "COP")
        .label();
    EngineNode.await(() -> node.engine.inboxEntry(CAROL, label),
        v -> v.status() == RecipientView.Status.AWAITING_DECISION, WAIT, "carol notified; she holds the mail");
  }

  /** Whether alice's entry recorded the non-delivery notice. */
  static boolean concluded(JournalTampering database, String persistenceId) {
    try {
      return database.rows(persistenceId).stream()
          .anyMatch(row -> row.manifest().equals("outbox.v1/non_delivery_notified"));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
