package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.util.List;
import java.util.Set;
import net.certmail.persistence.testing.JournalScenario;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What every journal backend must do for certmail, run once per backend by its subclass
 * (EmbeddedJournalTest, CassandraJournalTest): keep events across ActorSystems, answer the queries
 * audits use, and store events with certmail's serializer, never Java serialization. A subclass
 * gives the configuration, prepares a writer (schema) and reads what was stored.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class JournalContract {
  /** The ActorSystem that recovers and queries; the writes happen in short-lived others. */
  ActorTestKit reader;

  abstract JournalBackend backend();

  abstract Config config();

  /** Run on each writer before it appends (the embedded journal creates its schema). */
  void prepare(ActorTestKit writer) {}

  /** The "serializer id/manifest" of each event stored for the persistence id, in order. */
  abstract List<String> storedSerializers(String persistenceId) throws Exception;

  /** Removes what the test wrote (a database directory, keyspaces), after every ActorSystem stopped. */
  abstract void cleanUp();

  /** The journal's streams, listed the way the audit and the reminder backfill list them. */
  abstract List<String> persistenceIds() throws Exception;

  @BeforeAll
  void startReader() {
    reader = ActorTestKit.create(backend().name().toLowerCase() + "-journal-reader", config());
  }

  @AfterAll
  void stopReader() {
    reader.shutdownTestKit();
    cleanUp();
  }

  ActorTestKit writer(String name) {
    ActorTestKit writer = ActorTestKit.create(name, config());
    prepare(writer);
    return writer;
  }

  @Test
  void eventsWrittenByOneActorSystemAreRecoveredAndQueriedByAFreshOne() throws Exception {
    List<String> lines = List.of("submitted", "cop-issued", "relayed", "relay-acknowledged",
        "notified", "cod-received", "rod-issued");
    ActorTestKit writer = writer("journal-writer");
    List<Long> acknowledged;
    try {
      acknowledged = JournalScenario.append(writer, "alpha.example|mail-1", lines);
      JournalScenario.append(writer, "alpha.example|mail-2", List.of("submitted"));
    } finally {
      writer.shutdownTestKit();
    }
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), acknowledged);

    // a fresh ActorSystem: the entity's state can only come from the journal
    assertEquals(lines, JournalScenario.recover(reader, "alpha.example|mail-1"));

    String readJournal = backend().readJournalPluginId();
    List<String> persistenceIds = persistenceIds();
    assertTrue(persistenceIds.containsAll(Set.of("alpha.example|mail-1", "alpha.example|mail-2")),
        "both entities expected among " + persistenceIds);
    List<EventEnvelope> events = JournalScenario.currentEvents(reader.system(), readJournal, "alpha.example|mail-1");
    assertEquals(lines, events.stream().map(JournalScenario::text).toList());
    assertEquals(acknowledged, events.stream().map(EventEnvelope::sequenceNr).toList());
  }

  @Test
  void eventsAreStoredWithTheBoundSerializerNotJavaSerialization() throws Exception {
    ActorTestKit writer = writer("journal-serializer-writer");
    try {
      JournalScenario.append(writer, "alpha.example|mail-3", List.of("one", "two", "three", "four", "five"));
    } finally {
      writer.shutdownTestKit();
    }
    assertEquals(List.of("7415001/text-log.appended.v1", "7415001/text-log.appended.v1",
        "7415001/text-log.appended.v1", "7415001/text-log.appended.v1", "7415001/text-log.appended.v1"),
        storedSerializers("alpha.example|mail-3"));
  }
}
