package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the production CQL script is adapted to other keyspaces and replication (no Cassandra needed). */
class CassandraJournalSchemaTest {

  @Test
  void theScriptCreatesTwoKeyspacesAndTheThreeTablesThePluginUses() {
    List<String> statements = CassandraJournalSchema.statements("certmail", "certmail_snapshot", Map.of("datacenter1", 3));

    assertEquals(List.of(
            "CREATE KEYSPACE IF NOT EXISTS certmail",
            "CREATE TABLE IF NOT EXISTS certmail.messages",
            "CREATE TABLE IF NOT EXISTS certmail.metadata",
            "CREATE KEYSPACE IF NOT EXISTS certmail_snapshot",
            "CREATE TABLE IF NOT EXISTS certmail_snapshot.snapshots"),
        statements.stream().map(s -> s.lines().findFirst().orElseThrow().replace(" (", "")).toList());
    assertTrue(statements.stream().noneMatch(s -> s.contains("--") || s.endsWith(";")), "comments and ; are stripped");
  }

  @Test
  void keyspacesAreRenamedAndReplicationIsSetPerDatacenter() {
    List<String> statements = CassandraJournalSchema.statements("cm_test", "cm_test_snapshot",
        Map.of("dc2", 3, "dc1", 5));

    assertEquals("CREATE KEYSPACE IF NOT EXISTS cm_test\n"
        + "WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 5, 'dc2': 3}", statements.get(0));
    assertTrue(statements.get(1).startsWith("CREATE TABLE IF NOT EXISTS cm_test.messages ("), statements.get(1));
    assertEquals("CREATE KEYSPACE IF NOT EXISTS cm_test_snapshot\n"
        + "WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 5, 'dc2': 3}", statements.get(3));
    assertTrue(statements.get(4).startsWith("CREATE TABLE IF NOT EXISTS cm_test_snapshot.snapshots ("), statements.get(4));
    assertTrue(statements.stream().noneMatch(s -> s.contains("certmail")), "no statement may name the script's keyspaces");
  }

  @Test
  void swappedNamesAreRenamedOnlyOnce() {
    List<String> statements = CassandraJournalSchema.statements("certmail_snapshot", "certmail", Map.of("dc1", 1));

    assertTrue(statements.get(1).startsWith("CREATE TABLE IF NOT EXISTS certmail_snapshot.messages"), statements.get(1));
    assertTrue(statements.get(4).startsWith("CREATE TABLE IF NOT EXISTS certmail.snapshots"), statements.get(4));
  }

  @Test
  void badNamesAndReplicationAreRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> CassandraJournalSchema.statements("cm; DROP KEYSPACE x", "cm_snapshot", Map.of("dc1", 3)));
    assertThrows(IllegalArgumentException.class,
        () -> CassandraJournalSchema.statements("cm", "cm", Map.of("dc1", 3)));
    assertThrows(IllegalArgumentException.class,
        () -> CassandraJournalSchema.statements("cm", "cm_snapshot", Map.of()));
    assertThrows(IllegalArgumentException.class,
        () -> CassandraJournalSchema.statements("cm", "cm_snapshot", Map.of("dc1", 0)));
  }
}
