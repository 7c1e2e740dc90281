package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.metadata.Metadata;
import com.datastax.oss.driver.api.core.metadata.schema.KeyspaceMetadata;
import com.datastax.oss.driver.api.core.metadata.schema.TableMetadata;
import com.typesafe.config.Config;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.certmail.persistence.testing.JournalScenario;
import net.certmail.persistence.testing.TestJournals;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The production CQL script (cql/certmail-schema.cql) is all the journal needs: applied to fresh
 * keyspaces, a journal with schema auto-create OFF persists, recovers and answers queries on it;
 * and its tables are the very tables pekko-persistence-cassandra creates itself, column by column
 * and option by option (so a plugin upgrade that changes them fails here, not in production).
 *
 * Tagged "cassandra": needs ./scripts/cassandra.sh start (scripts/test.sh does it), and FAILS
 * without it.
 */
@Tag("cassandra")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
class CassandraSchemaScriptTest {

  {
    TestJournals.requireRunningCassandra();
  }

  private final String keyspace = TestJournals.uniqueKeyspace("cm_script");
  private final String snapshotKeyspace = keyspace + "_snapshot";
  private final Config config = TestJournals.cassandra(keyspace, snapshotKeyspace, false);

  /** Runs on the scripted keyspaces with auto-create off; nothing it uses may be missing. */
  @JUnit5TestKit
  private final ActorTestKit testKit = new JUnit5TestKitBuilder()
      .withName("cassandra-schema-script-test")
      .withCustomConfig(config)
      .build();

  /** Keyspaces the plugin creates itself, to compare with. */
  private final String autoKeyspace = TestJournals.uniqueKeyspace("cm_auto");
  private final String autoSnapshotKeyspace = autoKeyspace + "_snapshot";

  @BeforeAll
  void applyTheScriptToFreshKeyspaces() {
    try (CqlSession session = TestJournals.cassandraSession()) {
      // the local single node has one replica per keyspace
      CassandraJournalSchema.apply(session, keyspace, snapshotKeyspace, Map.of(TestJournals.CASSANDRA_DATACENTER, 1));
    }
  }

  @AfterAll
  void dropKeyspaces() {
    testKit.shutdownTestKit();
    TestJournals.dropKeyspaces(keyspace, snapshotKeyspace, autoKeyspace, autoSnapshotKeyspace);
  }

  @Test
  void aJournalWithAutocreateOffRunsOnTheScriptedSchema() {
    assertFalse(config.getBoolean("pekko.persistence.cassandra.journal.tables-autocreate"));
    List<String> lines = List.of("submitted", "cop-issued", "relayed", "relay-acknowledged", "notified", "cod-received");

    ActorTestKit writer = ActorTestKit.create("scripted-schema-writer", config);
    try {
      assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), JournalScenario.append(writer, "beta.example|mail-1", lines));
    } finally {
      writer.shutdownTestKit();
    }

    assertEquals(lines, JournalScenario.recover(testKit, "beta.example|mail-1"));
    String readJournal = JournalBackend.CASSANDRA.readJournalPluginId();
    try (CqlSession session = TestJournals.cassandraSession()) {
      assertEquals(List.of("beta.example|mail-1"), CassandraJournalStreams.persistenceIds(session, keyspace));
    }
    assertEquals(lines, JournalScenario.currentEvents(testKit.system(), readJournal, "beta.example|mail-1")
        .stream().map(JournalScenario::text).toList());
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L),
        JournalScenario.currentEvents(testKit.system(), readJournal, "beta.example|mail-1")
            .stream().map(EventEnvelope::sequenceNr).toList());
  }

  @Test
  void theScriptedTablesAreExactlyThoseThePluginCreates() {
    // let the plugin create its own keyspaces: recovering an entity starts journal and snapshot store
    ActorTestKit autocreating = ActorTestKit.create("autocreating-plugin",
        TestJournals.cassandra(autoKeyspace, autoSnapshotKeyspace, true));
    try {
      JournalScenario.append(autocreating, "beta.example|mail-2", List.of("submitted"));
    } finally {
      autocreating.shutdownTestKit();
    }

    try (CqlSession session = TestJournals.cassandraSession()) {
      Metadata metadata = session.refreshSchema();
      Map<String, String> scripted = tables(metadata, keyspace);
      scripted.putAll(tables(metadata, snapshotKeyspace));
      Map<String, String> created = tables(metadata, autoKeyspace);
      created.putAll(tables(metadata, autoSnapshotKeyspace));
      // certmail's own tables, beside the plugin's: created by apply, not by the plugin
      List<String> own = new java.util.ArrayList<>(net.certmail.persistence.reminders.CassandraReminderStore.TABLES);
      own.add(net.certmail.persistence.inbox.CassandraInboxIndex.TABLE);
      for (String table : own) {
        assertTrue(scripted.remove(table) != null, "apply created no table " + table);
      }

      assertEquals(List.of("messages", "metadata", "snapshots"), List.copyOf(scripted.keySet()));
      assertEquals(created.keySet(), scripted.keySet(), "the plugin created other tables than the script");
      for (String table : created.keySet()) {
        assertEquals(created.get(table)
                .replace(autoSnapshotKeyspace + ".", "KEYSPACE.").replace(autoKeyspace + ".", "KEYSPACE."),
            scripted.get(table)
                .replace(snapshotKeyspace + ".", "KEYSPACE.").replace(keyspace + ".", "KEYSPACE."),
            "table " + table + " differs between the plugin's DDL (expected) and the script (actual)");
      }
    }
  }

  /** CQL of every table in the keyspace (CREATE TABLE with all columns and options), by name. */
  private static Map<String, String> tables(Metadata metadata, String keyspace) {
    KeyspaceMetadata keyspaceMetadata = metadata.getKeyspace(keyspace)
        .orElseThrow(() -> new AssertionError("keyspace " + keyspace + " does not exist"));
    Map<String, String> tables = new TreeMap<>();
    for (TableMetadata table : keyspaceMetadata.getTables().values()) {
      tables.put(table.getName().asInternal(), table.describe(true));
    }
    assertFalse(tables.isEmpty(), "keyspace " + keyspace + " has no tables");
    return tables;
  }
}
