package net.certmail.persistence.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import net.certmail.persistence.EmbeddedJournalSchema;
import net.certmail.persistence.JournalBackend;
import net.certmail.persistence.testing.TestJournals;
import net.certmail.proto.v1.DutyEnded;
import net.certmail.proto.v1.ServerEvent;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded reader's pass over the table hands on each label with exactly the events a query
 * of that label's streams returns, whatever the interleaving of labels in the table, rows marked
 * deleted, rows of streams outside the audit, and however small its memory budget (labels
 * dropped from the buffer are read by a query of their own).
 */
class EmbeddedJournalReaderTest {
  private static final int LABELS = 12;
  private static final List<String> PRINCIPALS = List.of("alpha.example", "relay.example", "beta.example");

  @TempDir
  Path dir;

  private ActorTestKit kit;
  private ExecutorService reads;
  private final Map<String, List<String>> plan = new LinkedHashMap<>();

  @BeforeEach
  void writeInterleavedLabels() throws Exception {
    Path database = dir.resolve("journal").resolve("certmail");
    Config config = JournalBackend.EMBEDDED.config(ConfigFactory.empty()
        .withValue("certmail.journal.embedded.path", ConfigValueFactory.fromAnyRef(database.toString()))
        .withValue("certmail.journal.embedded.auto-server", ConfigValueFactory.fromAnyRef(false))
        .withFallback(TestJournals.testSettings()));
    kit = ActorTestKit.create("embedded-journal-reader", config);
    reads = Executors.newFixedThreadPool(2);
    EmbeddedJournalSchema.ensureCreated(kit.system());
    Config db = config.getConfig("pekko-persistence-jdbc.shared-databases.slick.db");
    Serialization serialization = SerializationExtension.get(kit.system());
    try (Connection connection = DriverManager.getConnection(db.getString("url"), "sa", db.getString("password"));
         PreparedStatement insert = connection.prepareStatement("INSERT INTO \"event_journal\" (\"persistence_id\","
             + " \"sequence_number\", \"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_payload\","
             + " \"event_ser_id\", \"event_ser_manifest\") VALUES (?, ?, 'test', ?, '', ?, ?, ?)")) {
      for (int label = 0; label < LABELS; label++) {
        List<String> ids = new ArrayList<>();
        for (String principal : PRINCIPALS) {
          ids.add(principal + "|alpha.example/L" + label);
        }
        plan.put("alpha.example/L" + label, ids);
      }
      // Mails in flight together: label k's streams are written between those of labels k-3..k+3,
      // and each stream's events far apart; label 5 has a stream of 40 events (long, late-ending).
      List<String[]> rows = new ArrayList<>();
      for (int label = 0; label < LABELS; label++) {
        for (int event = 1; event <= (label == 5 ? 40 : 3); event++) {
          for (String principal : PRINCIPALS) {
            if (label == 5 && event > 3 && !principal.equals("beta.example")) {
              continue;
            }
            rows.add(new String[] {principal + "|alpha.example/L" + label, Long.toString(event),
                Integer.toString(label * 10 + event * 7)});
          }
        }
      }
      rows.sort((a, b) -> Integer.compare(Integer.parseInt(a[2]), Integer.parseInt(b[2])));
      int written = 0;
      for (String[] row : rows) {
        ServerEvent event = ServerEvent.newBuilder().setDutyEnded(DutyEnded.newBuilder().setAtMillis(written)
            .setWhy("row " + written + " of " + row[0] + " " + "x".repeat(200))).build();
        Serializer serializer = serialization.findSerializerFor(event);
        insert.setString(1, row[0]);
        insert.setLong(2, Long.parseLong(row[1]));
        insert.setLong(3, 1_000 + written++);
        insert.setBytes(4, serializer.toBinary(event));
        insert.setInt(5, serializer.identifier());
        insert.setString(6, Serializers.manifestFor(serializer, event));
        insert.executeUpdate();
        if (written % 17 == 0) {
          // A stream of no certmail entity in between (cluster sharding's, say): not in the plan.
          insert.setString(1, "/sharding/someone");
          insert.setLong(2, written);
          insert.setBytes(4, new byte[] {1, 2, 3});
          insert.executeUpdate();
        }
      }
      // Rows marked deleted are left out, as the plugin's read journal leaves them out: one in the
      // middle of a stream, and the very last row of label 7.
      connection.createStatement().executeUpdate("UPDATE \"event_journal\" SET \"deleted\" = TRUE"
          + " WHERE \"persistence_id\" = 'relay.example|alpha.example/L2' AND \"sequence_number\" = 2");
      connection.createStatement().executeUpdate("UPDATE \"event_journal\" SET \"deleted\" = TRUE"
          + " WHERE \"persistence_id\" = 'beta.example|alpha.example/L7' AND \"sequence_number\" = 3");
    }
  }

