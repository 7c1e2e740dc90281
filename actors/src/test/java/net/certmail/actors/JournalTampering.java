package net.certmail.actors;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import net.certmail.persistence.serialization.CertmailEventSerializer;
import net.certmail.proto.v1.ServerEvent;

/**
 * Changes the embedded journal behind Pekko's back, as an attacker with access to the database
 * file would: straight SQL on pekko-persistence-jdbc's event_journal table. H2 shares one open
 * database between the connections of a JVM, so the running journal and this see the same rows.
 */
final class JournalTampering {
  record Row(long sequenceNr, String manifest, byte[] payload) {}

  private final String url;
  private final String password;

  JournalTampering(Config config) {
    this.url = config.getString("pekko-persistence-jdbc.shared-databases.slick.db.url");
    this.password = config.getString("pekko-persistence-jdbc.shared-databases.slick.db.password");
  }

  List<Row> rows(String persistenceId) throws SQLException {
    try (Connection connection = connect(); PreparedStatement select = connection.prepareStatement(
        "SELECT \"sequence_number\", \"event_ser_manifest\", \"event_payload\" FROM \"event_journal\""
            + " WHERE \"persistence_id\" = ? ORDER BY \"sequence_number\"")) {
      select.setString(1, persistenceId);
      List<Row> rows = new ArrayList<>();
      try (ResultSet result = select.executeQuery()) {
        while (result.next()) {
          rows.add(new Row(result.getLong(1), result.getString(2), result.getBytes(3)));
        }
      }
      return rows;
    }
  }

  Row first(String persistenceId, String manifest) throws SQLException {
    return rows(persistenceId).stream().filter(row -> row.manifest().equals(manifest)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + manifest + " in " + persistenceId));
  }

  void replacePayload(String persistenceId, long sequenceNr, byte[] payload) throws SQLException {
    update("UPDATE \"event_journal\" SET \"event_payload\" = ? WHERE \"persistence_id\" = ? AND \"sequence_number\" = ?",
        payload, persistenceId, sequenceNr);
  }

  /** Replaces an event by another one (payload and manifest), keeping its sequence number. */
  void replaceEvent(String persistenceId, long sequenceNr, String manifest, byte[] payload) throws SQLException {
    update("UPDATE \"event_journal\" SET \"event_payload\" = ?, \"event_ser_manifest\" = ?"
        + " WHERE \"persistence_id\" = ? AND \"sequence_number\" = ?", payload, manifest, persistenceId, sequenceNr);
  }

  /** Persistence ids holding an event with this manifest. */
  List<String> idsWith(String manifest) throws SQLException {
    try (Connection connection = connect(); PreparedStatement select = connection.prepareStatement(
        "SELECT DISTINCT \"persistence_id\" FROM \"event_journal\" WHERE \"event_ser_manifest\" = ?")) {
      select.setString(1, manifest);
      List<String> ids = new ArrayList<>();
      try (ResultSet result = select.executeQuery()) {
        while (result.next()) {
          ids.add(result.getString(1));
        }
      }
      return ids;
    }
  }

  void delete(String persistenceId, long sequenceNr) throws SQLException {
    update("DELETE FROM \"event_journal\" WHERE \"persistence_id\" = ? AND \"sequence_number\" = ?",
        persistenceId, sequenceNr);
  }

  /** Appends a server event after the last one, as the entity itself would have written it. */
  long append(String persistenceId, String manifest, ServerEvent event) throws SQLException {
    long next = rows(persistenceId).stream().mapToLong(Row::sequenceNr).max().orElse(0) + 1;
    update("INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\", \"deleted\", \"writer\","
            + " \"write_timestamp\", \"adapter_manifest\", \"event_payload\", \"event_ser_id\", \"event_ser_manifest\")"
            + " VALUES (?, ?, false, 'journal-tampering', ?, '', ?, ?, ?)",
        persistenceId, next, System.currentTimeMillis(), event.toByteArray(), CertmailEventSerializer.IDENTIFIER,
        manifest);
    return next;
  }

  /** Keeps a copy of every event as it is now, for {@link #restore}. */
  void keepPristineCopy() throws SQLException {
    try (Connection connection = connect(); Statement statement = connection.createStatement()) {
      statement.execute("DROP TABLE IF EXISTS \"pristine_event_journal\"");
      statement.execute("CREATE TABLE \"pristine_event_journal\" AS SELECT * FROM \"event_journal\"");
    }
  }

  /** Puts back the events {@link #keepPristineCopy} kept: what a test planted is gone. */
  void restore() throws SQLException {
    try (Connection connection = connect(); Statement statement = connection.createStatement()) {
      connection.setAutoCommit(false);
      statement.execute("DELETE FROM \"event_journal\"");
      statement.execute("INSERT INTO \"event_journal\" SELECT * FROM \"pristine_event_journal\"");
      connection.commit();
    }
  }

  private void update(String sql, Object... parameters) throws SQLException {
    try (Connection connection = connect(); PreparedStatement statement = connection.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) {
        statement.setObject(i + 1, parameters[i]);
      }
      if (statement.executeUpdate() != 1) {
        throw new AssertionError("expected to change one row: " + sql);
      }
    }
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(url, "sa", password);
  }
}
