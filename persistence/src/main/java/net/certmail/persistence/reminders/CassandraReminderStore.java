package net.certmail.persistence.reminders;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;

/**
 * Reminders in Cassandra, in the journal's keyspace. A row lives in the partition
 * (organisation, bucket), clustered by due instant, so a scan reads whole due partitions in
 * order and nothing later. Which buckets hold rows is kept in {@code reminder_buckets}, one
 * partition per organisation clustered by bucket: a scan asks it for the due buckets, instead of
 * probing every bucket since the epoch.
 *
 * <p>A bucket is listed before its first row is written, so a listed bucket may be empty but a
 * row is never in an unlisted bucket. A scan unlists a bucket it found empty only once the
 * bucket lies more than two buckets in the past: writers never write rows due that far back
 * (a reminder is written for an instant at or after its writer's now, and clocks agree within
 * the network's clock skew, far less than a bucket), so no row can arrive in it afterwards.
 *
 * <p>Row writes and deletes of all entities go through {@link PartitionBatches}: what entities ask
 * for a partition within the batch window, or while a request for it is in flight, goes as one
 * single-partition unlogged batch (a node's rows fall into one or two minute buckets, and
 * Cassandra's cost is mostly per request).
 *
 * <p>Statements run at LOCAL_QUORUM, like the journal's: a row acknowledged to an
 * entity is on a quorum of replicas, like the events it guards.
 */
public final class CassandraReminderStore implements ReminderStore {
  /** The names of the tables below. */
  public static final List<String> TABLES = List.of("reminders", "reminder_buckets", "reminder_backfills");

  /** The tables, with KEYSPACE to be replaced (run by {@link #createTables}, and part of the production script). */
  public static final List<String> SCHEMA = List.of(
      "CREATE TABLE IF NOT EXISTS KEYSPACE.reminders (organisation text, bucket bigint, due_at bigint,"
          + " entity_type text, entity_id text, PRIMARY KEY ((organisation, bucket), due_at, entity_type, entity_id))",
      "CREATE TABLE IF NOT EXISTS KEYSPACE.reminder_buckets (organisation text, bucket bigint,"
          + " PRIMARY KEY (organisation, bucket))",
      "CREATE TABLE IF NOT EXISTS KEYSPACE.reminder_backfills (organisation text PRIMARY KEY, backfilled_at bigint)");

  /** Statements in one request at most: ~4 KB of rows, under Cassandra's default batch warning (5 KiB). */
  static final int MAX_BATCH_STATEMENTS = 32;

  /** Listed buckets remembered at most (a bucket is a minute by default: days of them). */
  private static final int LISTED_BUCKETS_KEPT = 10_000;

  private final CqlSession session;
  private final long bucketMillis;
  private final java.util.Set<BucketKey> listed = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final PreparedStatement listBucket;
  private final PreparedStatement insert;
  private final PreparedStatement remove;
  private final PreparedStatement buckets;
  private final PreparedStatement rowsDue;
  private final PreparedStatement unlistBucket;
  private final PreparedStatement countBucket;
  private final PreparedStatement backfilled;
  private final PreparedStatement markBackfilled;
  /** Row writes and deletes of all entities, one request per partition at a time (PartitionBatches). */
  private final PartitionBatches<BucketKey, BoundStatement> rowChanges;

  private CassandraReminderStore(CqlSession session, String keyspace, long bucketMillis, Duration batchWindow) {
    this.session = session;
    this.bucketMillis = bucketMillis;
    this.listBucket = prepare("INSERT INTO " + keyspace + ".reminder_buckets (organisation, bucket) VALUES (?, ?)");
    this.insert = prepare("INSERT INTO " + keyspace + ".reminders (organisation, bucket, due_at, entity_type, entity_id)"
        + " VALUES (?, ?, ?, ?, ?)");
    this.remove = prepare("DELETE FROM " + keyspace + ".reminders WHERE organisation = ? AND bucket = ? AND due_at = ?"
        + " AND entity_type = ? AND entity_id = ?");
    this.buckets = prepare("SELECT bucket FROM " + keyspace + ".reminder_buckets WHERE organisation = ?"
        + " AND bucket >= ? AND bucket <= ?");
    this.rowsDue = prepare("SELECT entity_type, entity_id, due_at FROM " + keyspace + ".reminders"
        + " WHERE organisation = ? AND bucket = ? AND due_at > ? AND due_at <= ? LIMIT ?");
    this.unlistBucket = prepare("DELETE FROM " + keyspace + ".reminder_buckets WHERE organisation = ? AND bucket = ?");
    this.countBucket = prepare("SELECT COUNT(*) FROM " + keyspace + ".reminders WHERE organisation = ? AND bucket = ?"
        + " AND due_at > ?");
    this.backfilled = prepare("SELECT organisation FROM " + keyspace + ".reminder_backfills WHERE organisation = ?");
    this.markBackfilled = prepare("INSERT INTO " + keyspace + ".reminder_backfills (organisation, backfilled_at)"
        + " VALUES (?, ?)");
    this.rowChanges = new PartitionBatches<>(this::send, MAX_BATCH_STATEMENTS, batchWindow);
  }

