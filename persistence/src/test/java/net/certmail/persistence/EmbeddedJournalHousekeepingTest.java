package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With WRITE_DELAY=0 every commit is a chunk of the H2 file, and H2 itself never rewrites the
 * partly live ones: an append-only journal keeps a live page in many of them (and an object per
 * chunk in memory). The housekeeping's compaction brings them back to a handful.
 * RETENTION_TIME=0 lets chunks be dropped and rewritten at once instead of after H2's 45 s.
 */
class EmbeddedJournalHousekeepingTest {
  static final int COMMITS = 600;

  @Test
  void compactionLeavesAHandfulOfChunksWhereEveryCommitLeftOne(@TempDir Path dir) throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("journal").toAbsolutePath() + ";WRITE_DELAY=0;RETENTION_TIME=0";
    try (Connection connection = DriverManager.getConnection(url, "sa", "")) {
      try (Statement statement = connection.createStatement()) {
        statement.execute("CREATE TABLE events (ordering BIGINT AUTO_INCREMENT PRIMARY KEY, persistence_id VARCHAR(255),"
            + " payload VARBINARY(2000))");
      }
      try (PreparedStatement insert = connection.prepareStatement(
          "INSERT INTO events (persistence_id, payload) VALUES (?, ?)")) {
        for (int i = 0; i < COMMITS; i++) {
          insert.setString(1, "stream-" + i % 50);
          insert.setBytes(2, new byte[600]);
          insert.executeUpdate();
        }
        long before = chunks(connection);
        assertTrue(before > COMMITS / 20, "partly live chunks the commits left: " + before);
        MVStore store = EmbeddedJournalHousekeeping.storeOf(connection);
        assertNotNull(store, "an in-process database");
        long after = before;
        for (int round = 0; round < 10 && after > 10; round++) {
          EmbeddedJournalHousekeeping.compact(store);
          insert.setString(1, "next");
          insert.setBytes(2, new byte[1]);
          insert.executeUpdate(); // the commit that drops the emptied chunks
          after = chunks(connection);
        }
        assertTrue(after <= 10, "chunks after compaction: " + after + " (before: " + before + ")");
      }
    }
  }

  private static long chunks(Connection connection) throws SQLException {
    try (Statement statement = connection.createStatement(); ResultSet row = statement.executeQuery(
        "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'info.CHUNK_COUNT'")) {
      row.next();
      return Long.parseLong(row.getString(1));
    }
  }
}
