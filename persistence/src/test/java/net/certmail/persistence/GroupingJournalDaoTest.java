package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.certmail.persistence.reminders.JdbcReminderStore;
import net.certmail.persistence.reminders.Reminder;
import org.apache.pekko.Done;
import net.certmail.persistence.testing.JournalScenario;
import net.certmail.persistence.testing.TestJournals;
import net.certmail.persistence.testing.TextLog;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded journal's grouped inserts (GroupingJournalDao) on a real H2 file: the events of
 * many entities persisted at the same time share a commit, with the reminder rows asked for
 * meanwhile; each entity still gets its own acknowledgements and recovers exactly its own events,
 * in order; an insert that cannot be stored fails its own entity's persist and no other.
 */
@ExtendWith(LogCapturingExtension.class)
class GroupingJournalDaoTest {
  private static final int ENTITIES = 30;

  @TempDir
  Path directory;
  private final List<ActorTestKit> kits = new ArrayList<>();

  @AfterEach
  void stop() {
    kits.forEach(ActorTestKit::shutdownTestKit);
  }

  @Test
  void eventsOfEntitiesPersistingTogetherShareCommitsAndAreRecoveredEachInOrder() throws Exception {
    Config config = journal("300ms");
    ActorTestKit writer = node("grouping-writer", config);
    List<ActorRef<TextLog.Command>> logs = spawnLogs(writer, "grouped|");
    TestProbe<Long> acks = writer.createTestProbe(Long.class);
    appendToEach(logs, "first", acks); // the entities recover and write once before counting

    long writesBefore = fileWrites(config);
    for (String line : List.of("second", "third")) {
      List<Long> sequenceNrs = appendToEach(logs, line, acks);
      assertEquals(ENTITIES, sequenceNrs.size());
    }
    long fileWrites = fileWrites(config) - writesBefore;
    assertTrue(fileWrites < ENTITIES,
        "60 events of 30 entities, 5 ms apart, took " + fileWrites + " file writes; a commit each would be 60");
    writer.shutdownTestKit();

    ActorTestKit reader = kit("grouping-reader", config);
    for (int i = 0; i < ENTITIES; i++) {
      assertEquals(List.of("first", "second", "third"), JournalScenario.recover(reader, "grouped|" + i));
    }
  }

