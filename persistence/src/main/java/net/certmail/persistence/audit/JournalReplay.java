package net.certmail.persistence.audit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery;
import org.apache.pekko.persistence.query.javadsl.ReadJournal;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Reads the whole journal through Pekko Persistence Query: {@code currentPersistenceIds}, then
 * {@code currentEventsByPersistenceId} for a few ids at a time. Events come back decoded by the
 * serializer bound in the ActorSystem's configuration (CertmailEventSerializer); a manifest it does
 * not know fails the replay with that id named, rather than being skipped.
 *
 * <p>Only the order within one persistence id is meaningful (the query gives no order across ids),
 * so the result is a list of per-id streams, each in sequence-number order.
 */
public final class JournalReplay {

  /** How far the replay has come: persistence ids finished and events read. */
  public record Progress(long persistenceIds, long events) {}

  private final ActorSystem<?> system;
  private final String readJournalPluginId;
  private final int parallelism;

  /**
   * @param readJournalPluginId e.g. {@code JournalBackend.EMBEDDED.readJournalPluginId()}
   * @param parallelism persistence ids read at once; 4-8 is where the embedded journal stops gaining
   */
  public JournalReplay(ActorSystem<?> system, String readJournalPluginId, int parallelism) {
    this.system = system;
    this.readJournalPluginId = readJournalPluginId;
    this.parallelism = parallelism;
  }

  /** Every persistence id's events, each list in sequence-number order. Blocks up to the timeout. */
  public List<List<JournalEvent>> readAll(Duration timeout, Consumer<Progress> progress) {
    ReadJournal journal = PersistenceQuery.get(system).getReadJournalFor(ReadJournal.class, readJournalPluginId);
    if (!(journal instanceof CurrentPersistenceIdsQuery ids)
        || !(journal instanceof CurrentEventsByPersistenceIdQuery events)) {
      throw new IllegalStateException("read journal " + readJournalPluginId + " does not support"
          + " currentPersistenceIds and currentEventsByPersistenceId; configure the embedded or Cassandra journal");
    }
    AtomicLong idsDone = new AtomicLong();
    AtomicLong eventsRead = new AtomicLong();
    List<List<JournalEvent>> streams = new ArrayList<>();
    CompletableFuture<?> done = ids.currentPersistenceIds()
        .mapAsyncUnordered(parallelism, id -> events.currentEventsByPersistenceId(id, 0L, Long.MAX_VALUE)
            .map(envelope -> {
              eventsRead.incrementAndGet();
              return JournalEvent.of(id, envelope.sequenceNr(), envelope.event());
            })
            .runWith(Sink.seq(), system)
            .exceptionally(failure -> {
              throw new JournalUnreadableException(id, unwrap(failure));
            }))
        .runWith(Sink.foreach(stream -> {
          synchronized (streams) {
            streams.add(stream);
          }
          progress.accept(new Progress(idsDone.incrementAndGet(), eventsRead.get()));
        }), system)
        .toCompletableFuture();
    try {
      done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("the journal replay did not finish within " + timeout + " (" + idsDone.get()
          + " persistence ids, " + eventsRead.get() + " events so far); is the journal reachable? Try a longer"
          + " --timeout", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while replaying the journal", e);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = unwrap(e.getCause());
      if (cause instanceof JournalUnreadableException unreadable) {
        throw unreadable;
      }
      throw new IllegalStateException("the journal replay failed: " + cause.getMessage()
          + "; check that the journal is reachable and its tables exist", cause);
    }
    synchronized (streams) {
      return List.copyOf(streams);
    }
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  /** A persistence id whose events cannot be read or decoded: the audit cannot vouch for the journal. */
  public static final class JournalUnreadableException extends RuntimeException {
    private final String persistenceId;

    JournalUnreadableException(String persistenceId, Throwable cause) {
      super("cannot read the events of " + persistenceId + ": " + cause.getMessage()
          + " (an unknown manifest means the journal was written by another certmail version: audit it with"
          + " that version; a corrupt payload means the journal was altered)", cause);
      this.persistenceId = persistenceId;
    }

    public String persistenceId() {
      return persistenceId;
    }
  }
}
