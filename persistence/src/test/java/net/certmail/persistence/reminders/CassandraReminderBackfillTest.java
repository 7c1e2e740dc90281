package net.certmail.persistence.reminders;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.datastax.oss.driver.api.core.CqlSession;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import net.certmail.persistence.testing.JournalScenario;
import net.certmail.persistence.testing.TestJournals;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The reminder backfill on a Cassandra journal, which keeps no persistence-id index
 * (support-all-persistence-ids off): it finds the organisation's streams by the messages table's
 * partition keys, and only once.
 */
@Tag("cassandra")
class CassandraReminderBackfillTest {
  {
    TestJournals.requireRunningCassandra();
  }

  private final String keyspace = TestJournals.uniqueKeyspace("cm_backfill");
  private final ActorTestKit kit = ActorTestKit.create("cassandra-backfill",
      TestJournals.cassandra(keyspace, keyspace + "_snapshot", true));

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
    TestJournals.dropKeyspaces(keyspace, keyspace + "_snapshot");
  }

  @Test
  void everyStreamOfTheOrganisationGetsARowOnce() throws Exception {
    List<String> alphas = List.of("alpha.example|alpha.example/L1", "alpha.example|alpha.example/L2");
    for (String id : alphas) {
      JournalScenario.append(kit, id, List.of("submitted", "cop-issued"));
    }
    JournalScenario.append(kit, "beta.example|alpha.example/L1", List.of("notified"));

    try (CqlSession session = TestJournals.cassandraSession()) {
      CassandraReminderStore.createTables(session, keyspace);
      ReminderStore store = CassandraReminderStore.open(session, keyspace, ReminderStoreContract.MINUTE, Duration.ZERO);
      long firstDue = 1_000_000L;
      long written = ReminderBackfill.ensure(kit.system(), store, "alpha.example", stream -> Optional.of("server"),
          firstDue, 200).toCompletableFuture().get(60, TimeUnit.SECONDS);

      assertEquals(2, written, "alpha's two streams, not beta's");
      List<String> woken = store.dueBy("alpha.example", Long.MAX_VALUE, 100).toCompletableFuture()
          .get(60, TimeUnit.SECONDS).stream().map(Reminder::entityId).sorted().toList();
      assertEquals(alphas, woken);
      assertEquals(0L, ReminderBackfill.ensure(kit.system(), store, "alpha.example", stream -> Optional.of("server"),
          firstDue, 200).toCompletableFuture().get(60, TimeUnit.SECONDS), "marked: never again");
    }
  }
}
