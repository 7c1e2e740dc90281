package net.certmail.persistence.reminders;

import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;

/**
 * Durable reminders: (due instant, entity) rows, partitioned by organisation and by time bucket
 * (the due instant divided by {@link #bucketMillis()}), so that a scan reads only the buckets
 * that are due. One interface, two stores: {@link JdbcReminderStore} in the embedded journal's
 * H2 database, {@link CassandraReminderStore} in the cluster's Cassandra keyspace.
 *
 * <p>Every operation is idempotent: writing a row twice leaves one row, deleting a missing row
 * is no error. A failed operation fails its CompletionStage; nothing is retried here.
 */
public interface ReminderStore extends AutoCloseable {

  /** Width of a time bucket: rows due within one bucket share a partition. */
  long bucketMillis();

  /** Stores the row (a row with the same organisation, entity and instant is left as it is). */
  CompletionStage<Done> write(Reminder reminder);

  /** Deletes exactly this row (same organisation, entity and instant). */
  CompletionStage<Done> delete(Reminder reminder);

  /**
   * Stores {@code writes}, then deletes {@code deletes}: a duty moved from one row to another is
   * covered by at least one row at every moment, and by none only if the deletes were all that
   * was asked. The embedded store does both in one transaction; by default they are done one by
   * one, each after the one before succeeded.
   */
  default CompletionStage<Done> replace(List<Reminder> writes, List<Reminder> deletes) {
    CompletionStage<Done> chain = java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
    for (Reminder reminder : writes) {
      chain = chain.thenCompose(done -> write(reminder));
    }
    for (Reminder reminder : deletes) {
      chain = chain.thenCompose(done -> delete(reminder));
    }
    return chain;
  }

  /**
   * Rows of the organisation due at or before {@code upTo}, earliest first, at most
   * {@code limit}; reads only buckets that can hold such rows.
   */
  default CompletionStage<List<Reminder>> dueBy(String organisation, long upTo, int limit) {
    return dueBetween(organisation, Long.MIN_VALUE, upTo, limit);
  }

  /**
   * Rows of the organisation due after {@code after} and at or before {@code upTo}, earliest
   * first, at most {@code limit}; reads only buckets from {@code after}'s to {@code upTo}'s. A scan
   * that knows what it read before reads only the rows new since (on Cassandra, the rows deleted
   * before {@code after} are tombstones that a scan from the bucket's start reads every time).
   */
  CompletionStage<List<Reminder>> dueBetween(String organisation, long after, long upTo, int limit);

  /**
   * Rows of the organisation due after {@code after} (for the metric); reads only the buckets from
   * {@code after}'s on (on Cassandra, from {@code after} within the first).
   */
  CompletionStage<Long> count(String organisation, long after);

  /** Every row of the organisation. */
  default CompletionStage<Long> count(String organisation) {
    return count(organisation, Long.MIN_VALUE);
  }

  /**
   * Whether the organisation's rows were backfilled from its journal ({@link ReminderBackfill}):
   * false for a store that has never been initialised for the organisation.
   */
  CompletionStage<Boolean> backfilled(String organisation);

  /** Records that the organisation's rows were backfilled (a marker row; writing it twice is no error). */
  CompletionStage<Done> markBackfilled(String organisation, long atMillis);

  /** Releases connections; the store is not used afterwards. */
  @Override
  void close();

  /** The bucket a due instant falls into. */
  default long bucketOf(long dueAt) {
    return Math.floorDiv(dueAt, bucketMillis());
  }
}
