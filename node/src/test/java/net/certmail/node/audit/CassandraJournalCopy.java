package net.certmail.node.audit;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import net.certmail.persistence.CassandraJournalSchema;
import net.certmail.persistence.CassandraJournalStreams;

/**
 * A copy of a real Cassandra journal (pekko-persistence-cassandra's messages table) in a keyspace
 * of its own, changed with plain CQL as someone with
 * access to the cluster could. Every event lives in partition 0 (a stream of fewer than 500,000).
 *
 * <p>The keyspace is created once and {@link #restore() restored} row by row before each
 * tampering: creating a keyspace per test cost a dozen schema changes each, which on a loaded
 * Cassandra (every DDL is agreed by the schema machinery and flushed) took 6-17 s and was where
 * the test's set-up went slow or timed out. Row writes are what a journal is made for.
 */
final class CassandraJournalCopy implements TamperableJournal {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private final CqlSession session;
  private final String keyspace;
  private final List<Row> original;
  private final PreparedStatement insertRow;

  CassandraJournalCopy(CqlSession session, String from, String keyspace) {
    this.session = session;
    this.keyspace = keyspace;
    CassandraJournalSchema.apply(session, keyspace, keyspace + "_snapshot", Map.of("datacenter1", 1));
    this.original = execute("SELECT persistence_id, partition_nr, sequence_nr, timestamp, timebucket, writer_uuid,"
        + " ser_id, ser_manifest, event_manifest, event FROM " + from + ".messages").all();
    this.insertRow = session.prepare("INSERT INTO " + keyspace + ".messages (persistence_id, partition_nr, sequence_nr,"
        + " timestamp, timebucket, writer_uuid, ser_id, ser_manifest, event_manifest, event)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    restore();
  }

  /** Back to the journal as copied: every partition the tests touched removed, the original rows written. */
  void restore() {
    for (Row partition : execute("SELECT DISTINCT persistence_id, partition_nr FROM " + keyspace + ".messages")) {
      execute("DELETE FROM " + keyspace + ".messages WHERE persistence_id = ? AND partition_nr = ?",
          partition.getString(0), partition.getLong(1));
    }
    for (Row row : original) {
      session.execute(insertRow.bind(row.getString(0), row.getLong(1), row.getLong(2), row.getUuid(3),
          row.getString(4), row.getString(5), row.getInt(6), row.getString(7), row.getString(8), row.getByteBuffer(9))
          .setTimeout(TIMEOUT));
    }
  }

  String keyspace() {
    return keyspace;
  }

  void drop() {
    for (String name : List.of(keyspace, keyspace + "_snapshot")) {
      execute("DROP KEYSPACE IF EXISTS " + name);
    }
  }

  @Override
  public List<String> persistenceIds() {
    return List.copyOf(new TreeSet<>(CassandraJournalStreams.persistenceIds(session, keyspace)));
  }

  @Override
  public List<StoredEvent> stream(String persistenceId) {
    List<StoredEvent> events = new ArrayList<>();
    for (Row row : rows(persistenceId)) {
      ByteBuffer event = row.getByteBuffer(2);
      byte[] bytes = new byte[event.remaining()];
      event.get(bytes);
      events.add(StoredEvent.of(persistenceId, row.getLong(0), row.getString(1), bytes));
    }
    return events;
  }

  private List<Row> rows(String persistenceId) {
    return execute("SELECT sequence_nr, ser_manifest, event, timestamp, timebucket, writer_uuid, ser_id, event_manifest"
        + " FROM " + keyspace + ".messages WHERE persistence_id = ? AND partition_nr = 0", persistenceId).all();
  }

  @Override
  public void delete(String persistenceId, long fromSequenceNr) {
    execute("DELETE FROM " + keyspace + ".messages WHERE persistence_id = ? AND partition_nr = 0 AND sequence_nr >= ?",
        persistenceId, fromSequenceNr);
  }

  @Override
  public void deleteOne(String persistenceId, long sequenceNr) {
    execute("DELETE FROM " + keyspace + ".messages WHERE persistence_id = ? AND partition_nr = 0 AND sequence_nr = ?",
        persistenceId, sequenceNr);
  }

  @Override
  public void renumber(String persistenceId, long from, long to) {
    Row row = rows(persistenceId).stream().filter(r -> r.getLong(0) == from).findFirst().orElseThrow();
    deleteOne(persistenceId, from);
    insert(persistenceId, to, row.getString(1), row.getByteBuffer(2), row.getUuid(3), row.getString(4),
        row.getString(5), row.getInt(6), row.getString(7));
  }

  @Override
  public void store(String persistenceId, long sequenceNr, String storedManifest, byte[] stored) {
    Row existing = rows(persistenceId).stream().filter(r -> r.getLong(0) == sequenceNr).findFirst().orElse(null);
    if (existing != null) {
      deleteOne(persistenceId, sequenceNr);
    }
    Row any = rows(persistenceId).stream().findFirst().orElse(existing);
    UUID timestamp = existing != null ? existing.getUuid(3) : Uuids.timeBased();
    insert(persistenceId, sequenceNr, storedManifest, ByteBuffer.wrap(stored), timestamp,
        any == null ? "0" : any.getString(4), any == null ? "tampering" : any.getString(5),
        any == null ? net.certmail.persistence.serialization.CertmailEventSerializer.IDENTIFIER : any.getInt(6), "");
  }

  private void insert(String persistenceId, long sequenceNr, String manifest, ByteBuffer event, UUID timestamp,
                      String timebucket, String writer, int serializer, String eventManifest) {
    execute("INSERT INTO " + keyspace + ".messages (persistence_id, partition_nr, sequence_nr, timestamp, timebucket,"
            + " writer_uuid, ser_id, ser_manifest, event_manifest, event) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
        persistenceId, sequenceNr, timestamp, timebucket, writer, serializer, manifest, eventManifest, event);
  }

  private com.datastax.oss.driver.api.core.cql.ResultSet execute(String cql, Object... values) {
    return session.execute(SimpleStatement.newInstance(cql, values).setTimeout(TIMEOUT));
  }
}
