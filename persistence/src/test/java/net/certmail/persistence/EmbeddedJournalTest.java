package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import net.certmail.persistence.testing.JournalScenario;
import net.certmail.persistence.testing.TestJournals;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The journal contract on the embedded journal (pekko-persistence-jdbc on an H2 file): one fresh
 * database per test class, in a temp directory; and its schema creation.
 */
@ExtendWith(LogCapturingExtension.class)
class EmbeddedJournalTest extends JournalContract {
  private final Path directory = createTempDirectory();
  private final Config config = TestJournals.embedded(directory.resolve("journal"));

  @Override
  JournalBackend backend() {
    return JournalBackend.EMBEDDED;
  }

  @Override
  Config config() {
    return config;
  }

  @Override
  void prepare(ActorTestKit writer) {
    EmbeddedJournalSchema.ensureCreated(writer.system());
  }

  @Override
  List<String> storedSerializers(String persistenceId) throws Exception {
    List<String> stored = new ArrayList<>();
    try (Connection connection = DriverManager.getConnection(config.getString("certmail.journal.embedded.url"), "sa",
        config.getString("pekko-persistence-jdbc.shared-databases.slick.db.password"));
        PreparedStatement statement = connection.prepareStatement("SELECT \"event_ser_id\", \"event_ser_manifest\""
            + " FROM PUBLIC.\"event_journal\" WHERE \"persistence_id\" = ? ORDER BY \"sequence_number\"")) {
      statement.setString(1, persistenceId);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          stored.add(rows.getInt(1) + "/" + rows.getString(2));
        }
      }
    }
    return stored;
  }

  @Override
  void cleanUp() {
    TestJournals.deleteRecursively(directory);
  }

  @Override
  List<String> persistenceIds() {
    return JournalScenario.currentPersistenceIds(reader.system(), backend().readJournalPluginId());
  }

  @Test
  void schemaCreationIsIdempotentAndLeavesNoTraceFile() throws IOException {
    EmbeddedJournalSchema.ensureCreated(reader.system());
    EmbeddedJournalSchema.ensureCreated(reader.system());

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
