package net.certmail.persistence.audit;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import net.certmail.persistence.CassandraJournalStreams;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Reads pekko-persistence-cassandra's tables directly with the plugin's own driver session:
 * the partition keys of {@code messages} once ({@link CassandraJournalStreams}), then the streams
 * of {@link #LABELS_PER_QUERY} labels at a time: their first partitions of {@code messages} in one query (IN over the labels' persistence
 * ids), and any later partition on its own (asynchronous queries, no Pekko Streams stage per
 * stream). A query per stream, then per label, audited 4,353 and 5,581 events/s in
 * {@code bench audit --journal cassandra}. Through
 * Persistence Query each {@code currentEventsByPersistenceId} is a stream materialisation and a
 * metadata lookup: ~1,000 events/s for certmail's short streams. Read-only; the same rows, columns
 * and serializer the plugin's replay uses.
 */
final class CassandraJournalReader implements JournalReader {
  /**
   * Labels read with one query (their streams' first partitions: ~320 partition keys). Cassandra's
   * cost is mostly per request, not per partition: on the 101,214-event bench journal, 1 label per
   * query cost the local server 9-15 CPU-s, 16 labels 7 s, 64 labels 4.5 s, and the audit ran at
   * 11.5k events/s instead of 5.5k. 128 was no better. A cluster that caps partition keys per IN
   * (a guardrail) makes the query fail: the reader then falls back to a query per stream.
   */
  static final int LABELS_PER_QUERY = 64;
  /** Partition keys in one query at most: a batch of labels, or a chunk of any other streams read. */
  static final int MAX_KEYS_PER_QUERY = 512;
  /** Such queries in flight at once: two keep the check threads busy while the next batch is read. */
  private static final int QUERIES_IN_FLIGHT = 2;

  private final Serialization serialization;
  private final CqlSession session;
  private final String keyspace;
  private final long partitionSize;
  private final long maxBatch;
  private final PreparedStatement selectPartition;
  private final PreparedStatement selectFirstPartitions;
  private final int labelsPerQuery;
  private final int maxKeysPerQuery;

  CassandraJournalReader(ActorSystem<?> system) {
    this(system, LABELS_PER_QUERY, MAX_KEYS_PER_QUERY);
  }

  /** With smaller batches (tests: several batches and chunks on a small journal). */
  CassandraJournalReader(ActorSystem<?> system, int labelsPerQuery, int maxKeysPerQuery) {
    this.labelsPerQuery = labelsPerQuery;
    this.maxKeysPerQuery = maxKeysPerQuery;
    this.serialization = SerializationExtension.get(system);
    var config = system.settings().config().getConfig(CassandraJournalStreams.PLUGIN + ".journal");
    this.keyspace = config.getString("keyspace");
    this.partitionSize = config.getLong("target-partition-size");
    this.maxBatch = config.getLong("max-message-batch-size");
    this.session = CassandraJournalStreams.pluginSession(system);
    this.selectPartition = session.prepare("SELECT sequence_nr, timestamp, ser_id, ser_manifest, event FROM "
        + keyspace + ".messages WHERE persistence_id = ? AND partition_nr = ?");
    this.selectFirstPartitions = session.prepare("SELECT persistence_id, sequence_nr, timestamp, ser_id, ser_manifest,"
        + " event FROM " + keyspace + ".messages WHERE persistence_id IN ? AND partition_nr = 0");
  }

  @Override
  public List<String> persistenceIds() {
    return CassandraJournalStreams.persistenceIds(session, keyspace);
  }

  /**
   * Labels read a batch at a time, one query for the first partitions of all the batch's
   * streams; each label handed on with its own streams.
   */
  @Override
  public Source<LabelStreams, NotUsed> labels(Map<String, List<String>> labels) {
    return Source.from(new ArrayList<>(labels.entrySet()))
        .grouped(labelsPerQuery)
        .mapAsyncUnordered(QUERIES_IN_FLIGHT, group -> {
          List<String> ids = new ArrayList<>();
          group.forEach(entry -> ids.addAll(entry.getValue()));
          return read(ids).thenApply(streams -> {
            List<LabelStreams> read = new ArrayList<>();
            int from = 0;
            for (Map.Entry<String, List<String>> entry : group) {
              int to = from + entry.getValue().size();
              read.add(new LabelStreams(entry.getKey(), streams.subList(from, to)));
              from = to;
            }
            return read;
          });
        })
        .mapConcat(read -> read);
  }

  /**
   * The first partition of every stream in one query per {@link #MAX_KEYS_PER_QUERY} streams
   * (certmail's streams are short: one request instead of one per stream, for the driver and for
   * Cassandra), then, for a stream that reached the end of its first partition, the partitions
   * after it one by one.
   */
  @Override
  public CompletionStage<List<List<JournalEvent>>> read(List<String> persistenceIds) {
    if (persistenceIds.size() <= maxKeysPerQuery) {
      return readFirstPartitionsTogether(persistenceIds);
    }
    // Chunks one after another (e.g. the streams of cluster sharding, hundreds in a large journal).
    CompletionStage<List<List<JournalEvent>>> all = CompletableFuture.completedFuture(new ArrayList<>());
    for (int from = 0; from < persistenceIds.size(); from += maxKeysPerQuery) {
      List<String> chunk = persistenceIds.subList(from, Math.min(persistenceIds.size(), from + maxKeysPerQuery));
      all = all.thenCompose(read -> readFirstPartitionsTogether(chunk).thenApply(more -> {
        read.addAll(more);
        return read;
      }));
    }
    return all;
  }

