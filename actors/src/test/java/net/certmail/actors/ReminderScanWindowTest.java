package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import net.certmail.persistence.reminders.JdbcReminderStore;
import net.certmail.persistence.reminders.Reminder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scanner reads every due row only every full-scan-interval (10 s by its clock); the scans in
 * between read the rows due since the previous scan, less scan-overlap (5 s). A row that lands
 * later than that behind the scans (a write held up by an outage) is missed by those scans and
 * found by the next full one: the duty it guards is done, later, not lost.
 */
@ExtendWith(LogCapturingExtension.class)
class ReminderScanWindowTest {
  static final Duration WAIT = Duration.ofSeconds(60);

  final TestNetwork network = new TestNetwork();
  final ManualClock clock = new ManualClock(Instant.now());

  @Test
  void aRowLandingBehindTheScansIsFoundByTheNextFullScan(@TempDir Path dir) throws Exception {
    Config journal = EngineNode.embeddedJournal(dir);
    Config resolved = journal.withFallback(com.typesafe.config.ConfigFactory.load()).resolve();
    JournalTampering database = new JournalTampering(resolved);
    String id = UUID.randomUUID().toString();
    String sender = EntityKind.entityId(ALICE, id);
    List<Reminder> waiting = new ArrayList<>();
    try (JdbcReminderStore rows = JdbcReminderStore.open(
        resolved.getString("pekko-persistence-jdbc.shared-databases.slick.db.url"), "sa", "",
        resolved.getDuration("certmail.reminders.bucket").toMillis())) {
      try (EngineNode node = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS, journal, null)) {
        ReminderBackfillTest.mailThatCarolHolds(node, clock, id);
      }
      for (String organisation : TestNetwork.RUNNING_ORGANISATIONS) {
        waiting.addAll(rows.dueBy(organisation, Long.MAX_VALUE, 1000).toCompletableFuture().get());
      }
      rows.replace(List.of(), waiting).toCompletableFuture().get();

      // Carol never decides; Pn's delivery give-up passes while no node runs. Nothing is awake in
      // the node started next: only a row can wake Pn. Its scanner's first scan is a full one,
      // which finds no row; the scans after it read from its start, less 5 s.
      clock.advance(Duration.ofMinutes(5).plusSeconds(5));
      try (EngineNode restarted = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS, journal, null)) {
        Thread.sleep(3_000);
        long late = clock.millis() - Duration.ofSeconds(60).toMillis();
        rows.replace(waiting.stream().map(row -> row.at(late)).toList(), List.of()).toCompletableFuture().get();
        Thread.sleep(3_000); // six scans by real time, none full by the clock, which stands still
        assertFalse(ReminderBackfillTest.concluded(database, sender),
            "a scan between full ones read a row due before its window");

        clock.advance(Duration.ofSeconds(10));
        EngineNode.awaitCondition(() -> ReminderBackfillTest.concluded(database, sender), WAIT,
            "the full scan waking Pn for its notice");
      }
    }
  }
}
