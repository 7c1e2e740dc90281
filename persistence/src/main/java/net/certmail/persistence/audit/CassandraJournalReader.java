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
 * {@code all_persistence_ids} once, then each stream's partitions of {@code messages}, all the
 * streams of a label at once (asynchronous queries, no Pekko Streams stage per stream). Through
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

  CassandraJournalReader(ActorSystem<?> system) {
    this.serialization = SerializationExtension.get(system);
    var config = system.settings().config().getConfig(PLUGIN + ".journal");
    this.keyspace = config.getString("keyspace");
    this.partitionSize = config.getLong("target-partition-size");
    this.maxBatch = config.getLong("max-message-batch-size");
    this.session = session(system);
    this.selectPartition = session.prepare("SELECT sequence_nr, timestamp, ser_id, ser_manifest, event FROM "
        + keyspace + ".messages WHERE persistence_id = ? AND partition_nr = ?");
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

  @Override
  public CompletionStage<List<List<JournalEvent>>> read(List<String> persistenceIds) {
    List<CompletableFuture<List<JournalEvent>>> streams = new ArrayList<>();
    for (String id : persistenceIds) {
      List<JournalEvent> stream = new ArrayList<>();
      streams.add(readPartition(id, 0, stream).toCompletableFuture());
    }
    return CompletableFuture.allOf(streams.toArray(CompletableFuture[]::new))
        .thenApply(done -> streams.stream().map(CompletableFuture::join).toList());
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
        .thenCompose(rows -> {
          long lastInPartition = (partition + 1) * partitionSize;
          if (rows > 0 && stream.get(stream.size() - 1).sequenceNr() + maxBatch > lastInPartition) {
            return readPartition(id, partition + 1, stream);
          }
          return CompletableFuture.completedFuture(stream);
        })
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
      stream.add(decode(id, row));
    }
    int counted = rows;
    if (page.hasMorePages()) {
      return page.fetchNextPage().thenCompose(next -> collect(id, next, stream)).thenApply(more -> counted + more);
    }
    return CompletableFuture.completedFuture(counted);
  }

  private JournalEvent decode(String id, Row row) {
    long sequenceNr = row.getLong(0);
    UUID timestamp = row.getUuid(1);
    long writtenAt = timestamp != null && timestamp.version() == 1 ? Uuids.unixTimestamp(timestamp) : 0;
    try {
      ByteBuffer buffer = row.getByteBuffer(4);
      byte[] bytes = new byte[buffer == null ? 0 : buffer.remaining()];
      if (buffer != null) {
        buffer.get(bytes);
      }
      Object payload = serialization.deserialize(bytes, row.getInt(2), row.getString(3)).get();
      return JournalEvent.of(id, sequenceNr, payload, writtenAt);
    } catch (Exception e) {
      return JournalEvent.unreadable(id, sequenceNr, e.getMessage());
    }
  }
}
