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
 * many entities persisted at the same time share a commit, and each entity still gets its own
 * acknowledgements and recovers exactly its own events, in order.
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
    Config config = ConfigFactory.parseString("certmail.journal.embedded.min-commit-interval = 300ms")
        .withFallback(TestJournals.embedded(directory.resolve("journal")));
    ActorTestKit writer = kit("grouping-writer", config);
    EmbeddedJournalSchema.ensureCreated(writer.system());
    List<ActorRef<TextLog.Command>> logs = new ArrayList<>();
    for (int i = 0; i < ENTITIES; i++) {
      logs.add(writer.spawn(TextLog.create("grouped|" + i)));
    }
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
    try (Connection connection = DriverManager.getConnection(config.getString("certmail.journal.embedded.url"), "sa",
        config.getString("pekko-persistence-jdbc.shared-databases.slick.db.password"));
         Statement statement = connection.createStatement();
         ResultSet rows = statement.executeQuery("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS"
             + " WHERE SETTING_NAME = 'info.FILE_WRITE'")) {
      rows.next();
      return Long.parseLong(rows.getString(1));
    }
  }
}
