package net.certmail.persistence;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.Done;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.cassandra.journal.CassandraJournal;
import org.apache.pekko.stream.connectors.cassandra.scaladsl.CassandraSessionRegistry;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;
import scala.runtime.BoxedUnit;
import scala.util.Failure;
import scala.util.Try;

/**
 * pekko-persistence-cassandra's journal, finding a stream's highest sequence number in one read
 * where the plugin needs two or three ({@link JournalPartitions} says why that is enough). Every
 * recovery starts with that search, and under {@code bench load} five brand-new entities per mail
 * recover: 10 of the ~29 Cassandra requests per mail were these reads, each of an empty partition
 * beyond the stream. Everything else (writes, replay, snapshots, the table layout) is the plugin's.
 *
 * <p>The price is a bound on a write: at most the plugin's {@code max-message-batch-size} events
 * per write request (certmail persists a handful at a time); a longer one is rejected, which its
 * entity sees as a failed persist. Like the plugin, the search waits for a write of the same stream
 * still in flight (an entity restarted while its last persist was pending), so it never returns a
 * sequence number the next write would reuse.
 *
 * <p>Extends a class the plugin marks internal: written against the pinned 1.1.0, whose algorithm
 * and layout it relies on; {@code CassandraJournalTest} checks it against the real plugin and
 * Cassandra across partition boundaries.
 */
public class CertmailCassandraJournal extends CassandraJournal {
  private final JournalPartitions partitions;
  private final String selectHighest;
  private final String readProfile;
  private final CompletionStage<CqlSession> session;
  private final Map<String, CompletableFuture<?>> writesInProgress = new ConcurrentHashMap<>();
  private volatile CompletionStage<PreparedStatement> preparedSelectHighest;

  /** The constructor Pekko calls for the journal plugin's {@code class}. */
  public CertmailCassandraJournal(Config cfg, String cfgPath) {
    super(cfg, cfgPath);
    String sharedConfigPath = cfgPath.replaceAll("\\.journal$", "");
    Config shared = context().system().settings().config().getConfig(sharedConfigPath);
    // deleted events leave empty partitions below the stream's end, and tag recovery hooks into
    // the plugin's own search: the one-read search is only right without either
    if (cfg.getBoolean("support-deletes") || shared.getBoolean("events-by-tag.enabled")) {
      throw new IllegalStateException(getClass().getSimpleName() + " needs " + cfgPath
          + ".support-deletes = off and " + sharedConfigPath + ".events-by-tag.enabled = false"
          + " (certmail-journal-cassandra.conf sets both); use the plugin's CassandraJournal otherwise");
    }
    this.partitions = new JournalPartitions(cfg.getLong("target-partition-size"), cfg.getInt("max-message-batch-size"));
    this.selectHighest = "SELECT sequence_nr FROM " + cfg.getString("keyspace") + "." + cfg.getString("table")
        + " WHERE persistence_id = ? AND partition_nr = ? ORDER BY sequence_nr DESC LIMIT 1";
    this.readProfile = shared.getString("read-profile");
    // the session the plugin made (and initialised) under the same path
    scala.Function1<CqlSession, Future<Done>> noInit = ignored -> Future.successful(Done.getInstance());
    CassandraSessionRegistry registry = (CassandraSessionRegistry) CassandraSessionRegistry.get(context().system());
    this.session = FutureConverters.asJava(registry.sessionFor(sharedConfigPath, noInit).underlying());
  }

  @Override
  public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
    List<AtomicWrite> writes = CollectionConverters.asJava(messages);
    long events = writes.stream().mapToLong(write -> write.payload().size()).sum();
    if (events > partitions.maxEventsPerWrite()) {
      // rejected, none stored: the search above relies on no write being longer
      IllegalArgumentException tooLong = new IllegalArgumentException("a write of " + events
          + " events is longer than the journal takes (max-message-batch-size = " + partitions.maxEventsPerWrite()
          + "); persist fewer events at a time");
      List<Try<BoxedUnit>> rejections = new ArrayList<>();
      writes.forEach(write -> rejections.add(new Failure<>(tooLong)));
      return Future.<Seq<Try<BoxedUnit>>>successful(CollectionConverters.asScala(rejections).toList());
    }
    Future<Seq<Try<BoxedUnit>>> written = super.asyncWriteMessages(messages);
    String persistenceId = writes.get(0).persistenceId();
    CompletableFuture<Seq<Try<BoxedUnit>>> inProgress = FutureConverters.asJava(written).toCompletableFuture();
    writesInProgress.put(persistenceId, inProgress);
    inProgress.whenComplete((result, failure) -> writesInProgress.remove(persistenceId, inProgress));
    return written;
  }

  @Override
  public Future<Object> asyncReadHighestSequenceNr(String persistenceId, long fromSequenceNr) {
    CompletableFuture<?> pending = writesInProgress.get(persistenceId);
    CompletionStage<?> afterPendingWrite = pending == null
        ? CompletableFuture.completedFuture(null) : pending.handle((result, failure) -> null);
    CompletionStage<Object> highest = afterPendingWrite
        .thenCompose(ignored -> partitions.highestSequenceNr(fromSequenceNr,
            partition -> highestStoredIn(persistenceId, partition)))
        .thenApply(sequenceNr -> (Object) sequenceNr);
    return FutureConverters.asScala(highest);
  }

  private CompletionStage<Long> highestStoredIn(String persistenceId, long partition) {
    return session.thenCombine(selectHighestStatement(), (cql, statement) -> cql.executeAsync(
            statement.bind(persistenceId, partition).setExecutionProfileName(readProfile)))
        .thenCompose(resultSet -> resultSet)
        .thenApply(resultSet -> {
          Row row = resultSet.one();
          return row == null ? 0L : row.getLong(0);
        });
  }

  /** Prepared once; prepared again on the next search if Cassandra was not reachable the first time. */
  private CompletionStage<PreparedStatement> selectHighestStatement() {
    CompletionStage<PreparedStatement> prepared = preparedSelectHighest;
    if (prepared == null || prepared.toCompletableFuture().isCompletedExceptionally()) {
      prepared = session.thenCompose(cql -> cql.prepareAsync(selectHighest));
      preparedSelectHighest = prepared;
    }
    return prepared;
  }
}