  private CompletionStage<List<List<JournalEvent>>> readFirstPartitionsTogether(List<String> persistenceIds) {
    Map<String, List<JournalEvent>> streams = new java.util.LinkedHashMap<>();
    persistenceIds.forEach(id -> streams.put(id, new ArrayList<>()));
    CompletionStage<Void> first = session.executeAsync(selectFirstPartitions.bind(List.copyOf(streams.keySet())))
        .thenCompose(page -> collectFirst(page, streams));
    return first
        .thenCompose(read -> allOf(persistenceIds, id -> continueAfter(id, 0, streams.get(id))))
        // The one query failed: each stream on its own, so that a failure is reported per stream.
        .exceptionallyCompose(failure -> allOf(persistenceIds, id -> readPartition(id, 0, new ArrayList<>())));
  }

  private static CompletionStage<List<List<JournalEvent>>> allOf(
      List<String> persistenceIds, java.util.function.Function<String, CompletionStage<List<JournalEvent>>> read) {
    List<CompletableFuture<List<JournalEvent>>> streams = new ArrayList<>();
    for (String id : persistenceIds) {
      streams.add(read.apply(id).toCompletableFuture());
    }
    return CompletableFuture.allOf(streams.toArray(CompletableFuture[]::new))
        .thenApply(done -> streams.stream().map(CompletableFuture::join).toList());
  }

  /** Decodes one page of the first partitions into their streams and fetches the next page. */
  private CompletionStage<Void> collectFirst(AsyncResultSet page, Map<String, List<JournalEvent>> streams) {
    for (Row row : page.currentPage()) {
      String id = row.getString(0);
      streams.get(id).add(decode(id, row, 1));
    }
    if (page.hasMorePages()) {
      return page.fetchNextPage().thenCompose(next -> collectFirst(next, streams));
    }
    return CompletableFuture.completedFuture(null);
  }

  /** The partitions after {@code partition}, when the stream reached its end (see readPartition). */
  private CompletionStage<List<JournalEvent>> continueAfter(String id, long partition, List<JournalEvent> stream) {
    long lastInPartition = (partition + 1) * partitionSize;
    if (!stream.isEmpty() && stream.get(stream.size() - 1).sequenceNr() + maxBatch > lastInPartition) {
      return readPartition(id, partition + 1, stream);
    }
    return CompletableFuture.completedFuture(stream);
  }

  /**
   * One partition after another, as the plugin writes them: a stream continues in the next
   * partition when this one ends within one atomic write (at most max-message-batch-size events)
   * of its last sequence number, since the plugin starts the next partition with a write that
   * would cross the boundary. A failed read ends the stream with an unreadable marker, which the
   * audit reports.
   */
  private CompletionStage<List<JournalEvent>> readPartition(String id, long partition, List<JournalEvent> stream) {
    return session.executeAsync(selectPartition.bind(id, partition))
        .thenCompose(page -> collect(id, page, stream))
        .thenCompose(rows -> rows > 0 ? continueAfter(id, partition, stream)
            : CompletableFuture.completedFuture(stream))
        .exceptionally(failure -> {
          long next = stream.isEmpty() ? 1 : stream.get(stream.size() - 1).sequenceNr() + 1;
          stream.add(JournalEvent.unreadable(id, next, "cannot read from Cassandra: "
              + JournalAudit.unwrap(failure).getMessage()));
          return stream;
        });
  }

  /** Decodes one page of rows and fetches the next; completes with the rows of the partition. */
  private CompletionStage<Integer> collect(String id, AsyncResultSet page, List<JournalEvent> stream) {
    int rows = 0;
    for (Row row : page.currentPage()) {
      rows++;
      stream.add(decode(id, row, 0));
    }
    int counted = rows;
    if (page.hasMorePages()) {
      return page.fetchNextPage().thenCompose(next -> collect(id, next, stream)).thenApply(more -> counted + more);
    }
    return CompletableFuture.completedFuture(counted);
  }

  /** A row's columns from {@code from} on: sequence_nr, timestamp, ser_id, ser_manifest, event. */
  private JournalEvent decode(String id, Row row, int from) {
    long sequenceNr = row.getLong(from);
    UUID timestamp = row.getUuid(from + 1);
    long writtenAt = timestamp != null && timestamp.version() == 1 ? Uuids.unixTimestamp(timestamp) : 0;
    try {
      ByteBuffer buffer = row.getByteBuffer(from + 4);
      byte[] bytes = new byte[buffer == null ? 0 : buffer.remaining()];
      if (buffer != null) {
        buffer.get(bytes);
      }
      Object payload = serialization.deserialize(bytes, row.getInt(from + 2), row.getString(from + 3)).get();
      return JournalEvent.of(id, sequenceNr, payload, writtenAt);
    } catch (Exception e) {
      return JournalEvent.unreadable(id, sequenceNr, e.getMessage());
    }
  }
}
