package net.certmail.persistence;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The production Cassandra schema of certmail ({@value #SCRIPT}): keyspaces and tables of the
 * journal and the snapshot store, created before the first node starts, and the reminder tables
 * ({@code CassandraReminderStore.SCHEMA}) in the journal's keyspace.
 *
 * The script names the keyspaces "certmail" and "certmail_snapshot" and replicates to
 * 'datacenter1' with factor 3; {@link #statements} renames both and sets the replication, so the
 * same script serves production, the local single node and tests (a fresh keyspace each).
 */
public final class CassandraJournalSchema {

  /** Classpath resource with the CQL (also usable as is with cqlsh -f after editing replication). */
  public static final String SCRIPT = "cql/certmail-schema.cql";

  /** Keyspace names in the script. */
  public static final String SCRIPT_KEYSPACE = "certmail";
  public static final String SCRIPT_SNAPSHOT_KEYSPACE = "certmail_snapshot";

  private static final Pattern KEYSPACE_IN_SCRIPT =
      Pattern.compile("\\b(" + SCRIPT_SNAPSHOT_KEYSPACE + "|" + SCRIPT_KEYSPACE + ")\\b");
  private static final Pattern KEYSPACE_NAME = Pattern.compile("[a-zA-Z][a-zA-Z0-9_]{0,47}");
  private static final Pattern DATACENTER_NAME = Pattern.compile("[a-zA-Z0-9_.-]+");
  private static final Pattern REPLICATION =
      Pattern.compile("\\{\\s*'class'\\s*:\\s*'NetworkTopologyStrategy'[^}]*}");

  /** Schema changes wait for every node to agree; on a busy machine that takes seconds. */
  private static final Duration DDL_TIMEOUT = Duration.ofSeconds(60);

  private CassandraJournalSchema() {}

  /**
   * Creates the keyspaces and tables that do not exist yet (every statement is IF NOT EXISTS), in
   * the order of the script. Existing keyspaces keep their replication.
   *
   * @param replicationPerDatacenter replicas per datacenter, e.g. {@code Map.of("dc1", 3)};
   *     {@code Map.of("datacenter1", 1)} for the local single node
   */
  public static void apply(CqlSession session, String journalKeyspace, String snapshotKeyspace,
      Map<String, Integer> replicationPerDatacenter) {
    List<String> statements = statements(journalKeyspace, snapshotKeyspace, replicationPerDatacenter);
    // The driver re-reads the whole schema after every DDL statement when schema metadata is on
    // (~1 s each here); off while creating, and back to the configured setting afterwards (null).
    session.setSchemaMetadataEnabled(false);
    try {
      for (String cql : statements) {
        session.execute(SimpleStatement.newInstance(cql).setTimeout(DDL_TIMEOUT));
      }
      // The durable reminders and the inbox index live beside the events they are written with.
      net.certmail.persistence.reminders.CassandraReminderStore.createTables(session, journalKeyspace);
      net.certmail.persistence.inbox.CassandraInboxIndex.createTable(session, journalKeyspace);
    } finally {
      session.setSchemaMetadataEnabled(null);
    }
    if (!session.checkSchemaAgreement()) {
      throw new IllegalStateException("The Cassandra nodes do not agree on the schema after creating "
          + journalKeyspace + " and " + snapshotKeyspace + ": check that all nodes are up"
          + " (nodetool describecluster) and run the script again.");
    }
  }

  /** The statements of the script, with the keyspaces renamed and the replication set. */
  public static List<String> statements(String journalKeyspace, String snapshotKeyspace,
      Map<String, Integer> replicationPerDatacenter) {
    requireKeyspaceName(journalKeyspace);
    requireKeyspaceName(snapshotKeyspace);
    if (journalKeyspace.equalsIgnoreCase(snapshotKeyspace)) {
      throw new IllegalArgumentException("Journal and snapshot keyspaces must differ: " + journalKeyspace);
    }
    String replication = replicationMap(replicationPerDatacenter);
    return EmbeddedJournalSchema.splitStatements(script()).stream()
        .map(cql -> renameKeyspaces(cql, journalKeyspace, snapshotKeyspace))
        .map(cql -> REPLICATION.matcher(cql).replaceAll(Matcher.quoteReplacement(replication)))
        .toList();
  }

  /** The script as stored. */
  public static String script() {
    try (InputStream in = CassandraJournalSchema.class.getClassLoader().getResourceAsStream(SCRIPT)) {
      if (in == null) {
        throw new IllegalStateException(SCRIPT + " is missing from the classpath (a broken build?)");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not read " + SCRIPT, e);
    }
  }

  // One pass over both names, so that a new name that happens to equal an old one is not renamed
  // twice. "\\b" does not split certmail_snapshot ("_" is a word character).
  private static String renameKeyspaces(String cql, String journalKeyspace, String snapshotKeyspace) {
    return KEYSPACE_IN_SCRIPT.matcher(cql).replaceAll(match ->
        match.group().equals(SCRIPT_SNAPSHOT_KEYSPACE) ? snapshotKeyspace : journalKeyspace);
  }

  private static String replicationMap(Map<String, Integer> replicationPerDatacenter) {
    if (replicationPerDatacenter.isEmpty()) {
      throw new IllegalArgumentException("Name at least one datacenter and its replication factor,"
          + " e.g. Map.of(\"dc1\", 3) (nodetool status shows the datacenter names)");
    }
    replicationPerDatacenter.forEach((dc, factor) -> {
      if (!DATACENTER_NAME.matcher(dc).matches() || factor == null || factor < 1) {
        throw new IllegalArgumentException("Bad replication " + dc + " -> " + factor
            + ": a datacenter name and a replication factor of at least 1 (3 in production)");
      }
    });
    return replicationPerDatacenter.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .map(e -> "'" + e.getKey() + "': " + e.getValue())
        .collect(Collectors.joining(", ", "{'class': 'NetworkTopologyStrategy', ", "}"));
  }

  private static void requireKeyspaceName(String keyspace) {
    if (!KEYSPACE_NAME.matcher(keyspace).matches()) {
      throw new IllegalArgumentException("\"" + keyspace + "\" is not a usable keyspace name:"
          + " a letter, then up to 47 letters, digits or underscores");
    }
  }
}
