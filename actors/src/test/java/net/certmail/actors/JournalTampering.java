package net.certmail.actors;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import net.certmail.persistence.chain.EventChain;
import net.certmail.persistence.serialization.CertmailEventSerializer;
import net.certmail.proto.v1.ChainedEvent;
import net.certmail.proto.v1.ServerEvent;

/**
 * Changes the embedded journal behind Pekko's back, as an attacker with access to the database
 * file would: straight SQL on pekko-persistence-jdbc's event_journal table. H2 shares one open
 * database between the connections of a JVM, so the running journal and this see the same rows.
 *
 * <p>Events are stored in their stream's hash chain ({@code chained.v1/...}): a {@link Row} shows
 * the event's own manifest and bytes; replacing one keeps the chain link it had (an attacker who
 * edits an event in place), appending links it properly to the last event (an attacker who knows
 * the chain format: only the audit's other rules can catch that).
 */
final class JournalTampering {
  /** @param manifest the event's own manifest; @param payload the event's own bytes */
  record Row(long sequenceNr, String manifest, byte[] payload, byte[] previousHash, String storedManifest,
             byte[] storedPayload) {}

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
          rows.add(row(result.getLong(1), result.getString(2), result.getBytes(3)));
        }
      }
      return rows;
    }
  }

  private static Row row(long sequenceNr, String storedManifest, byte[] stored) throws SQLException {
    if (!storedManifest.startsWith(CertmailEventSerializer.CHAINED)) {
      return new Row(sequenceNr, storedManifest, stored, null, storedManifest, stored);
    }
    try {
      ChainedEvent chained = ChainedEvent.parseFrom(stored);
      return new Row(sequenceNr, storedManifest.substring(CertmailEventSerializer.CHAINED.length()),
          chained.getEvent().toByteArray(), chained.getPreviousHash().toByteArray(), storedManifest, stored);
    } catch (InvalidProtocolBufferException e) {
      throw new SQLException("not a chained event", e);
    }
  }

  /** The stored bytes for an event at the place of {@code old}: in the chain link {@code old} had. */
  private static byte[] inPlaceOf(Row old, byte[] eventBytes) {
    return old.previousHash() == null ? eventBytes : ChainedEvent.newBuilder()
        .setPreviousHash(ByteString.copyFrom(old.previousHash())).setEvent(ByteString.copyFrom(eventBytes)).build()
        .toByteArray();
  }

  private Row at(String persistenceId, long sequenceNr) throws SQLException {
    return rows(persistenceId).stream().filter(row -> row.sequenceNr() == sequenceNr).findFirst()
        .orElseThrow(() -> new AssertionError("no event #" + sequenceNr + " in " + persistenceId));
  }

  Row first(String persistenceId, String manifest) throws SQLException {
    return rows(persistenceId).stream().filter(row -> row.manifest().equals(manifest)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + manifest + " in " + persistenceId));
  }

  void replacePayload(String persistenceId, long sequenceNr, byte[] eventBytes) throws SQLException {
    byte[] payload = inPlaceOf(at(persistenceId, sequenceNr), eventBytes);
    update("UPDATE \"event_journal\" SET \"event_payload\" = ? WHERE \"persistence_id\" = ? AND \"sequence_number\" = ?",
        payload, persistenceId, sequenceNr);
  }

  /** Replaces an event by another one (payload and manifest), keeping its sequence number. */
  void replaceEvent(String persistenceId, long sequenceNr, String eventManifest, byte[] eventBytes)
      throws SQLException {
    Row old = at(persistenceId, sequenceNr);
    byte[] payload = inPlaceOf(old, eventBytes);
    String manifest = old.previousHash() == null ? eventManifest : CertmailEventSerializer.CHAINED + eventManifest;
    update("UPDATE \"event_journal\" SET \"event_payload\" = ?, \"event_ser_manifest\" = ?"
        + " WHERE \"persistence_id\" = ? AND \"sequence_number\" = ?", payload, manifest, persistenceId, sequenceNr);
  }

  /** Persistence ids holding an event with this manifest. */
  List<String> idsWith(String manifest) throws SQLException {
    try (Connection connection = connect(); PreparedStatement select = connection.prepareStatement(
        "SELECT DISTINCT \"persistence_id\" FROM \"event_journal\" WHERE \"event_ser_manifest\" IN (?, ?)")) {
      select.setString(1, manifest);
      select.setString(2, CertmailEventSerializer.CHAINED + manifest);
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
    List<Row> rows = rows(persistenceId);
    long next = rows.stream().mapToLong(Row::sequenceNr).max().orElse(0) + 1;
    Row last = rows.get(rows.size() - 1);
    byte[] previous = last.previousHash() == null ? EventChain.genesis(persistenceId)
        : EventChain.next(last.previousHash(), last.manifest(), last.payload());
    byte[] payload = ChainedEvent.newBuilder().setPreviousHash(ByteString.copyFrom(previous))
        .setEvent(event.toByteString()).build().toByteArray();
    update("INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\", \"deleted\", \"writer\","
            + " \"write_timestamp\", \"adapter_manifest\", \"event_payload\", \"event_ser_id\", \"event_ser_manifest\")"
            + " VALUES (?, ?, false, 'journal-tampering', ?, '', ?, ?, ?)",
        persistenceId, next, System.currentTimeMillis(), payload, CertmailEventSerializer.IDENTIFIER,
        CertmailEventSerializer.CHAINED + manifest);
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

  /**
   * The database as a node from before reminder rows existed left it: events, but no reminder
   * row and no record of a backfill.
   */
  void forgetReminders() throws SQLException {
    try (Connection connection = connect(); Statement statement = connection.createStatement()) {
      statement.execute("DROP TABLE IF EXISTS PUBLIC.\"reminders\"");
      statement.execute("DROP TABLE IF EXISTS PUBLIC.\"reminder_backfills\"");
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
