package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.CAROL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import net.certmail.persistence.reminders.JdbcReminderStore;
import net.certmail.persistence.reminders.Reminder;
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
 * The reminder scanner waking entities that no message will: from rows its one-time backfill
 * made for a journal written before reminder rows existed, and from a row that landed behind its
 * scans (where each scan starts: ScanCursorTest).
 */
@ExtendWith(LogCapturingExtension.class)
class ReminderScannerTest {
  static final Duration WAIT = Duration.ofSeconds(60);

  final TestNetwork network = new TestNetwork();
  final ManualClock clock = new ManualClock(Instant.now());

  /**
   * A journal written before reminder rows existed: entities that owe work, and no row to wake
   * them. The scanner's one-time backfill (ReminderBackfill) gives every stream of its
   * organisation a row, so the waiting mail still gets its notice, with nobody touching it.
   */
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

  /**
   * The scanner reads every row only at its start and every complete-scan-interval (here 30 s by
   * its clock); the scans in between read the rows due since the previous scan, less scan-overlap
   * (5 s), and every full-scan-interval (10 s) from the oldest row it fired. A row that lands later
   * than that behind the scans (a write held up by an outage) was never fired, so only the next
   * complete scan finds it: the duty it guards is done, later, not lost.
   */
  @Test
  void aRowLandingBehindTheScansIsFoundByTheNextCompleteScan(@TempDir Path dir) throws Exception {
    Config journal = EngineNode.embeddedJournal(dir);
    Config resolved = journal.withFallback(com.typesafe.config.ConfigFactory.load()).resolve();
    Config completeEvery30s = com.typesafe.config.ConfigFactory.parseString(
        "certmail.reminders.complete-scan-interval = 30s");
    JournalTampering database = new JournalTampering(resolved);
    String id = UUID.randomUUID().toString();
    String sender = EntityKind.entityId(ALICE, id);
    List<Reminder> waiting = new ArrayList<>();
    try (JdbcReminderStore rows = JdbcReminderStore.open(
        resolved.getString("pekko-persistence-jdbc.shared-databases.slick.db.url"), "sa", "",
        resolved.getDuration("certmail.reminders.bucket").toMillis())) {
      try (EngineNode node = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS, journal, null)) {
        mailThatCarolHolds(node, clock, id);
      }
      for (String organisation : TestNetwork.RUNNING_ORGANISATIONS) {
        waiting.addAll(rows.dueBy(organisation, Long.MAX_VALUE, 1000).toCompletableFuture().get());
      }
      rows.replace(List.of(), waiting).toCompletableFuture().get();

      // Carol never decides; Pn's delivery give-up passes while no node runs. Nothing is awake in
      // the node started next: only a row can wake Pn. Its scanner's first scan is a complete one,
      // which finds no row; the scans after it read from its start, less 5 s.
      clock.advance(Duration.ofMinutes(5).plusSeconds(5));
      try (EngineNode restarted = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS, journal, null,
          completeEvery30s)) {
        Thread.sleep(3_000);
        long late = clock.millis() - Duration.ofSeconds(60).toMillis();
        rows.replace(waiting.stream().map(row -> row.at(late)).toList(), List.of()).toCompletableFuture().get();
        Thread.sleep(3_000); // three scans by real time, none full by the clock, which stands still
        assertFalse(concluded(database, sender), "a recent scan read a row due before its window");

        clock.advance(Duration.ofSeconds(10));
        Thread.sleep(3_000); // a full scan, then recent ones: none reads back to a row never fired
        assertFalse(concluded(database, sender), "a full scan read further back than the oldest fired row");

        clock.advance(Duration.ofSeconds(20));
        EngineNode.awaitCondition(() -> concluded(database, sender), WAIT,
            "the complete scan waking Pn for its notice");
      }
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
