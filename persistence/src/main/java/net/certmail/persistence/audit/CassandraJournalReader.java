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
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.stream.connectors.cassandra.scaladsl.CassandraSessionRegistry;
import org.apache.pekko.stream.javadsl.Source;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;

/**
 * Reads pekko-persistence-cassandra's tables directly with the plugin's own driver session:
 * {@code all_persistence_ids} once, then the streams of each label: their first partitions of
 * {@code messages} in one query (IN over the label's persistence ids: 4,353 -> 5,581 events/s in
 * {@code bench audit --journal cassandra} against a query per stream), and any later partition
 * on its own (asynchronous queries, no Pekko Streams stage per stream). Through
 * Persistence Query each {@code currentEventsByPersistenceId} is a stream materialisation and a
 * metadata lookup: ~1,000 events/s for certmail's short streams. Read-only; the same rows, columns
 * and serializer the plugin's replay uses.
 */
final class CassandraJournalReader implements JournalReader {
  /** The plugin's configuration path (its session is registered under it). */
  private static final String PLUGIN = "pekko.persistence.cassandra";
  /** Labels whose queries are in flight at once. */
  private static final int LABELS_IN_FLIGHT = 16;

  private final Serialization serialization;
  private final CqlSession session;
  private final String keyspace;
  private final long partitionSize;
  private final long maxBatch;
  private final PreparedStatement selectPartition;
  private final PreparedStatement selectFirstPartitions;

  CassandraJournalReader(ActorSystem<?> system) {
    this.serialization = SerializationExtension.get(system);
    var config = system.settings().config().getConfig(PLUGIN + ".journal");
    this.keyspace = config.getString("keyspace");
    this.partitionSize = config.getLong("target-partition-size");
    this.maxBatch = config.getLong("max-message-batch-size");
    this.session = session(system);
    this.selectPartition = session.prepare("SELECT sequence_nr, timestamp, ser_id, ser_manifest, event FROM "
        + keyspace + ".messages WHERE persistence_id = ? AND partition_nr = ?");
    this.selectFirstPartitions = session.prepare("SELECT persistence_id, sequence_nr, timestamp, ser_id, ser_manifest,"
        + " event FROM " + keyspace + ".messages WHERE persistence_id IN ? AND partition_nr = 0");
  }

  /** The plugin's session, asked for without schema initialisation: the audit creates nothing. */
  private static CqlSession session(ActorSystem<?> system) {
    scala.Function1<CqlSession, Future<Done>> noInit = session -> Future.successful(Done.getInstance());
    CassandraSessionRegistry registry = (CassandraSessionRegistry) CassandraSessionRegistry.get(Adapter.toClassic(system));
    try {
      return FutureConverters.asJava(registry.sessionFor(PLUGIN, noInit).underlying()).toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while connecting to Cassandra", e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot connect to Cassandra: " + e.getMessage()
          + "; check --contact-points (certmail.journal.cassandra.contact-points) and that Cassandra runs", e);
    }
  }

  @Override
  public List<String> persistenceIds() {
    List<String> ids = new ArrayList<>();
    for (Row row : session.execute("SELECT persistence_id FROM " + keyspace + ".all_persistence_ids")) {
      ids.add(row.getString(0));
    }
    return ids;
  }

  /** Labels read side by side (each a few asynchronous queries): the reads wait on the network, not the CPU. */
  @Override
  public Source<LabelStreams, NotUsed> labels(Map<String, List<String>> labels) {
    return Source.from(new ArrayList<>(labels.entrySet()))
        .mapAsyncUnordered(LABELS_IN_FLIGHT, entry -> read(entry.getValue())
            .thenApply(streams -> new LabelStreams(entry.getKey(), streams)));
  }

  /**
   * The first partition of every stream in one query (a label's streams are a handful of short
   * ones: one request instead of one per stream, for the driver and for Cassandra), then, for a
   * stream that reached the end of its first partition, the partitions after it one by one.
   */
  @Override
  public CompletionStage<List<List<JournalEvent>>> read(List<String> persistenceIds) {
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
