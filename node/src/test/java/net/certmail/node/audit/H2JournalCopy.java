package net.certmail.node.audit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * A copy of a real embedded journal (its H2 file and the password beside it), changed with plain
 * SQL as someone with the file could: pekko-persistence-jdbc's event_journal table.
 */
final class H2JournalCopy implements TamperableJournal {
  private final Path journal;
  private final String url;
  private final String password;

  /** Copies {@code <from>.mv.db} and {@code <from>.password} to {@code <into>/journal.*}. */
  H2JournalCopy(Path from, Path into) throws Exception {
    Files.createDirectories(into);
    Files.copy(Path.of(from + ".mv.db"), into.resolve("journal.mv.db"));
    Files.copy(Path.of(from + ".password"), into.resolve("journal.password"));
    this.journal = into.resolve("journal");
    this.url = "jdbc:h2:file:" + journal + ";WRITE_DELAY=0;TRACE_LEVEL_FILE=0";
    this.password = Files.readString(into.resolve("journal.password")).strip();
  }

  Path path() {
    return journal;
  }

  @Override
  public List<String> persistenceIds() throws SQLException {
    List<String> ids = new ArrayList<>();
    try (Connection c = connect(); PreparedStatement select = c.prepareStatement(
        "SELECT DISTINCT \"persistence_id\" FROM \"event_journal\" ORDER BY \"persistence_id\"");
        ResultSet rows = select.executeQuery()) {
      while (rows.next()) {
        ids.add(rows.getString(1));
      }
    }
    return ids;
  }

  @Override
  public List<StoredEvent> stream(String persistenceId) throws SQLException {
    List<StoredEvent> events = new ArrayList<>();
    try (Connection c = connect(); PreparedStatement select = c.prepareStatement(
        "SELECT \"sequence_number\", \"event_ser_manifest\", \"event_payload\" FROM \"event_journal\""
            + " WHERE \"persistence_id\" = ? ORDER BY \"sequence_number\"")) {
      select.setString(1, persistenceId);
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          events.add(StoredEvent.of(persistenceId, rows.getLong(1), rows.getString(2), rows.getBytes(3)));
        }
      }
    }
    return events;
  }

  @Override
  public void delete(String persistenceId, long fromSequenceNr) throws SQLException {
    update("DELETE FROM \"event_journal\" WHERE \"persistence_id\" = ? AND \"sequence_number\" >= ?",
        persistenceId, fromSequenceNr);
  }

  @Override
  public void deleteOne(String persistenceId, long sequenceNr) throws SQLException {
    update("DELETE FROM \"event_journal\" WHERE \"persistence_id\" = ? AND \"sequence_number\" = ?",
        persistenceId, sequenceNr);
  }

  @Override
  public void renumber(String persistenceId, long from, long to) throws SQLException {
    update("UPDATE \"event_journal\" SET \"sequence_number\" = ? WHERE \"persistence_id\" = ? AND \"sequence_number\" = ?",
        to, persistenceId, from);
  }

  @Override
  public void store(String persistenceId, long sequenceNr, String storedManifest, byte[] stored) throws SQLException {
    int changed = updateCount("UPDATE \"event_journal\" SET \"event_ser_manifest\" = ?, \"event_payload\" = ?"
        + " WHERE \"persistence_id\" = ? AND \"sequence_number\" = ?", storedManifest, stored, persistenceId, sequenceNr);
    if (changed == 0) {
      // a new row, as the journal writes one (ser id of CertmailEventSerializer)
      update("INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\", \"deleted\", \"writer\","
              + " \"write_timestamp\", \"adapter_manifest\", \"event_payload\", \"event_ser_id\", \"event_ser_manifest\")"
              + " VALUES (?, ?, false, 'tampering', ?, '', ?, ?, ?)", persistenceId, sequenceNr,
          System.currentTimeMillis(), stored, net.certmail.persistence.serialization.CertmailEventSerializer.IDENTIFIER,
          storedManifest);
    }
  }

  private void update(String sql, Object... parameters) throws SQLException {
    if (updateCount(sql, parameters) == 0) {
      throw new AssertionError("changed nothing: " + sql);
    }
  }

  private int updateCount(String sql, Object... parameters) throws SQLException {
    try (Connection c = connect(); PreparedStatement statement = c.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) {
        statement.setObject(i + 1, parameters[i]);
      }
      return statement.executeUpdate();
    }
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(url, "sa", password);
  }
}
