package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.certmail.persistence.testing.JournalScenario;
import net.certmail.persistence.testing.TestJournals;
import net.certmail.persistence.testing.TextLog;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The journal contract on Cassandra (pekko-persistence-cassandra on the local Cassandra 5.0), in
 * keyspaces of its own, created by the plugin (schema-autocreate on) and dropped afterwards; and
 * its snapshots.
 *
 * Tagged "cassandra": needs ./scripts/cassandra.sh start (scripts/test.sh does it), and FAILS
 * without it.
 */
@Tag("cassandra")
@ExtendWith(LogCapturingExtension.class)
class CassandraJournalTest extends JournalContract {

  {
    // before any ActorSystem exists: fail the whole class with the message that says what to do
    TestJournals.requireRunningCassandra();
  }

  private final String keyspace = TestJournals.uniqueKeyspace("cm_journal");
  private final String snapshotKeyspace = keyspace + "_snapshot";
  private final Config config = TestJournals.cassandra(keyspace, snapshotKeyspace, true);

  @Override
  JournalBackend backend() {
    return JournalBackend.CASSANDRA;
  }

  @Override
  Config config() {
    return config;
  }

  @Override
  List<String> storedSerializers(String persistenceId) {
    try (CqlSession session = TestJournals.cassandraSession()) {
      return session.execute(session.prepare("SELECT ser_id, ser_manifest FROM " + keyspace
              + ".messages WHERE persistence_id = ? AND partition_nr = 0").bind(persistenceId))
          .all().stream().map(CassandraJournalTest::serializer).toList();
    }
  }

  @Override
  void cleanUp() {
    TestJournals.dropKeyspaces(keyspace, snapshotKeyspace);
  }

  @Override
  List<String> persistenceIds() {
    try (CqlSession session = TestJournals.cassandraSession()) {
      return CassandraJournalStreams.persistenceIds(session, keyspace);
    }
  }

  @Test
  void noPersistenceIdIndexIsWrittenYetEveryStreamIsListedOnceFromItsPartitions() {
    // partitions of 2 events: the 5 events of mail-6 lie in three partitions
    ActorTestKit writer = ActorTestKit.create("cassandra-streams-writer", withPartitions(2, 2));
    try {
      JournalScenario.append(writer, "alpha.example|mail-5", List.of("one"));
      JournalScenario.append(writer, "alpha.example|mail-6", List.of("one", "two", "three", "four", "five"));
    } finally {
      writer.shutdownTestKit();
    }
    try (CqlSession session = TestJournals.cassandraSession()) {
      assertEquals(List.of("messages", "metadata"), session.execute("SELECT table_name FROM system_schema.tables"
              + " WHERE keyspace_name = ?", keyspace).all().stream().map(row -> row.getString(0)).sorted().toList(),
          "support-all-persistence-ids is off: no index table, no index row before an entity's first event");
      assertEquals(3, session.execute("SELECT DISTINCT persistence_id, partition_nr FROM " + keyspace
          + ".messages WHERE persistence_id = 'alpha.example|mail-6' AND partition_nr IN (0, 1, 2)").all().size());
    }
    List<String> listed = persistenceIds();
    assertTrue(listed.containsAll(Set.of("alpha.example|mail-5", "alpha.example|mail-6")), listed.toString());
    assertEquals(Set.copyOf(listed).size(), listed.size(), "each stream once, however many partitions it has");
  }

