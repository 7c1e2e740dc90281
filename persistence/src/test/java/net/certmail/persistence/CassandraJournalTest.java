package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.typesafe.config.Config;
import java.util.List;
import java.util.Set;
import net.certmail.persistence.testing.JournalScenario;
import net.certmail.persistence.testing.TestJournals;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Cassandra journal (pekko-persistence-cassandra on the local Cassandra 5.0) keeps events
 * across ActorSystems and answers the queries audits use. Runs in keyspaces of its own, created by
 * the plugin (schema-autocreate on) and dropped afterwards.
 *
 * Tagged "cassandra": needs ./scripts/cassandra.sh start (scripts/test.sh does it), and FAILS
 * without it.
 */
@Tag("cassandra")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
class CassandraJournalTest {

  {
    // before any ActorSystem exists: fail the whole class with the message that says what to do
    TestJournals.requireRunningCassandra();
  }

  private final String keyspace = TestJournals.uniqueKeyspace("cm_journal");
  private final String snapshotKeyspace = keyspace + "_snapshot";
  private final Config config = TestJournals.cassandra(keyspace, snapshotKeyspace, true);

  /** The ActorSystem that recovers and queries; the writes happen in short-lived others. */
  @JUnit5TestKit
  private final ActorTestKit testKit = new JUnit5TestKitBuilder()
      .withName("cassandra-journal-test")
      .withCustomConfig(config)
      .build();

  @AfterAll
  void dropKeyspaces() {
    testKit.shutdownTestKit();
    TestJournals.dropKeyspaces(keyspace, snapshotKeyspace);
  }

  @Test
  void eventsWrittenByOneActorSystemAreRecoveredAndQueriedByAFreshOne() {
    List<String> lines = List.of("submitted", "cop-issued", "relayed", "relay-acknowledged",
        "notified", "cod-received", "rod-issued");
    ActorTestKit writer = ActorTestKit.create("cassandra-writer", config);
    List<Long> acknowledged;
    try {
      acknowledged = JournalScenario.append(writer, "alpha.example|mail-1", lines);
      JournalScenario.append(writer, "alpha.example|mail-2", List.of("submitted"));
    } finally {
      writer.shutdownTestKit();
    }
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), acknowledged);

    // a fresh ActorSystem: the entity's state can only come from Cassandra
    assertEquals(lines, JournalScenario.recover(testKit, "alpha.example|mail-1"));

    String readJournal = JournalBackend.CASSANDRA.readJournalPluginId();
    List<String> persistenceIds = JournalScenario.currentPersistenceIds(testKit.system(), readJournal);
    assertTrue(persistenceIds.containsAll(Set.of("alpha.example|mail-1", "alpha.example|mail-2")),
        "both entities expected among " + persistenceIds);
    List<EventEnvelope> events = JournalScenario.currentEvents(testKit.system(), readJournal, "alpha.example|mail-1");
    assertEquals(lines, events.stream().map(JournalScenario::text).toList());
    assertEquals(acknowledged, events.stream().map(EventEnvelope::sequenceNr).toList());
  }

  @Test
  void eventsAndSnapshotsAreStoredWithTheBoundSerializerNotJavaSerialization() throws InterruptedException {
    ActorTestKit writer = ActorTestKit.create("cassandra-serializer-writer", config);
    try (CqlSession session = TestJournals.cassandraSession()) {
      JournalScenario.append(writer, "alpha.example|mail-3", List.of("one", "two", "three", "four", "five"));

      List<String> events = session.execute("SELECT ser_id, ser_manifest FROM " + keyspace
              + ".messages WHERE persistence_id = 'alpha.example|mail-3' AND partition_nr = 0")
          .all().stream().map(CassandraJournalTest::serializer).toList();
      assertEquals(List.of("7415001/text-log.appended.v1", "7415001/text-log.appended.v1",
          "7415001/text-log.appended.v1", "7415001/text-log.appended.v1", "7415001/text-log.appended.v1"), events);

      // the snapshot after the 5th event is saved after that event's reply: wait for it
      String selectSnapshots = "SELECT ser_id, ser_manifest FROM " + snapshotKeyspace
          + ".snapshots WHERE persistence_id = 'alpha.example|mail-3'";
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
