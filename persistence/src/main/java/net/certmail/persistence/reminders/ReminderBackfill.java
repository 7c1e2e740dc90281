package net.certmail.persistence.reminders;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import net.certmail.persistence.CassandraJournalStreams;
import net.certmail.persistence.JournalBackend;
import net.certmail.persistence.audit.StreamId;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery;
import org.apache.pekko.persistence.query.javadsl.ReadJournal;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Reminder rows for a journal written before reminders existed (or restored without them): such
 * a journal holds entities that owe work but have no row, and nothing else would ever wake them.
 * Once per organisation and store, before the store is trusted, a row is written for every stream
 * of the organisation found in the journal; each entity then wakes, recovers, and re-arms its row
 * at its exact due instant, or deletes it when it owes nothing. The store records that it was done
 * ({@link ReminderStore#markBackfilled}); a backfill cut short by a crash runs again from the start
 * (writing a row twice leaves one row).
 *
 * <p>The rows come due {@code perSecond} a second from {@code firstDueAt}: every wake-up is a
 * recovery, and a journal of millions of mails must not recover all at once.
 */
public final class ReminderBackfill {
  /** Rows written at once. */
  private static final int PARALLELISM = 8;

  private ReminderBackfill() {}

  /**
   * Backfills the organisation's reminders unless the store says it was done.
   *
   * @param entityType the entity type name of a stream of the organisation, empty for a stream that is no entity
   * @return rows written (0 when the store was backfilled before)
   */
  public static CompletionStage<Long> ensure(ActorSystem<?> system, ReminderStore store, String organisation,
                                             Function<StreamId, Optional<String>> entityType, long firstDueAt,
                                             int perSecond) {
    return store.backfilled(organisation).thenCompose(done -> {
      if (done) {
        return CompletableFuture.completedFuture(0L);
      }
      return persistenceIds(system)
          .map(StreamId::parse)
          .filter(stream -> stream != null && stream.organisation().equals(organisation))
          .mapConcat(stream -> entityType.apply(stream).map(type -> List.of(new Row(type, stream.persistenceId())))
              .orElse(List.of()))
          .zipWithIndex()
          .mapAsync(PARALLELISM, row -> store.write(new Reminder(organisation, row.first().entityType(),
              row.first().entityId(), firstDueAt + row.second() * 1000 / perSecond)))
          .runWith(Sink.fold(0L, (rows, written) -> rows + 1), system)
          .thenCompose(rows -> store.markBackfilled(organisation, firstDueAt).thenApply(marked -> rows));
    });
  }

  /**
   * Every persistence id of the node's journal: on H2 through Persistence Query; on Cassandra from
   * the partition keys of its messages table (the plugin's persistence-id index is not written,
   * see {@link CassandraJournalStreams}), scanned on the blocking dispatcher. A journal without
   * either (pekko-persistence-testkit's in-memory journal of tests) starts empty at every start:
   * nothing in it predates the reminders.
   */
  private static Source<String, NotUsed> persistenceIds(ActorSystem<?> system) {
    String plugin = system.settings().config().getString("pekko.persistence.journal.plugin");
    if (plugin.startsWith(CassandraJournalStreams.PLUGIN)) {
      Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
      return Source.completionStage(CompletableFuture.supplyAsync(() -> CassandraJournalStreams.persistenceIds(
              CassandraJournalStreams.pluginSession(system), CassandraJournalStreams.keyspace(system)), blocking))
          .mapConcat(ids -> ids);
    }
    if (!plugin.equals("jdbc-journal")) {
      return Source.empty();
    }
    ReadJournal journal = PersistenceQuery.get(system)
        .getReadJournalFor(ReadJournal.class, JournalBackend.EMBEDDED.readJournalPluginId());
    return ((CurrentPersistenceIdsQuery) journal).currentPersistenceIds();
  }

  private record Row(String entityType, String entityId) {}
}
