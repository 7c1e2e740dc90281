package net.certmail.persistence.reminders;

import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.persistence.cassandra.CassandraStatements;
import org.apache.pekko.persistence.cassandra.PluginSettings;
import org.apache.pekko.stream.connectors.cassandra.scaladsl.CassandraSessionRegistry;
import scala.jdk.javaapi.FutureConverters;

/**
 * The reminder store and the inbox index that go with a node's journal (settings: {@code certmail.reminders} in
 * the persistence module's reference.conf): the embedded journal's H2 database, or the
 * Cassandra journal's keyspace through the journal's own session. A system on another journal
 * (the in-memory one of tests) names a JDBC database in {@code certmail.reminders.jdbc-url}.
 */
public final class ReminderStores {
  private static final String JDBC_DB = "pekko-persistence-jdbc.shared-databases.slick.db";
  private static final String CASSANDRA_PLUGIN = "pekko.persistence.cassandra";

  private ReminderStores() {}

  /**
   * Opens the inbox index in the same database as the reminders (embedded H2 or the Cassandra
   * journal's keyspace), blocking until it is usable; closed when the system terminates.
   */
  public static net.certmail.persistence.inbox.InboxIndex openInboxIndex(ActorSystem<?> system) {
    Config config = system.settings().config();
    String plugin = config.getString("pekko.persistence.journal.plugin");
    if (plugin.startsWith(CASSANDRA_PLUGIN)) {
      String keyspace = config.getString(CASSANDRA_PLUGIN + ".journal.keyspace");
      CqlSession session = cassandraSession(system, keyspace);
      if (config.getBoolean(CASSANDRA_PLUGIN + ".journal.tables-autocreate")) {
        net.certmail.persistence.inbox.CassandraInboxIndex.createTable(session, keyspace);
      }
      return net.certmail.persistence.inbox.CassandraInboxIndex.open(session, keyspace);
    }
    net.certmail.persistence.inbox.JdbcInboxIndex index;
    if (plugin.equals("jdbc-journal")) {
      Config db = config.getConfig(JDBC_DB);
      index = net.certmail.persistence.inbox.JdbcInboxIndex.open(db.getString("url"), db.getString("user"),
          db.getString("password"), minCommitIntervalMillis(config));
    } else if (!config.getString("certmail.reminders.jdbc-url").isEmpty()) {
      index = net.certmail.persistence.inbox.JdbcInboxIndex.open(config.getString("certmail.reminders.jdbc-url"), "sa", "");
    } else {
      throw new IllegalStateException("No inbox index for the journal plugin \"" + plugin + "\": use the embedded"
          + " or the Cassandra journal (JournalBackend), or set certmail.reminders.jdbc-url to a JDBC database.");
    }
    system.getWhenTerminated().whenComplete((done, failure) -> index.close());
    return index;
  }

  /**
   * The journal plugin's own session (one per system, keyed by the plugin's config path). Whoever
   * asks the registry first sets the session's initialisation, so it is asked here with the
   * plugin's: with schema-autocreate, the journal's and snapshot store's keyspaces and tables are
   * created however the node's start-up orders the journal and this store (asked without it, the
   * registry would hand the journal a session that never created them).
   */
  private static CqlSession cassandraSession(ActorSystem<?> system, String keyspace) {
    org.apache.pekko.actor.ActorSystem classic = Adapter.toClassic(system);
    LoggingAdapter log = Logging.getLogger(classic, ReminderStores.class);
    CassandraStatements statements = new CassandraStatements(PluginSettings.apply(classic));
    scala.Function1<CqlSession, scala.concurrent.Future<Done>> init =
        session -> statements.executeAllCreateKeyspaceAndTables(session, log, classic.dispatcher());
    try {
      CassandraSessionRegistry registry = (CassandraSessionRegistry) CassandraSessionRegistry.get(classic);
      return FutureConverters.asJava(registry.sessionFor(CASSANDRA_PLUGIN, init).underlying())
          .toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while connecting to Cassandra", e);
    } catch (Exception e) {
      throw new IllegalStateException("Could not connect to Cassandra for keyspace " + keyspace + ": " + e.getMessage()
          + ". Check that Cassandra is reachable (certmail.journal.cassandra.contact-points).", e);
    }
  }

  /** Opens the store, blocking until it is usable; closed when the system terminates. */
  public static ReminderStore open(ActorSystem<?> system) {
    Config config = system.settings().config();
    long bucket = config.getDuration("certmail.reminders.bucket").toMillis();
    String plugin = config.getString("pekko.persistence.journal.plugin");
    ReminderStore store;
    if (plugin.equals("jdbc-journal")) {
      Config db = config.getConfig(JDBC_DB);
      store = JdbcReminderStore.open(db.getString("url"), db.getString("user"), db.getString("password"), bucket,
          minCommitIntervalMillis(config));
    } else if (plugin.startsWith(CASSANDRA_PLUGIN)) {
      store = cassandra(system, config, bucket);
    } else if (!config.getString("certmail.reminders.jdbc-url").isEmpty()) {
      store = JdbcReminderStore.open(config.getString("certmail.reminders.jdbc-url"), "sa", "", bucket);
    } else {
      throw new IllegalStateException("No reminder store for the journal plugin \"" + plugin + "\": use the embedded"
          + " or the Cassandra journal (JournalBackend), or set certmail.reminders.jdbc-url to a JDBC database.");
    }
    system.getWhenTerminated().whenComplete((done, failure) -> store.close());
    return store;
  }

  /** The embedded journal's setting (certmail-journal-embedded.conf); 0 on another JDBC journal. */
  private static long minCommitIntervalMillis(Config config) {
    String path = "certmail.journal.embedded.min-commit-interval";
    return config.hasPath(path) ? config.getDuration(path).toMillis() : 0;
  }

  private static ReminderStore cassandra(ActorSystem<?> system, Config config, long bucket) {
    String keyspace = config.getString(CASSANDRA_PLUGIN + ".journal.keyspace");
    try {
      CqlSession session = cassandraSession(system, keyspace);
      if (config.getBoolean(CASSANDRA_PLUGIN + ".journal.tables-autocreate")) {
        if (config.getBoolean(CASSANDRA_PLUGIN + ".journal.keyspace-autocreate")) {
          session.execute("CREATE KEYSPACE IF NOT EXISTS " + keyspace
              + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        }
        CassandraReminderStore.createTables(session, keyspace);
      }
      return CassandraReminderStore.open(session, keyspace, bucket);
    } catch (RuntimeException e) {
      throw new IllegalStateException("Could not open the reminder tables in Cassandra keyspace " + keyspace + ": "
          + e.getMessage() + ". Check that Cassandra is reachable (certmail.journal.cassandra.contact-points) and"
          + " that the schema script (cql/certmail-schema.cql) was run.", e);
    }
  }
}