  @Test
  void eventsAndReminderRowsQueuedInOneIntervalShareOneCommit() throws Exception {
    Config config = journal("500ms");
    ActorTestKit node = node("one-writer", config);
    GroupCommitDatabase database = EmbeddedJournalDatabase.get(node.system()).database();
    GroupCommitWriter writer = database.writer();
    JdbcReminderStore reminders = JdbcReminderStore.on(database, 60_000);
    List<ActorRef<TextLog.Command>> logs = spawnLogs(node, "shared|");
    TestProbe<Long> acks = node.createTestProbe(Long.class);
    appendToEach(logs, "first", acks); // recovered and written once before counting

    long commitsBefore = writer.commits();
    long writesBefore = writer.writes();
    List<CompletableFuture<Done>> rows = new ArrayList<>();
    for (int i = 0; i < ENTITIES; i++) {
      logs.get(i).tell(new TextLog.Append("second", acks.ref()));
      rows.add(reminders.write(new Reminder("example.org", "TextLog", "shared|" + i, 1_000 + i)).toCompletableFuture());
    }
    for (int i = 0; i < ENTITIES; i++) {
      assertEquals(2L, acks.expectMessageClass(Long.class, JournalScenario.TIMEOUT));
    }
    CompletableFuture.allOf(rows.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    long commits = writer.commits() - commitsBefore;
    assertEquals(2 * ENTITIES, writer.writes() - writesBefore, "each entity's persist and each row, through one writer");
    // Everything above was asked within a few ms: the first write may go at once, the rest wait for the next commit.
    assertTrue(commits <= 3, "30 events and 30 reminder rows asked together took " + commits + " commits");
    assertEquals(ENTITIES, reminders.dueBy("example.org", Long.MAX_VALUE, 100).toCompletableFuture()
        .get(30, TimeUnit.SECONDS).size());
    node.shutdownTestKit();

    ActorTestKit reader = kit("one-writer-reader", config);
    for (int i = 0; i < ENTITIES; i++) {
      assertEquals(List.of("first", "second"), JournalScenario.recover(reader, "shared|" + i));
    }
  }

  @Test
  void anInsertThatFailsFailsOnlyItsOwnEntitysPersist() throws Exception {
    Config config = journal("500ms");
    ActorTestKit node = node("clash", config);
    ActorRef<TextLog.Command> clash = node.spawn(TextLog.create("clash"));
    ActorRef<TextLog.Command> fine = node.spawn(TextLog.create("fine"));
    TestProbe<TextLog.Texts> recovered = node.createTestProbe(TextLog.Texts.class);
    clash.tell(new TextLog.Read(recovered.ref()));
    fine.tell(new TextLog.Read(recovered.ref()));
    recovered.receiveSeveralMessages(2, JournalScenario.TIMEOUT);
    // Another writer's event 1 of "clash" appears after it recovered: its own event 1 cannot be stored.
    try (Connection connection = connect(config); Statement statement = connection.createStatement()) {
      statement.executeUpdate("INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\", \"writer\","
          + " \"write_timestamp\", \"adapter_manifest\", \"event_payload\", \"event_ser_id\", \"event_ser_manifest\")"
          + " VALUES ('clash', 1, 'another', 0, '', X'00', 0, '')");
    }
    TestProbe<Long> acks = node.createTestProbe(Long.class);
    clash.tell(new TextLog.Append("mine", acks.ref()));
    fine.tell(new TextLog.Append("also mine", acks.ref())); // queued in the same interval, the same group
    assertEquals(1L, acks.expectMessageClass(Long.class, JournalScenario.TIMEOUT));
    acks.expectTerminated(clash, JournalScenario.TIMEOUT); // its persist failed: the entity stops
    acks.expectNoMessage(java.time.Duration.ofMillis(200));
    node.shutdownTestKit();

    ActorTestKit reader = kit("clash-reader", config);
    assertEquals(List.of("also mine"), JournalScenario.recover(reader, "fine"));
  }

  /** The embedded journal in this test's directory, committing no sooner than {@code interval} after the last commit. */
  private Config journal(String interval) {
    return ConfigFactory.parseString("certmail.journal.embedded.min-commit-interval = " + interval)
        .withFallback(TestJournals.embedded(directory.resolve("journal")));
  }

  /** A system writing to the journal, its tables created. */
  private ActorTestKit node(String name, Config config) {
    ActorTestKit kit = kit(name, config);
    EmbeddedJournalSchema.ensureCreated(kit.system());
    return kit;
  }

  private static List<ActorRef<TextLog.Command>> spawnLogs(ActorTestKit kit, String prefix) {
    List<ActorRef<TextLog.Command>> logs = new ArrayList<>();
    for (int i = 0; i < ENTITIES; i++) {
      logs.add(kit.spawn(TextLog.create(prefix + i)));
    }
    return logs;
  }

  private static Connection connect(Config config) throws SQLException {
    return DriverManager.getConnection(config.getString("certmail.journal.embedded.url"), "sa",
        config.getString("pekko-persistence-jdbc.shared-databases.slick.db.password"));
  }

  private ActorTestKit kit(String name, Config config) {
    ActorTestKit kit = ActorTestKit.create(name, config);
    kits.add(kit);
    return kit;
  }

  /**
   * Tells each entity to append the line, 5 ms apart (as a busy node's entities persist: spread
   * out, not in one burst, which the plugin batches by itself), then waits for all acknowledgements.
   */
  private static List<Long> appendToEach(List<ActorRef<TextLog.Command>> logs, String line, TestProbe<Long> acks)
      throws InterruptedException {
    for (ActorRef<TextLog.Command> log : logs) {
      log.tell(new TextLog.Append(line, acks.ref()));
      Thread.sleep(5);
    }
    List<Long> sequenceNrs = new ArrayList<>();
    for (int i = 0; i < logs.size(); i++) {
      sequenceNrs.add(acks.expectMessageClass(Long.class, JournalScenario.TIMEOUT));
    }
    return sequenceNrs;
  }

  /** H2's count of writes to the database file (each commit writes its chunk: one or more). */
  private static long fileWrites(Config config) throws SQLException {
    try (Connection connection = connect(config);
         Statement statement = connection.createStatement();
         ResultSet rows = statement.executeQuery("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS"
             + " WHERE SETTING_NAME = 'info.FILE_WRITE'")) {
      rows.next();
      return Long.parseLong(rows.getString(1));
    }
  }
}
