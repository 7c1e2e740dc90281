package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import net.certmail.persistence.testing.JournalScenario;
import net.certmail.persistence.testing.TestJournals;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The embedded journal (pekko-persistence-jdbc on an H2 file) keeps events across ActorSystems
 * and answers the queries audits use. One fresh database per test class, in a temp directory.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
class EmbeddedJournalTest {

  private final Path directory = createTempDirectory();
  private final Path database = directory.resolve("journal");
  private final Config config = TestJournals.embedded(database);

  /** The ActorSystem that recovers and queries; the writes happen in short-lived others. */
  @JUnit5TestKit
  private final ActorTestKit testKit = new JUnit5TestKitBuilder()
      .withName("embedded-journal-test")
      .withCustomConfig(config)
      .build();

  @AfterAll
  void deleteDatabase() {
    // stop the ActorSystem that holds the database open first (the extension's own shutdown
    // afterwards finds it stopped)
    testKit.shutdownTestKit();
    TestJournals.deleteRecursively(directory);
  }

  @Test
  void eventsWrittenByOneActorSystemAreRecoveredAndQueriedByAFreshOne() {
    List<String> lines = List.of("submitted", "cop-issued", "relayed", "relay-acknowledged",
        "notified", "cod-received", "rod-issued");
    ActorTestKit writer = ActorTestKit.create("embedded-writer", config);
    List<Long> acknowledged;
    try {
      EmbeddedJournalSchema.ensureCreated(writer.system());
      acknowledged = JournalScenario.append(writer, "alpha.example|mail-1", lines);
      JournalScenario.append(writer, "alpha.example|mail-2", List.of("submitted"));
    } finally {
      writer.shutdownTestKit();
    }
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), acknowledged);

    // a fresh ActorSystem: the entity's state can only come from the database file
    assertEquals(lines, JournalScenario.recover(testKit, "alpha.example|mail-1"));

    String readJournal = JournalBackend.EMBEDDED.readJournalPluginId();
    List<String> persistenceIds = JournalScenario.currentPersistenceIds(testKit.system(), readJournal);
    assertTrue(persistenceIds.containsAll(Set.of("alpha.example|mail-1", "alpha.example|mail-2")),
        "both entities expected among " + persistenceIds);
    List<EventEnvelope> events = JournalScenario.currentEvents(testKit.system(), readJournal, "alpha.example|mail-1");
    assertEquals(lines, events.stream().map(JournalScenario::text).toList());
    assertEquals(acknowledged, events.stream().map(EventEnvelope::sequenceNr).toList());
  }

  @Test
  void eventsAreStoredWithTheBoundSerializerNotJavaSerialization() throws SQLException {
    ActorTestKit writer = ActorTestKit.create("embedded-serializer-writer", config);
    try {
      EmbeddedJournalSchema.ensureCreated(writer.system());
      JournalScenario.append(writer, "alpha.example|mail-3", List.of("one", "two", "three", "four", "five"));
    } finally {
      writer.shutdownTestKit();
    }
    List<String> stored = new ArrayList<>();
    try (Connection connection = DriverManager.getConnection(config.getString("certmail.journal.embedded.url"), "sa",
        config.getString("pekko-persistence-jdbc.shared-databases.slick.db.password"));
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT \"event_ser_id\", \"event_ser_manifest\""
            + " FROM PUBLIC.\"event_journal\" WHERE \"persistence_id\" = 'alpha.example|mail-3'")) {
      while (rows.next()) {
        stored.add(rows.getInt(1) + "/" + rows.getString(2));
      }
    }
    assertEquals(List.of("7415001/text-log.appended.v1", "7415001/text-log.appended.v1",
        "7415001/text-log.appended.v1", "7415001/text-log.appended.v1", "7415001/text-log.appended.v1"), stored);
  }

  @Test
  void schemaCreationIsIdempotentAndLeavesNoTraceFile() throws IOException {
    EmbeddedJournalSchema.ensureCreated(testKit.system());
    EmbeddedJournalSchema.ensureCreated(testKit.system());

    try (Stream<Path> files = Files.list(directory)) {
      List<String> names = files.map(p -> p.getFileName().toString()).toList();
      assertTrue(names.contains("journal.mv.db"), "database file expected, found " + names);
      assertTrue(names.stream().noneMatch(n -> n.endsWith(".trace.db")), "no H2 trace file expected, found " + names);
    }
  }

  private static Path createTempDirectory() {
    try {
      return Files.createTempDirectory("certmail-embedded-journal-test");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
