package net.certmail.persistence;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.jdbc.config.EventJournalTableColumnNames;
import org.apache.pekko.persistence.jdbc.config.EventJournalTableConfiguration;
import org.apache.pekko.persistence.jdbc.config.JournalConfig;
import org.apache.pekko.persistence.jdbc.journal.dao.DefaultJournalDao;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalDao;
import org.apache.pekko.persistence.journal.Tagged;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
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
import scala.util.Failure;
import scala.util.Success;
import scala.util.Try;
import slick.jdbc.JdbcBackend;
import slick.jdbc.JdbcProfile;

/**
 * pekko-persistence-jdbc's journal DAO with the inserts handed to the node's one writer on the
 * journal's database ({@link EmbeddedJournalDatabase}): the events of every entity and the reminder
 * and inbox index rows queued within {@code certmail.journal.embedded.min-commit-interval} share one
 * H2 commit. A write arriving after a quiet interval is committed at once. The plugin's own batching
 * only gathers writes that queue while an insert runs, and on this machine an insert rarely ran long
 * enough for that: a busy node made a commit, a 12-32 KB H2 chunk, per event; then, with inserts
 * grouped here but committed apart from the side tables' rows, two per interval (issue 12).
 *
 * <p>The rows are the plugin's own (its serialization, its columns, from its table settings), so the
 * plugin reads them back as it wrote them. The events of one call (one entity's persist) are stored
 * all or none, as the plugin's transaction did, and each call's result is its own: a group the
 * writer cannot commit is tried again call by call, so a failing insert fails only its entity's
 * persist. An event that cannot be serialized is rejected (the entity goes on), as by the plugin.
 * Events with tags (certmail tags none) go to the plugin's own insert. Reads and deletes go straight
 * to the plugin's DAO. Set as {@code jdbc-journal.dao} by certmail-journal-embedded.conf.
 */
public final class GroupingJournalDao implements JournalDao {
  private final DefaultJournalDao plugin;
  private final Serialization serialization;
  private final GroupCommitWriter writer;
  private final String insert;

  /** The constructor pekko-persistence-jdbc calls for {@code jdbc-journal.dao}. */
  public GroupingJournalDao(JdbcBackend.JdbcDatabaseDef db, JdbcProfile profile, JournalConfig journalConfig,
                            Serialization serialization, ExecutionContext ec, Materializer materializer) {
    this.plugin = new DefaultJournalDao(db, profile, journalConfig, serialization, ec, materializer);
    this.serialization = serialization;
    this.writer = EmbeddedJournalDatabase.get(Adapter.toTyped(materializer.system())).database().writer();
    this.insert = insertStatement(journalConfig.eventJournalTableConfiguration());
  }

  /** The plugin's insert, every column but the generated "ordering", names quoted as its H2 profile does. */
  static String insertStatement(EventJournalTableConfiguration table) {
    EventJournalTableColumnNames columns = table.columnNames();
    List<String> names = List.of(columns.deleted(), columns.persistenceId(), columns.sequenceNumber(),
        columns.writer(), columns.writeTimestamp(), columns.adapterManifest(), columns.eventPayload(),
        columns.eventSerId(), columns.eventSerManifest(), columns.metaPayload(), columns.metaSerId(),
        columns.metaSerManifest());
    String schema = table.schemaName().isDefined() ? quoted(table.schemaName().get()) + "." : "";
    return "INSERT INTO " + schema + quoted(table.tableName()) + " ("
        + String.join(", ", names.stream().map(GroupingJournalDao::quoted).toList()) + ") VALUES ("
        + String.join(", ", names.stream().map(name -> "?").toList()) + ")";
  }

  private static String quoted(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }

  @Override
  public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
    List<AtomicWrite> writes = CollectionConverters.asJava(messages);
    if (writes.stream().anyMatch(GroupingJournalDao::tagged)) {
      return plugin.asyncWriteMessages(messages);
    }
    List<GroupCommitWriter.Change> rows = new ArrayList<>();
    List<Try<BoxedUnit>> results = new ArrayList<>(writes.size());
    boolean rejected = false;
    for (AtomicWrite write : writes) {
      try {
        List<GroupCommitWriter.Change> these = new ArrayList<>();
        for (PersistentRepr event : CollectionConverters.asJava(write.payload())) {
          these.add(row(event));
        }
        rows.addAll(these);
        results.add(new Success<>(BoxedUnit.UNIT));
      } catch (Exception e) { // Pekko's serialization may throw NotSerializableException undeclared
        results.add(new Failure<>(e)); // not serializable: rejected, the entity goes on
        rejected = true;
      }
    }
    // AsyncWriteJournal's contract: no results when every write succeeded, else one per write.
    Seq<Try<BoxedUnit>> outcome = rejected ? CollectionConverters.asScala(results).toList()
        : CollectionConverters.asScala(List.<Try<BoxedUnit>>of()).toList();
    CompletableFuture<Seq<Try<BoxedUnit>>> stored = new CompletableFuture<>();
    writer.write(rows).whenComplete((done, failure) -> {
      if (failure == null) {
        stored.complete(outcome);
      } else {
        stored.completeExceptionally(failure instanceof CompletionException wrapped && wrapped.getCause() != null
            ? wrapped.getCause() : failure);
      }
    });
    return FutureConverters.asScala(stored);
  }

  private static boolean tagged(AtomicWrite write) {
    return CollectionConverters.asJava(write.payload()).stream()
        .anyMatch(event -> event.payload() instanceof Tagged tagged && !tagged.tags().isEmpty());
  }

  /** The plugin's row for one event (PekkoSerialization.serialize; metadata that fails is left out, as there). */
  private GroupCommitWriter.Change row(PersistentRepr event) {
    Object payload = event.payload() instanceof Tagged tagged ? tagged.payload() : event.payload();
    Serialized data = serialize(payload);
    Serialized meta = null;
    if (event.metadata().isDefined()) {
      try {
        meta = serialize(event.metadata().get());
      } catch (Exception e) {
        meta = null;
      }
    }
    Serialized metadata = meta;
    return new GroupCommitWriter.Change(insert, statement -> {
      statement.setBoolean(1, event.deleted());
      statement.setString(2, event.persistenceId());
      statement.setLong(3, event.sequenceNr());
      statement.setString(4, event.writerUuid());
      statement.setLong(5, event.timestamp());
      statement.setString(6, event.manifest());
      statement.setBytes(7, data.bytes());
      statement.setInt(8, data.serializerId());
      statement.setString(9, data.manifest());
      if (metadata == null) {
        statement.setNull(10, java.sql.Types.BLOB);
        statement.setNull(11, java.sql.Types.INTEGER);
        statement.setNull(12, java.sql.Types.VARCHAR);
      } else {
        statement.setBytes(10, metadata.bytes());
        statement.setInt(11, metadata.serializerId());
        statement.setString(12, metadata.manifest());
      }
    });
  }

  private record Serialized(int serializerId, String manifest, byte[] bytes) {}

  private Serialized serialize(Object value) {
    Serializer serializer = serialization.findSerializerFor(value);
    String manifest = Serializers.manifestFor(serializer, value);
    Try<byte[]> bytes = serialization.serialize(value);
    if (bytes.isFailure()) {
      Throwable cause = bytes.failed().get();
      throw new IllegalArgumentException("Could not serialize " + value.getClass().getName() + ": " + cause.getMessage(),
          cause);
    }
    return new Serialized(serializer.identifier(), manifest, bytes.get());
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
