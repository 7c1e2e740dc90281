package net.certmail.persistence.reminders;

import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import net.certmail.persistence.testing.TestJournals;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;

/**
 * The contract on the shared real Cassandra, in a keyspace of its own (needs ./certmail cassandra
 * start), with the batch window a node uses.
 */
@Tag("cassandra")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CassandraReminderStoreTest extends ReminderStoreContract {
  private static final Duration BATCH_WINDOW =
      ConfigFactory.load().getDuration("certmail.reminders.cassandra-batch-window");
  private final String keyspace = TestJournals.uniqueKeyspace("cm_reminders");
  private CqlSession session;
  private ReminderStore store;

  @BeforeAll
  void open() {
    TestJournals.requireRunningCassandra();
    session = TestJournals.cassandraSession();
    session.execute("CREATE KEYSPACE " + keyspace + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    CassandraReminderStore.createTables(session, keyspace);
    store = CassandraReminderStore.open(session, keyspace, MINUTE, BATCH_WINDOW);
  }

  @AfterAll
  void close() {
    if (session != null) {
      session.close();
      TestJournals.dropKeyspaces(keyspace);
    }
  }

  @Override
  ReminderStore store() {
    return store;
  }
}
