package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.util.List;
import java.util.Set;
import net.certmail.persistence.testing.JournalScenario;
import net.certmail.persistence.testing.TestJournals;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
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
    ActorTestKit writer = ActorTestKit.create("cassandra-streams-writer", config.withValue(
        "pekko.persistence.cassandra.journal.target-partition-size", ConfigValueFactory.fromAnyRef(2)));
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