  /** One request: a lone statement, or a single-partition unlogged batch. */
  private CompletionStage<?> send(List<BoundStatement> statements) {
    return session.executeAsync(statements.size() == 1 ? statements.get(0)
        : BatchStatement.newInstance(BatchType.UNLOGGED, statements.toArray(BoundStatement[]::new))
            .setConsistencyLevel(DefaultConsistencyLevel.LOCAL_QUORUM));
  }

  /**
   * A store on an open session (the session stays the caller's: {@link #close} leaves it open).
   * Blocking: prepares its statements.
   *
   * @param batchWindow how long a row change for an idle partition waits for others (zero: none)
   */
  public static CassandraReminderStore open(CqlSession session, String keyspace, long bucketMillis,
                                            Duration batchWindow) {
    if (batchWindow.isNegative()) {
      throw new IllegalArgumentException("certmail.reminders.cassandra-batch-window must not be negative, was "
          + batchWindow + ": set 0s for no window");
    }
    return new CassandraReminderStore(session, keyspace, bucketMillis, batchWindow);
  }

  /** Creates the tables in an existing keyspace (tests and schema-autocreate; production runs the CQL script). */
  public static void createTables(CqlSession session, String keyspace) {
    for (String cql : SCHEMA) {
      session.execute(SimpleStatement.newInstance(cql.replace("KEYSPACE", keyspace)).setTimeout(Duration.ofSeconds(60)));
    }
  }

  private PreparedStatement prepare(String cql) {
    return session.prepare(SimpleStatement.newInstance(cql).setConsistencyLevel(DefaultConsistencyLevel.LOCAL_QUORUM));
  }

  @Override
  public long bucketMillis() {
    return bucketMillis;
  }

  /**
   * The bucket is listed first: a row is never in a bucket a scan would not read. A bucket this
   * store has listed is not listed again while it is current or ahead (about one write in two
   * saved: entities write most rows into the same few buckets). A scan unlists only empty buckets
   * more than two behind its clock, so a remembered listing of such a bucket may be stale: a row
   * for an older bucket (a write retried after an outage) lists its bucket again.
   */
  @Override
  public CompletionStage<Done> write(Reminder reminder) {
    return list(reminder).thenCompose(done -> rowChanges.submit(partitionOf(reminder), List.of(insertOf(reminder))));
  }

  /** Lists the row's bucket unless this store listed it and it is current or ahead. */
  private CompletionStage<?> list(Reminder reminder) {
    BucketKey key = partitionOf(reminder);
    boolean stillListed = key.bucket() >= bucketOf(System.currentTimeMillis()) - 1 && listed.contains(key);
    return stillListed ? CompletableFuture.completedFuture(null)
        : session.executeAsync(listBucket.bind(key.organisation(), key.bucket())).thenAccept(done -> remember(key));
  }

  private record BucketKey(String organisation, long bucket) {}

  /** Remembers a listed bucket; bounded: when full, the oldest buckets are forgotten (listed again if needed). */
  private void remember(BucketKey key) {
    if (listed.size() >= LISTED_BUCKETS_KEPT) {
      listed.stream().sorted(java.util.Comparator.comparingLong(BucketKey::bucket)).limit(LISTED_BUCKETS_KEPT / 2)
          .toList().forEach(listed::remove);
    }
    listed.add(key);
  }

  @Override
  public CompletionStage<Done> delete(Reminder reminder) {
    return rowChanges.submit(partitionOf(reminder), List.of(deleteOf(reminder)));
  }

  /**
   * A moved duty in as few requests as the partitions allow. The buckets of the new rows are
   * listed first (as in {@link #write}). When every row, new and old, lies in one partition (a
   * duty moved within the minute: most moves), the rows are one unlogged batch: Cassandra applies
   * a single-partition batch atomically and in isolation, so a scan sees either the old rows or
   * the new ones, never neither, and the two to three requests of a move become one. Otherwise
   * the new rows are stored first (one batch per partition), then the old ones deleted.
   */
  @Override
  public CompletionStage<Done> replace(List<Reminder> writes, List<Reminder> deletes) {
    CompletionStage<?> listed = CompletableFuture.completedFuture(null);
    for (Reminder reminder : writes) {
      listed = listed.thenCompose(done -> list(reminder));
    }
    List<Change> inserts = writes.stream().map(row -> new Change(partitionOf(row), insertOf(row))).toList();
    List<Change> removals = deletes.stream().map(row -> new Change(partitionOf(row), deleteOf(row))).toList();
    List<Change> all = new ArrayList<>(inserts);
    all.addAll(removals);
    if (all.stream().map(Change::partition).distinct().count() <= 1) {
      return listed.thenCompose(done -> executeTogether(all));
    }
    return listed.thenCompose(done -> executeTogether(inserts)).thenCompose(done -> executeTogether(removals));
  }

