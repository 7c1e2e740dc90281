package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import net.certmail.persistence.testing.DurabilityWriterMain;
import net.certmail.persistence.testing.JournalScenario;
import net.certmail.persistence.testing.TestJournals;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The embedded journal loses no acknowledged event when its JVM dies: the proof that
 * ";WRITE_DELAY=0" is in effect. With H2's default write delay of 500 ms, events acknowledged in
 * the last half second before a crash were lost (measured: 38 of 10,000), and so does this test.
 *
 * A separate JVM ({@link DurabilityWriterMain}) writes, prints every acknowledgement and halts
 * right after the last one; this JVM then opens the same file and looks for each acknowledged event.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
class EmbeddedJournalDurabilityTest {

  private static final int ENTITIES = 10;
  private static final int EVENTS_PER_ENTITY = 40;

  private final Path directory = createTempDirectory();
  private final Path database = directory.resolve("journal");

  /** Opens the database only after the writer JVM is gone (first journal use is lazy). */
  @JUnit5TestKit
  private final ActorTestKit testKit = new JUnit5TestKitBuilder()
      .withName("durability-reader")
      .withCustomConfig(TestJournals.embedded(database))
      .build();

  @AfterAll
  void deleteDatabase() {
    testKit.shutdownTestKit();
    TestJournals.deleteRecursively(directory);
  }

  @Test
  void everyAcknowledgedEventSurvivesAHaltRightAfterItsAcknowledgement() throws Exception {
    Map<String, List<Long>> acknowledged = runWriterUntilItHalts();
    assertEquals(ENTITIES * EVENTS_PER_ENTITY, acknowledged.values().stream().mapToInt(List::size).sum(),
        "the writer should have printed one acknowledgement per event");

    String readJournal = JournalBackend.EMBEDDED.readJournalPluginId();
    for (Map.Entry<String, List<Long>> entity : acknowledged.entrySet()) {
      String persistenceId = entity.getKey();
      List<Long> expected = entity.getValue();
      List<EventEnvelope> stored = JournalScenario.currentEvents(testKit.system(), readJournal, persistenceId);
      List<Long> storedSequenceNrs = stored.stream().map(EventEnvelope::sequenceNr).toList();
      assertTrue(storedSequenceNrs.containsAll(expected), persistenceId + ": acknowledged " + expected.size()
          + " events but only " + stored.size() + " survived the crash: " + storedSequenceNrs);
      for (EventEnvelope envelope : stored) {
        assertEquals("event-" + envelope.sequenceNr(), JournalScenario.text(envelope),
            persistenceId + " event " + envelope.sequenceNr());
      }
    }

    // and the entities recover from the file to exactly what was acknowledged
    String anEntity = acknowledged.keySet().iterator().next();
    assertEquals(EVENTS_PER_ENTITY, JournalScenario.recover(testKit, anEntity).size());
  }

  /** Runs the writer JVM, waits for it to halt, returns the acknowledged sequence numbers per entity. */
  private Map<String, List<Long>> runWriterUntilItHalts() throws IOException, InterruptedException {
    Path stdout = directory.resolve("writer.out");
    Path stderr = directory.resolve("writer.err");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process writer = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        DurabilityWriterMain.class.getName(), database.toString(),
        String.valueOf(ENTITIES), String.valueOf(EVENTS_PER_ENTITY))
        .redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile())
        .start();
    if (!writer.waitFor(120, TimeUnit.SECONDS)) {
      writer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      fail("The writer JVM did not finish within 120 s. Its stderr:\n" + Files.readString(stderr));
    }
    assertEquals(DurabilityWriterMain.HALTED_AFTER_LAST_ACK, writer.exitValue(),
        "the writer JVM should halt right after its last acknowledgement. Its stderr:\n" + Files.readString(stderr));

    Map<String, List<Long>> acknowledged = new TreeMap<>();
    for (String line : Files.readAllLines(stdout)) {
      String[] parts = line.split(" ");
      if (parts.length == 3 && parts[0].equals("ACK")) {
        acknowledged.computeIfAbsent(parts[1], id -> new ArrayList<>()).add(Long.parseLong(parts[2]));
      }
    }
    return acknowledged;
  }

  private static Path createTempDirectory() {
    try {
      return Files.createTempDirectory("certmail-journal-durability-test");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