  @Test
  void recoveryFindsTheLastEventAcrossPartitionBoundariesWithWritesOfSeveralEvents() {
    // partitions of 4, writes of up to 3 events: writes that cross a boundary are stored wholly in
    // the later partition, and the search must still find the end after each one (a snapshot
    // every 5 events also makes it start from the middle of the stream)
    List<List<String>> writes = List.of(List.of("a"), List.of("b", "c", "d"), List.of("e", "f"),
        List.of("g", "h", "i"), List.of("j"), List.of("k"), List.of("l", "m", "n"), List.of("o", "p"),
        List.of("q", "r", "s"), List.of("t", "u", "v"));
    ActorTestKit writer = ActorTestKit.create("cassandra-partitions-writer", withPartitions(4, 3));
    List<String> written = new ArrayList<>();
    try {
      for (List<String> write : writes) {
        // each write by a fresh incarnation, which recovers first: its sequence number is the check
        List<Long> acknowledged = JournalScenario.appendWrites(writer, "alpha.example|mail-7", List.of(write));
        written.addAll(write);
        assertEquals(List.of((long) written.size()), acknowledged, "after " + written);
        assertEquals(written, JournalScenario.recover(writer, "alpha.example|mail-7"));
      }
      // longer than a write may be: rejected, nothing stored, and the stream goes on where it was
      ActorRef<TextLog.Command> log = writer.spawn(TextLog.create("alpha.example|mail-7"));
      TestProbe<Long> acks = writer.createTestProbe(Long.class);
      log.tell(new TextLog.AppendAll(List.of("w", "x", "y", "z"), acks.ref()));
      acks.expectTerminated(log, JournalScenario.TIMEOUT);
      assertEquals(written, JournalScenario.recover(writer, "alpha.example|mail-7"));
      assertEquals(List.of(written.size() + 1L), JournalScenario.append(writer, "alpha.example|mail-7", List.of("w")));
      written.add("w");
    } finally {
      writer.shutdownTestKit();
    }
    try (CqlSession session = TestJournals.cassandraSession()) {
      List<Long> partitionsUsed = session.execute("SELECT DISTINCT persistence_id, partition_nr FROM " + keyspace
              + ".messages").all().stream().filter(row -> row.getString(0).equals("alpha.example|mail-7"))
          .map(row -> row.getLong(1)).sorted().toList();
      assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), partitionsUsed, "23 events in partitions of 4");
    }
    ActorTestKit fresh = ActorTestKit.create("cassandra-partitions-reader", withPartitions(4, 3));
    try {
      assertEquals(written, JournalScenario.recover(fresh, "alpha.example|mail-7"));
    } finally {
      fresh.shutdownTestKit();
    }
  }

  /** The test keyspaces with small partitions, so that streams cross them. */
  private Config withPartitions(int partitionSize, int maxEventsPerWrite) {
    return config
        .withValue("pekko.persistence.cassandra.journal.target-partition-size", ConfigValueFactory.fromAnyRef(partitionSize))
        .withValue("pekko.persistence.cassandra.journal.max-message-batch-size", ConfigValueFactory.fromAnyRef(maxEventsPerWrite));
  }

  @Test
  void snapshotsAreStoredWithTheBoundSerializer() throws InterruptedException {
    ActorTestKit writer = writer("cassandra-snapshot-writer");
    try (CqlSession session = TestJournals.cassandraSession()) {
      JournalScenario.append(writer, "alpha.example|mail-4", List.of("one", "two", "three", "four", "five"));
      // the snapshot after the 5th event is saved after that event's reply: wait for it
      String selectSnapshots = "SELECT ser_id, ser_manifest FROM " + snapshotKeyspace
          + ".snapshots WHERE persistence_id = 'alpha.example|mail-4'";
      List<String> snapshots = List.of();
      for (long deadline = System.nanoTime() + 20_000_000_000L; snapshots.isEmpty() && System.nanoTime() < deadline; ) {
        Thread.sleep(100);
        snapshots = session.execute(selectSnapshots).all().stream().map(CassandraJournalTest::serializer).toList();
      }
      assertEquals(List.of("7415001/text-log.texts.v1"), snapshots, "one snapshot after 5 events");
    } finally {
      writer.shutdownTestKit();
    }
  }

  private static String serializer(Row row) {
    return row.getInt("ser_id") + "/" + row.getString("ser_manifest");
  }
}
