package net.certmail.persistence.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigValueFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import net.certmail.persistence.testing.JournalScenario;
import net.certmail.persistence.testing.TestJournals;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The Cassandra reader hands on every label with exactly its own streams, each in order, however
 * the labels are batched into queries and the streams chunked: labels of one query are split
 * apart again, a stream that spans several partitions is read to its end, and a stream with no
 * rows is an empty list. Rows written by the plugin itself, into a keyspace of their own.
 */
@Tag("cassandra")
class CassandraJournalReaderTest {
  private static final int LABELS = 7;
  private static final List<String> PRINCIPALS = List.of("alpha.example", "relay.example", "beta.example");

  {
    TestJournals.requireRunningCassandra();
  }

  private final String keyspace = TestJournals.uniqueKeyspace("cm_reader");
  private ActorTestKit kit;
  /** Label to its persistence ids, and every stream's expected events as "id #n". */
  private final Map<String, List<String>> plan = new LinkedHashMap<>();
  private final Map<String, List<String>> expected = new TreeMap<>();

  @BeforeEach
  void writeLabels() {
    // Partitions of 5 sequence numbers: the long stream below spans three of them.
    kit = ActorTestKit.create("cassandra-journal-reader", TestJournals.cassandra(keyspace, keyspace + "_snapshot", true)
        .withValue("pekko.persistence.cassandra.journal.target-partition-size", ConfigValueFactory.fromAnyRef(5)));
    for (int label = 0; label < LABELS; label++) {
      List<String> ids = new ArrayList<>();
      for (String principal : PRINCIPALS) {
        String id = principal + "|alpha.example/L" + label;
        ids.add(id);
        int events = label == 3 && principal.equals("beta.example") ? 13 : label == 5 && principal.equals("relay.example")
            ? 0 : 2;
        List<String> lines = new ArrayList<>();
        List<String> described = new ArrayList<>();
        for (int n = 1; n <= events; n++) {
          lines.add("L" + label + " " + principal + " event " + n);
          described.add(id + " #" + n);
        }
        if (!lines.isEmpty()) {
          JournalScenario.append(kit, id, lines);
        }
        expected.put(id, described);
      }
      plan.put("alpha.example/L" + label, ids);
    }
  }

  @AfterEach
  void dropKeyspace() {
    kit.shutdownTestKit();
    TestJournals.dropKeyspaces(keyspace, keyspace + "_snapshot");
  }

  @Test
  void everyLabelGetsItsOwnStreamsWhateverTheBatchesAndChunks() throws Exception {
    // One label per query (no batching), batches that split the journal unevenly, one batch for
    // all; and chunks of 4 keys: a batch of 3 labels (9 streams) is read in three chunks.
    for (int[] sizes : new int[][] {{1, CassandraJournalReader.MAX_KEYS_PER_QUERY}, {3, 4},
        {CassandraJournalReader.LABELS_PER_QUERY, 4}, {LABELS, CassandraJournalReader.MAX_KEYS_PER_QUERY}}) {
      try (CassandraJournalReader reader = new CassandraJournalReader(kit.system(), sizes[0], sizes[1])) {
        assertEquals(LABELS * PRINCIPALS.size() - 1, reader.persistenceIds().size(),
            "every stream with an event is listed");
        List<JournalReader.LabelStreams> read = reader.labels(plan).runWith(Sink.seq(), kit.system())
            .toCompletableFuture().get(60, TimeUnit.SECONDS);
        assertEquals(LABELS, read.size(), "every label once");
        for (JournalReader.LabelStreams label : read) {
          List<String> ids = plan.get(label.label());
          assertEquals(ids.size(), label.streams().size(), label.label());
          for (int i = 0; i < ids.size(); i++) {
            assertEquals(expected.get(ids.get(i)), describe(label.streams().get(i)),
                "labels " + sizes[0] + " per query, " + sizes[1] + " keys: " + ids.get(i));
          }
        }
        List<String> all = plan.values().stream().flatMap(List::stream).toList();
        List<List<JournalEvent>> streams = reader.read(all).toCompletableFuture().get(60, TimeUnit.SECONDS);
        for (int i = 0; i < all.size(); i++) {
          assertEquals(expected.get(all.get(i)), describe(streams.get(i)), "read of all streams: " + all.get(i));
        }
      }
    }
  }

  /** The stream as "id #n" per event, checked to be the id's own (an event of another stream would show its id). */
  private static List<String> describe(List<JournalEvent> stream) {
    return stream.stream().map(event -> event.persistenceId() + " #" + event.sequenceNr()).toList();
  }
}
