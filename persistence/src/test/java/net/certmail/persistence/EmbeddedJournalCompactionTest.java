package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Random;
import org.h2.mvstore.MVStore;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a real H2 file opened as the embedded journal opens it (WRITE_DELAY=0: no H2 background
 * writer), with H2's retention time at 0 so that chunks are old enough to move at once: a commit per
 * row into random places of an index, as a busy node writes its journal.
 */
class EmbeddedJournalCompactionTest {
  private static final int ROWS = 3000;
  private static final EmbeddedJournalCompaction.Settings SETTINGS =
      new EmbeddedJournalCompaction.Settings(Duration.ofSeconds(1), 80, 1 << 20);

  @TempDir
  Path directory;

  record FileState(long chunks, long fileBytes, int chunksFillRate, long rows) {}

  @Test
  void withoutCompactionEveryCommitLeavesAChunkBehind() throws SQLException {
    FileState state = commitRowByRow("plain", false);
    assertTrue(state.chunks() > 100 && state.chunksFillRate() < 30,
        "expected mostly dead chunks to pile up without compaction: " + state);
  }

  @Test
  void compactionKeepsTheFileSmallAndLosesNothing() throws SQLException {
    FileState plain = commitRowByRow("plain", false);
    FileState compacted = commitRowByRow("compacted", true);
    assertEquals(ROWS, compacted.rows(), "every committed row is still there");
    assertTrue(compacted.chunks() * 5 < plain.chunks(), "chunks: " + compacted + " against " + plain);
    assertTrue(compacted.fileBytes() * 3 < plain.fileBytes(), "file: " + compacted + " against " + plain);
    assertTrue(compacted.chunksFillRate() >= 50, "live share of the chunks: " + compacted);
  }

  @Test
  void reopenedAfterCompactionTheDataIsIntact() throws SQLException {
    commitRowByRow("reopened", true);
    try (Connection connection = open("reopened"); Statement statement = connection.createStatement();
         ResultSet sum = statement.executeQuery("SELECT COUNT(*), SUM(\"n\") FROM PUBLIC.\"rows\"")) {
      sum.next();
      assertEquals(ROWS, sum.getLong(1));
      assertEquals((long) ROWS * (ROWS - 1) / 2, sum.getLong(2));
    }
  }

  /** With auto-server, other processes reach the file over TCP: only the one holding it compacts. */
  @Test
  void onlyTheProcessHoldingTheFileCompactsIt() throws SQLException {
    Server server = Server.createTcpServer("-tcpPort", "0", "-baseDir", directory.toString(), "-ifNotExists").start();
    try (Connection local = open("shared");
         Connection remote = DriverManager.getConnection("jdbc:h2:tcp://localhost:" + server.getPort() + "/shared",
             "sa", "")) {
      assertTrue(EmbeddedJournalCompaction.storeOf(local).isPresent());
      assertTrue(EmbeddedJournalCompaction.storeOf(remote).isEmpty());
    } finally {
      server.stop();
    }
  }

  /** What the node's metrics show (certmail_journal_file_*): H2's own figures for the file. */
  @Test
  void theFileStateIsWhatH2Reports() throws SQLException {
    EmbeddedJournalFile file = new EmbeddedJournalFile();
    assertTrue(file.state().isEmpty(), "nothing held yet");
    try (Connection connection = open("state")) {
      try (Statement statement = connection.createStatement()) {
        statement.execute("CREATE TABLE PUBLIC.\"rows\" (\"n\" INT NOT NULL PRIMARY KEY)");
        statement.execute("INSERT INTO PUBLIC.\"rows\" VALUES (1)");
      }
      file.held(EmbeddedJournalCompaction.storeOf(connection).orElseThrow());
      EmbeddedJournalFile.State state = file.state().orElseThrow();
      assertEquals(info(connection, "info.FILE_SIZE"), state.bytes());
      assertEquals(info(connection, "info.CHUNK_COUNT"), state.chunks());
      assertEquals(info(connection, "info.CHUNKS_FILL_RATE"), state.livePercent());
      assertTrue(state.bytes() > 0 && state.chunks() >= 1, state.toString());
    }
    assertTrue(file.state().isEmpty(), "a closed file has no state");
  }

  @Test
  void settingsAreReadFromTheJournalConfig() {
    EmbeddedJournalCompaction.Settings settings = EmbeddedJournalCompaction.Settings.of(
        ConfigFactory.parseResources("certmail-journal-embedded.conf").resolve());
    assertEquals(Duration.ofSeconds(1), settings.interval());
    assertEquals(80, settings.targetFillRate());
  }

  private Connection open(String name) throws SQLException {
    return DriverManager.getConnection("jdbc:h2:file:" + directory.resolve(name).toAbsolutePath()
        + ";WRITE_DELAY=0;RETENTION_TIME=0;TRACE_LEVEL_FILE=0", "sa", "");
  }

  private FileState commitRowByRow(String name, boolean compact) throws SQLException {
    try (Connection connection = open(name)) {
      MVStore store = EmbeddedJournalCompaction.storeOf(connection).orElseThrow();
      try (Statement statement = connection.createStatement()) {
        statement.execute("CREATE TABLE PUBLIC.\"rows\" (\"key\" VARCHAR(64) NOT NULL PRIMARY KEY, \"n\" INT NOT NULL)");
      }
      Random random = new Random(7);
      try (PreparedStatement insert = connection.prepareStatement("INSERT INTO PUBLIC.\"rows\" VALUES (?, ?)")) {
        for (int n = 0; n < ROWS; n++) {
          insert.setString(1, Long.toHexString(random.nextLong()) + "|" + n); // random place, as hashed labels
          insert.setInt(2, n);
          insert.executeUpdate(); // auto-commit: one commit, one chunk
          if (compact && n % 20 == 19) {
            EmbeddedJournalCompaction.runOnce(store, SETTINGS);
          }
        }
      }
      try (Statement statement = connection.createStatement()) {
        statement.execute("INSERT INTO PUBLIC.\"rows\" VALUES ('last', -1)"); // stores what compaction moved
        statement.execute("DELETE FROM PUBLIC.\"rows\" WHERE \"key\" = 'last'");
      }
      return new FileState(info(connection, "info.CHUNK_COUNT"), info(connection, "info.FILE_SIZE"),
          (int) info(connection, "info.CHUNKS_FILL_RATE"), count(connection));
    }
  }

  private static long info(Connection connection, String name) throws SQLException {
    try (PreparedStatement query = connection.prepareStatement(
        "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = ?")) {
      query.setString(1, name);
      try (ResultSet rows = query.executeQuery()) {
        assertTrue(rows.next(), name + " is not among H2's settings");
        return Long.parseLong(rows.getString(1));
      }
    }
  }

  private static long count(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement();
         ResultSet rows = statement.executeQuery("SELECT COUNT(*) FROM PUBLIC.\"rows\"")) {
      rows.next();
      return rows.getLong(1);
    }
  }
}
