package net.certmail.persistence.reminders;

import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import java.util.concurrent.TimeUnit;
import net.certmail.persistence.CassandraJournalStreams;
import net.certmail.persistence.EmbeddedJournalDatabase;
import net.certmail.persistence.GroupCommitDatabase;
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
  private static final String CASSANDRA_PLUGIN = CassandraJournalStreams.PLUGIN;

  private ReminderStores() {}

  /** A node's reminder store and inbox index, opened together by {@link #open}. */
  public record NodeStores(ReminderStore reminders, net.certmail.persistence.inbox.InboxIndex inboxIndex) {}

  /**
   * Opens the reminder store and the inbox index in the journal's database (embedded H2: the
   * journal's one pool and writer, EmbeddedJournalDatabase, so that the events and rows of a
   * commit interval make one H2 commit; Cassandra: the
   * journal's keyspace and session), blocking until they are usable; closed when the system
   * terminates.
   */
  public static NodeStores open(ActorSystem<?> system) {
    Config config = system.settings().config();
    long bucket = config.getDuration("certmail.reminders.bucket").toMillis();
    String plugin = config.getString("pekko.persistence.journal.plugin");
    NodeStores stores;
    GroupCommitDatabase database = null; // jdbc-url's database, shared by both and closed here
    if (plugin.equals("jdbc-journal")) {
      // The journal's own writer: events and rows of a commit interval in one commit (closed with the system).
      GroupCommitDatabase journal = EmbeddedJournalDatabase.get(system).database();
      stores = new NodeStores(JdbcReminderStore.on(journal, bucket),
          net.certmail.persistence.inbox.JdbcInboxIndex.on(journal));
    } else if (plugin.startsWith(CASSANDRA_PLUGIN)) {
      String keyspace = config.getString(CASSANDRA_PLUGIN + ".journal.keyspace");
      CqlSession session = cassandraSession(system, keyspace);
      if (config.getBoolean(CASSANDRA_PLUGIN + ".journal.tables-autocreate")) {
        net.certmail.persistence.inbox.CassandraInboxIndex.createTable(session, keyspace);
      }
      stores = new NodeStores(cassandra(system, config, bucket),
          net.certmail.persistence.inbox.CassandraInboxIndex.open(session, keyspace));
    } else if (!config.getString("certmail.reminders.jdbc-url").isEmpty()) {
      database = GroupCommitDatabase.open(config.getString("certmail.reminders.jdbc-url"), "sa", "",
          "certmail-side-tables", 0);
      stores = new NodeStores(JdbcReminderStore.on(database, bucket),
          net.certmail.persistence.inbox.JdbcInboxIndex.on(database));
    } else {
      throw new IllegalStateException("No reminder store or inbox index for the journal plugin \"" + plugin
          + "\": use the embedded or the Cassandra journal (JournalBackend), or set certmail.reminders.jdbc-url to a"
          + " JDBC database.");
    }
    GroupCommitDatabase shared = database;
    system.getWhenTerminated().whenComplete((done, failure) -> {
      stores.reminders().close();
      if (stores.inboxIndex() instanceof net.certmail.persistence.inbox.JdbcInboxIndex jdbc) {
        jdbc.close(); // Cassandra's goes with the journal's session
      }
      if (shared != null) {
        shared.close(); // after the stores: what they queued is committed
      }
    });
    return stores;
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
      return CassandraReminderStore.open(session, keyspace, bucket,
          config.getDuration("certmail.reminders.cassandra-batch-window"));
    } catch (RuntimeException e) {
      throw new IllegalStateException("Could not open the reminder tables in Cassandra keyspace " + keyspace + ": "
          + e.getMessage() + ". Check that Cassandra is reachable (certmail.journal.cassandra.contact-points) and"
          + " that the schema script (cql/certmail-schema.cql) was run.", e);
    }
  }
}
