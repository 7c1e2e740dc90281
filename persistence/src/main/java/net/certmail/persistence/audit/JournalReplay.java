package net.certmail.persistence.audit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery;
import org.apache.pekko.persistence.query.javadsl.ReadJournal;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Reads the journal through Pekko Persistence Query: {@code currentPersistenceIds} once, then
 * {@code currentEventsByPersistenceId} for the streams the audit asks for. Events come back
 * decoded by the serializer bound in the ActorSystem's configuration (CertmailEventSerializer);
 * a manifest it does not know fails the read with that id named, rather than being skipped.
 * Only the order within one persistence id is meaningful (the query gives none across ids).
 */
public final class JournalReplay implements JournalReader {

  /**
   * How far the audit has come.
   *
   * @param labels labels audited so far, of {@code labelsTotal}
   */
  public record Progress(long labels, long labelsTotal, long events, long violations) {}

  private final ActorSystem<?> system;
  private final CurrentPersistenceIdsQuery ids;
  private final CurrentEventsByPersistenceIdQuery events;

  /** @param readJournalPluginId e.g. {@code JournalBackend.EMBEDDED.readJournalPluginId()} */
  public JournalReplay(ActorSystem<?> system, String readJournalPluginId) {
    this.system = system;
    ReadJournal journal = PersistenceQuery.get(system).getReadJournalFor(ReadJournal.class, readJournalPluginId);
    if (!(journal instanceof CurrentPersistenceIdsQuery idsQuery)
        || !(journal instanceof CurrentEventsByPersistenceIdQuery eventsQuery)) {
      throw new IllegalStateException("read journal " + readJournalPluginId + " does not support"
          + " currentPersistenceIds and currentEventsByPersistenceId; configure the embedded or Cassandra journal");
    }
    this.ids = idsQuery;
    this.events = eventsQuery;
  }

  /** Every persistence id in the journal (only ids: a few dozen bytes each). */
  @Override
  public List<String> persistenceIds() {
    return await(ids.currentPersistenceIds().runWith(Sink.seq(), system), Duration.ofMinutes(30),
        "listing the persistence ids");
  }

  /** The events of some streams, each list in sequence-number order; read one stream after another. */
  @Override
  public CompletionStage<List<List<JournalEvent>>> read(List<String> persistenceIds) {
    return Source.from(persistenceIds)
        .mapAsync(1, this::read)
        .runWith(Sink.seq(), system);
  }

  /**
   * One stream. An event that cannot be decoded (a corrupt payload, a manifest of another
   * version) ends the stream there with an unreadable marker: the audit reports it and goes on.
   */
  private CompletionStage<List<JournalEvent>> read(String id) {
    List<JournalEvent> stream = new ArrayList<>();
    return events.currentEventsByPersistenceId(id, 0L, Long.MAX_VALUE)
        .runWith(Sink.foreach(envelope ->
            stream.add(JournalEvent.of(id, envelope.sequenceNr(), envelope.event(), envelope.timestamp()))), system)
        .handle((done, failure) -> {
          if (failure != null) {
            long next = stream.isEmpty() ? 1 : stream.get(stream.size() - 1).sequenceNr() + 1;
            stream.add(JournalEvent.unreadable(id, next, unwrap(failure).getMessage()));
          }
          return List.copyOf(stream);
        });
  }

  static <T> T await(CompletionStage<T> stage, Duration timeout, String what) {
    CompletableFuture<T> future = stage.toCompletableFuture();
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(what + " did not finish within " + timeout + "; is the journal reachable?"
          + " Try a longer --timeout", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while " + what, e);
    } catch (ExecutionException e) {
      Throwable cause = unwrap(e.getCause());
      throw new IllegalStateException(what + " failed: " + cause.getMessage()
          + "; check that the journal is reachable and holds certmail's tables (on Cassandra: that the keyspace"
          + " is the nodes' certmail.journal.cassandra.keyspace)", cause);
    }
  }

  static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }
}
