package net.certmail.persistence;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.jdbc.config.JournalConfig;
import org.apache.pekko.persistence.jdbc.journal.dao.DefaultJournalDao;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalDao;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.scaladsl.Source;
import scala.Option;
import scala.Tuple2;
import scala.collection.immutable.Seq;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.concurrent.duration.FiniteDuration;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;
import scala.runtime.BoxedUnit;
import scala.util.Try;
import slick.jdbc.JdbcBackend;
import slick.jdbc.JdbcProfile;

/**
 * pekko-persistence-jdbc's own journal DAO, with the writes of many entities gathered into one
 * insert (one H2 commit): a write that arrives {@code certmail.journal.embedded.min-commit-interval}
 * or longer after the last insert began goes at once; one that arrives sooner waits for the rest of
 * that interval, and every write that arrived meanwhile goes with it. The plugin's own batching
 * only gathers writes that queue while an insert runs, and on this machine an insert rarely ran
 * long enough for that: a busy node made a commit, a 12-32 KB H2 chunk, per event (issue 12).
 *
 * <p>Each write still completes with its own result, in the order the writes arrived; a failed
 * insert fails every write of the group (as a failed batch of the plugin does). Reads and deletes
 * go straight to the plugin's DAO. Set as {@code jdbc-journal.dao} by certmail-journal-embedded.conf.
 */
public final class GroupingJournalDao implements JournalDao {
  private final DefaultJournalDao plugin;
  private final long intervalNanos;
  private final Executor executor;
  private final Object lock = new Object();
  private List<Pending> pending = new ArrayList<>(); // guarded by lock
  private boolean insertScheduled; // guarded by lock
  private long lastInsert; // guarded by lock

  private record Pending(Seq<AtomicWrite> writes, CompletableFuture<Seq<Try<BoxedUnit>>> result) {}

  /** The constructor pekko-persistence-jdbc calls for {@code jdbc-journal.dao}. */
  public GroupingJournalDao(JdbcBackend.JdbcDatabaseDef db, JdbcProfile profile, JournalConfig journalConfig,
                            Serialization serialization, ExecutionContext ec, Materializer materializer) {
    this.plugin = new DefaultJournalDao(db, profile, journalConfig, serialization, ec, materializer);
    this.intervalNanos = materializer.system().settings().config()
        .getDuration("certmail.journal.embedded.min-commit-interval").toNanos();
    this.executor = ec::execute;
    this.lastInsert = System.nanoTime() - intervalNanos;
  }

  @Override
  public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> writes) {
    if (intervalNanos == 0) {
      return plugin.asyncWriteMessages(writes);
    }
    Pending write = new Pending(writes, new CompletableFuture<>());
    synchronized (lock) {
      pending.add(write);
      if (!insertScheduled) {
        insertScheduled = true;
        long wait = lastInsert + intervalNanos - System.nanoTime();
        if (wait <= 0) {
          executor.execute(this::insertPending);
        } else {
          CompletableFuture.delayedExecutor(wait, TimeUnit.NANOSECONDS, executor).execute(this::insertPending);
        }
      }
    }
    return FutureConverters.asScala(write.result());
  }

  private void insertPending() {
    List<Pending> group;
    synchronized (lock) {
      group = pending;
      pending = new ArrayList<>();
      insertScheduled = false;
      lastInsert = System.nanoTime();
    }
    List<AtomicWrite> all = new ArrayList<>();
    group.forEach(write -> all.addAll(CollectionConverters.asJava(write.writes())));
    try {
      FutureConverters.asJava(plugin.asyncWriteMessages(CollectionConverters.asScala(all).toList()))
          .whenComplete((results, failure) -> complete(group, results, failure));
    } catch (RuntimeException e) {
      complete(group, null, e);
    }
  }

  /**
   * Hands each write the results of its own AtomicWrites, which the plugin returns in order; or
   * none at all when every one succeeded (AsyncWriteJournal's contract), and then none to each.
   */
  private static void complete(List<Pending> group, Seq<Try<BoxedUnit>> results, Throwable failure) {
    if (failure != null) {
      group.forEach(write -> write.result().completeExceptionally(failure));
      return;
    }
    if (results.isEmpty()) {
      group.forEach(write -> write.result().complete(results));
      return;
    }
    List<Try<BoxedUnit>> each = CollectionConverters.asJava(results);
    int from = 0;
    for (Pending write : group) {
      int to = from + write.writes().size();
      write.result().complete(CollectionConverters.asScala(each.subList(from, to)).toList());
      from = to;
    }
  }

  @Override
  public Future<BoxedUnit> delete(String persistenceId, long maxSequenceNr) {
    return plugin.delete(persistenceId, maxSequenceNr);
  }

  @Override
  public Future<Object> highestSequenceNr(String persistenceId, long fromSequenceNr) {
    return plugin.highestSequenceNr(persistenceId, fromSequenceNr);
  }

  @Override
  public Source<Try<Tuple2<PersistentRepr, Object>>, NotUsed> messages(String persistenceId, long fromSequenceNr,
                                                                     long toSequenceNr, long max) {
    return plugin.messages(persistenceId, fromSequenceNr, toSequenceNr, max);
  }

  @Override
  public Source<Try<Tuple2<PersistentRepr, Object>>, NotUsed> messagesWithBatch(
      String persistenceId, long fromSequenceNr, long toSequenceNr, int batchSize,
      Option<Tuple2<FiniteDuration, org.apache.pekko.actor.Scheduler>> refreshInterval) {
    return plugin.messagesWithBatch(persistenceId, fromSequenceNr, toSequenceNr, batchSize, refreshInterval);
  }
}