  /** A statement on one row, and the partition it touches. */
  private record Change(BucketKey partition, BoundStatement statement) {}

  /**
   * The changes, one unlogged batch per partition (with other entities' changes queued for it),
   * the partitions in parallel.
   */
  private CompletionStage<Done> executeTogether(List<Change> changes) {
    java.util.Map<BucketKey, List<BoundStatement>> byPartition = new java.util.LinkedHashMap<>();
    for (Change change : changes) {
      byPartition.computeIfAbsent(change.partition(), key -> new ArrayList<>()).add(change.statement());
    }
    CompletableFuture<?>[] requests = byPartition.entrySet().stream()
        .map(partition -> rowChanges.submit(partition.getKey(), partition.getValue()).toCompletableFuture())
        .toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(requests).thenApply(done -> Done.getInstance());
  }

  private BucketKey partitionOf(Reminder reminder) {
    return new BucketKey(reminder.organisation(), bucketOf(reminder.dueAt()));
  }

  private BoundStatement insertOf(Reminder reminder) {
    return insert.bind(reminder.organisation(), bucketOf(reminder.dueAt()), reminder.dueAt(), reminder.entityType(),
        reminder.entityId());
  }

  private BoundStatement deleteOf(Reminder reminder) {
    return remove.bind(reminder.organisation(), bucketOf(reminder.dueAt()), reminder.dueAt(), reminder.entityType(),
        reminder.entityId());
  }

  @Override
  public CompletionStage<List<Reminder>> dueBetween(String organisation, long after, long upTo, int limit) {
    return session.executeAsync(buckets.bind(organisation, bucketOf(after), bucketOf(upTo)))
        .thenCompose(listed -> allRows(listed))
        .thenCompose(due -> readBuckets(organisation, due.stream().map(row -> row.getLong(0)).toList(), 0, after,
            upTo, limit, new ArrayList<>()));
  }

  private CompletionStage<List<Row>> allRows(AsyncResultSet page) {
    List<Row> rows = new ArrayList<>();
    page.currentPage().forEach(rows::add);
    if (!page.hasMorePages()) {
      return CompletableFuture.completedFuture(rows);
    }
    return page.fetchNextPage().thenCompose(this::allRows).thenApply(more -> {
      rows.addAll(more);
      return rows;
    });
  }

  /** Reads the due buckets in order until the limit is reached; unlists old empty ones on the way. */
  private CompletionStage<List<Reminder>> readBuckets(String organisation, List<Long> due, int index, long after,
                                                      long upTo, int limit, List<Reminder> found) {
    if (index >= due.size() || found.size() >= limit) {
      return CompletableFuture.completedFuture(found);
    }
    long bucket = due.get(index);
    return session.executeAsync(rowsDue.bind(organisation, bucket, after, upTo, limit - found.size()))
        .thenCompose(page -> allRows(page))
        .thenCompose(rows -> {
          for (Row row : rows) {
            found.add(new Reminder(organisation, row.getString(0), row.getString(1), row.getLong(2)));
          }
          boolean wholeBucketRead = bucketOf(after) < bucket && bucket < bucketOf(upTo) - 2;
          CompletionStage<?> cleanup = rows.isEmpty() && wholeBucketRead
              ? unlistIfEmpty(organisation, bucket) : CompletableFuture.completedFuture(null);
          return cleanup.thenCompose(done -> readBuckets(organisation, due, index + 1, after, upTo, limit, found));
        });
  }

  /** The whole bucket was asked for and it ends before upTo, so empty means empty. */
  private CompletionStage<?> unlistIfEmpty(String organisation, long bucket) {
    listed.remove(new BucketKey(organisation, bucket));
    return session.executeAsync(unlistBucket.bind(organisation, bucket));
  }

  @Override
  public CompletionStage<Long> count(String organisation, long after) {
    return session.executeAsync(buckets.bind(organisation, bucketOf(after), Long.MAX_VALUE))
        .thenCompose(listed -> allRows(listed))
        .thenCompose(listed -> {
          CompletableFuture<Long> total = CompletableFuture.completedFuture(0L);
          for (Row bucket : listed) {
            total = total.thenCompose(sum -> session.executeAsync(countBucket.bind(organisation, bucket.getLong(0), after))
                .thenApply(result -> sum + result.one().getLong(0)).toCompletableFuture());
          }
          return total;
        });
  }

  @Override
  public CompletionStage<Boolean> backfilled(String organisation) {
    return session.executeAsync(backfilled.bind(organisation)).thenApply(result -> result.one() != null);
  }

  @Override
  public CompletionStage<Done> markBackfilled(String organisation, long atMillis) {
    return session.executeAsync(markBackfilled.bind(organisation, atMillis)).thenApply(written -> Done.getInstance());
  }

  @Override
  public void close() {
    // the session belongs to the caller
  }
}