  @AfterEach
  void stop() throws Exception {
    reads.shutdownNow();
    kit.shutdownTestKit();
    Path lock = dir.resolve("journal").resolve("certmail.lock.db");
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (Files.exists(lock) && System.nanoTime() < until) {
      Thread.sleep(100);
    }
  }

  @Test
  void thePassGivesEveryLabelWhatAQueryOfItsStreamsGives() throws Exception {
    Map<String, List<String>> byQuery = new TreeMap<>();
    try (EmbeddedJournalReader reader = new EmbeddedJournalReader(kit.system(), reads)) {
      assertEquals(LABELS * PRINCIPALS.size() + 1, reader.persistenceIds().size());
      for (Map.Entry<String, List<String>> label : plan.entrySet()) {
        byQuery.put(label.getKey(), describe(reader.read(label.getValue()).toCompletableFuture().get(30, TimeUnit.SECONDS)));
      }
    }
    assertEquals(List.of("relay.example|alpha.example/L2 #1", "relay.example|alpha.example/L2 #3"),
        byQuery.get("alpha.example/L2").subList(3, 5), "the deleted row is left out");
    assertEquals(46, byQuery.get("alpha.example/L5").size());

    // A budget large enough for every label, one that drops some held labels, and none at all.
    for (long budget : List.of(EmbeddedJournalReader.MAX_BUFFERED_BYTES, 2_000L, 0L)) {
      try (EmbeddedJournalReader reader = new EmbeddedJournalReader(kit.system(), reads, budget)) {
        reader.persistenceIds();
        List<JournalReader.LabelStreams> read = reader.labels(plan).runWith(Sink.seq(), kit.system())
            .toCompletableFuture().get(60, TimeUnit.SECONDS);
        Map<String, List<String>> byPass = new TreeMap<>();
        for (JournalReader.LabelStreams label : read) {
          assertEquals(PRINCIPALS.size(), label.streams().size(), "one list per stream of the plan");
          byPass.put(label.label(), describe(label.streams()));
        }
        assertEquals(LABELS, read.size(), "each label once, budget " + budget);
        assertEquals(byQuery, byPass, "budget " + budget);
      }
    }
  }

  @Test
  void labelsAreHandedOnBeforeThePassEnds() throws Exception {
    try (EmbeddedJournalReader reader = new EmbeddedJournalReader(kit.system(), reads)) {
      reader.persistenceIds();
      List<String> order = reader.labels(plan).map(JournalReader.LabelStreams::label).runWith(Sink.seq(), kit.system())
          .toCompletableFuture().get(60, TimeUnit.SECONDS);
      // Label 5's long stream ends after every other label's last row: it comes last, the others as they end.
      assertEquals("alpha.example/L5", order.get(order.size() - 1), order.toString());
      assertTrue(order.indexOf("alpha.example/L0") < order.indexOf("alpha.example/L11"), order.toString());
    }
  }

  private static List<String> describe(List<List<JournalEvent>> streams) {
    List<String> events = new ArrayList<>();
    for (List<JournalEvent> stream : streams) {
      for (JournalEvent event : stream) {
        assertTrue(event.event() != null, event.name());
        events.add(event.persistenceId() + " #" + event.sequenceNr());
      }
    }
    return events;
  }
}
