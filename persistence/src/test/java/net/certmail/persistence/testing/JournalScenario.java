package net.certmail.persistence.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery;
import org.apache.pekko.persistence.query.javadsl.ReadJournal;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The steps the journal tests are made of: write through a {@link TextLog} entity, recover it,
 * read the journal with Pekko Persistence Query. Same steps for every backend.
 */
public final class JournalScenario {

  /** Generous: the first request of a fresh Cassandra plugin connects, creates and prepares. */
  public static final Duration TIMEOUT = Duration.ofSeconds(30);

  private JournalScenario() {}

  /**
   * Spawns the entity, appends the lines one after the other (each after the previous one was
   * acknowledged), stops the entity and returns the acknowledged sequence numbers.
   */
  public static List<Long> append(ActorTestKit kit, String persistenceId, List<String> lines) {
    ActorRef<TextLog.Command> log = kit.spawn(TextLog.create(persistenceId));
    TestProbe<Long> acks = kit.createTestProbe(Long.class);
    List<Long> sequenceNrs = new ArrayList<>();
    for (String line : lines) {
      log.tell(new TextLog.Append(line, acks.ref()));
      sequenceNrs.add(acks.expectMessageClass(Long.class, TIMEOUT));
    }
    kit.stop(log, TIMEOUT);
    return sequenceNrs;
  }

  /**
   * Like {@link #append}, one write per list of lines (several events in one persist); returns
   * the acknowledged sequence number of each write's last event.
   */
  public static List<Long> appendWrites(ActorTestKit kit, String persistenceId, List<List<String>> writes) {
    ActorRef<TextLog.Command> log = kit.spawn(TextLog.create(persistenceId));
    TestProbe<Long> acks = kit.createTestProbe(Long.class);
    List<Long> sequenceNrs = new ArrayList<>();
    for (List<String> lines : writes) {
      log.tell(new TextLog.AppendAll(lines, acks.ref()));
      sequenceNrs.add(acks.expectMessageClass(Long.class, TIMEOUT));
    }
    kit.stop(log, TIMEOUT);
    return sequenceNrs;
  }

  /** Spawns the entity (recovering it from the journal) and returns its lines. */
  public static List<String> recover(ActorTestKit kit, String persistenceId) {
    ActorRef<TextLog.Command> log = kit.spawn(TextLog.create(persistenceId));
    TestProbe<TextLog.Texts> probe = kit.createTestProbe(TextLog.Texts.class);
    log.tell(new TextLog.Read(probe.ref()));
    List<String> lines = probe.expectMessageClass(TextLog.Texts.class, TIMEOUT).lines();
    kit.stop(log, TIMEOUT);
    return lines;
  }

  /** currentPersistenceIds of the read journal with the given plugin id. */
  public static List<String> currentPersistenceIds(ActorSystem<?> system, String readJournalPluginId) {
    CurrentPersistenceIdsQuery query = (CurrentPersistenceIdsQuery) readJournal(system, readJournalPluginId);
    return await(query.currentPersistenceIds().runWith(Sink.seq(), system).toCompletableFuture());
  }

  /** currentEventsByPersistenceId over all sequence numbers. */
  public static List<EventEnvelope> currentEvents(ActorSystem<?> system, String readJournalPluginId,
      String persistenceId) {
    CurrentEventsByPersistenceIdQuery query =
        (CurrentEventsByPersistenceIdQuery) readJournal(system, readJournalPluginId);
    return await(query.currentEventsByPersistenceId(persistenceId, 0L, Long.MAX_VALUE)
        .runWith(Sink.seq(), system).toCompletableFuture());
  }

  /** The text of an envelope's event, failing if it is not a TextLog event. */
  public static String text(EventEnvelope envelope) {
    if (envelope.event() instanceof TextLog.Appended appended) {
      return appended.text();
    }
    throw new AssertionError("Not a TextLog event: " + envelope.event());
  }

  private static ReadJournal readJournal(ActorSystem<?> system, String readJournalPluginId) {
    return PersistenceQuery.get(system).getReadJournalFor(ReadJournal.class, readJournalPluginId);
  }

  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("Journal query did not complete within " + TIMEOUT.toSeconds() + " s", e);
    } catch (ExecutionException e) {
      throw new AssertionError("Journal query failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("Interrupted while waiting for a journal query", e);
    }
  }
}
