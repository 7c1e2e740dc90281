package net.certmail.persistence.audit;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Reads the embedded journal's table directly, read-only, with the same rows and serializer as
 * the plugin's read journal (events marked deleted are left out, as it leaves them out).
 *
 * <p>A whole journal is read in one pass over the table in the order its rows were written
 * (H2's row key), each row put to its label as it comes; a label is handed on as soon as the
 * pass has gone by its last row. The listing of the persistence ids notes where each stream
 * ends, so no label waits for the end of the table. A query per label instead (the former
 * reader) descended the primary-key index for every stream and then fetched each row from a
 * page shared with hundreds of other mails: on a 100,000-event journal a quarter of the
 * audit's CPU. Memory: the labels whose rows the pass is among (the mails that were in flight
 * together when they were written); past {@link #MAX_BUFFERED_BYTES} of them, the label that
 * ends last is dropped and read with a query of its own when the pass reaches its end. A few
 * labels ({@code --labels}) are read with a query each.
 */
final class EmbeddedJournalReader implements JournalReader {
  /** Stored event bytes held for labels the pass has not yet completed (decoded events take about as much again). */
  static final long MAX_BUFFERED_BYTES = 32L << 20;

  private final Serialization serialization;
  private final String url;
  private final String password;
  private final Executor executor;
  private final long maxBufferedBytes;
  private final BlockingQueue<Connection> connections = new LinkedBlockingQueue<>();
  /** Per persistence id, the row key of its last row: known once the ids are listed. */
  private final Map<String, Long> lastRowOf = new HashMap<>();

  EmbeddedJournalReader(ActorSystem<?> system, Executor executor) {
    this(system, executor, MAX_BUFFERED_BYTES);
  }

  EmbeddedJournalReader(ActorSystem<?> system, Executor executor, long maxBufferedBytes) {
    Config db = system.settings().config().getConfig("pekko-persistence-jdbc.shared-databases.slick.db");
    this.serialization = SerializationExtension.get(system);
    // Read-only: the audit changes nothing, and H2 then neither writes nor compacts the file when
    // the audit closes it (on a journal of 100,000 events, seconds of CPU at open and close). Within
    // a JVM that holds the database open already (bench journal), H2 shares that open database.
    // A 64 MiB page cache (H2's default is 16). Lazy execution: a query hands rows over as they
    // are read, rather than first collecting the whole result (in memory, then in a temporary file).
    this.url = db.getString("url") + ";ACCESS_MODE_DATA=r;CACHE_SIZE=65536;LAZY_QUERY_EXECUTION=1";
    this.password = db.getString("password");
    this.executor = executor;
    this.maxBufferedBytes = maxBufferedBytes;
  }

  /**
   * Every persistence id, in the order the streams began in the journal (the write order of
   * their first row), read from the primary-key index alone; notes where each stream ends.
   */
  @Override
  public List<String> persistenceIds() throws SQLException {
    Map<String, long[]> rows = new LinkedHashMap<>(); // id -> {first row, last row}
    Connection connection = connection();
    try (PreparedStatement select = connection.prepareStatement("SELECT \"persistence_id\", _ROWID_"
        + " FROM \"event_journal\" ORDER BY \"persistence_id\", \"sequence_number\"");
        ResultSet result = select.executeQuery()) {
      while (result.next()) {
        long row = result.getLong(2);
        long[] span = rows.computeIfAbsent(result.getString(1), id -> new long[] {row, row});
        span[0] = Math.min(span[0], row);
        span[1] = Math.max(span[1], row);
      }
    } finally {
      connections.add(connection);
    }
    List<String> ids = new ArrayList<>(rows.keySet());
    ids.sort(java.util.Comparator.comparingLong(id -> rows.get(id)[0]));
    synchronized (lastRowOf) {
      rows.forEach((id, span) -> lastRowOf.put(id, span[1]));
    }
    return ids;
  }

  @Override
  public Source<LabelStreams, NotUsed> labels(Map<String, List<String>> labels) {
    long streams = labels.values().stream().mapToLong(List::size).sum();
    boolean listed;
    synchronized (lastRowOf) {
      listed = !lastRowOf.isEmpty();
    }
    if (!listed || streams * 10 < lastRowOf.size()) {
      // A few labels of a large journal: a query each beats a pass over the whole table.
      return Source.from(new ArrayList<>(labels.entrySet()))
          .mapAsyncUnordered(4, entry -> read(entry.getValue())
              .thenApply(read -> new LabelStreams(entry.getKey(), read)));
    }
    Map<String, List<String>> plan = new LinkedHashMap<>(labels);
    // unfoldResource runs on Pekko's dispatcher for blocking IO and closes the pass however the stream ends.
    return Source.unfoldResource(() -> new Pass(plan), Pass::next, Pass::close);
  }

  @Override
  public CompletionStage<List<List<JournalEvent>>> read(List<String> persistenceIds) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return query(persistenceIds);
      } catch (SQLException e) {
        throw new IllegalStateException("cannot read the embedded journal: " + e.getMessage(), e);
      }
    }, executor);
  }

  /** One query for a few streams (a label's), in sequence-number order. */
  private List<List<JournalEvent>> query(List<String> persistenceIds) throws SQLException {
    if (persistenceIds.isEmpty()) {
      return List.of();
    }
    Map<String, List<JournalEvent>> streams = new LinkedHashMap<>();
    persistenceIds.forEach(id -> streams.put(id, new ArrayList<>()));
    String marks = String.join(",", Collections.nCopies(persistenceIds.size(), "?"));
    Connection connection = connection();
    try (PreparedStatement select = connection.prepareStatement("SELECT \"persistence_id\", \"sequence_number\","
        + " \"event_ser_id\", \"event_ser_manifest\", \"event_payload\", \"write_timestamp\" FROM \"event_journal\""
        + " WHERE \"persistence_id\" IN (" + marks + ") AND NOT \"deleted\""
        + " ORDER BY \"persistence_id\", \"sequence_number\"")) {
      for (int i = 0; i < persistenceIds.size(); i++) {
        select.setString(i + 1, persistenceIds.get(i));
      }
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          String id = rows.getString(1);
          streams.get(id).add(decode(id, rows.getLong(2), rows.getBytes(5), rows.getInt(3), rows.getString(4),
              rows.getLong(6)));
        }
      }
    } finally {
      connections.add(connection);
    }
    return List.copyOf(streams.values());
  }

  private JournalEvent decode(String id, long sequenceNr, byte[] payload, int serializerId, String manifest,
                              long writtenAt) {
    try {
      return JournalEvent.of(id, sequenceNr, serialization.deserialize(payload, serializerId, manifest).get(),
          writtenAt);
    } catch (Exception e) {
      return JournalEvent.unreadable(id, sequenceNr, e.getMessage());
    }
  }

  private Connection connection() throws SQLException {
    Connection pooled = connections.poll();
    return pooled != null ? pooled : DriverManager.getConnection(url, "sa", password);
  }

  @Override
  public void close() {
    for (Connection connection : connections) {
      try {
        connection.close();
      } catch (SQLException e) {
        // closing a read-only connection: nothing to lose
      }
    }
  }

  /**
   * One pass over the table in row-key order. A label is complete once the pass has read the
   * last row of each of its streams (as listed); rows of ids outside the plan are not decoded.
   */
  private final class Pass {
    private final Map<String, List<String>> plan;
    private final Map<String, String> labelOf = new HashMap<>();
    /** The plan's labels by the row key of their last row: the order in which they complete. */
    private final TreeMap<Long, String> byLastRow = new TreeMap<>();
    private final Map<String, Long> lastRowOfLabel = new HashMap<>();
    private final Map<String, Buffered> buffered = new HashMap<>();
    /** Labels dropped from the buffer: read by a query of their own when the pass completes them. */
    private final java.util.Set<String> dropped = new java.util.HashSet<>();
    private final ArrayDeque<LabelStreams> ready = new ArrayDeque<>();
    private final Connection connection;
    private final PreparedStatement select;
    private final ResultSet rows;
    private long bufferedBytes;
    private boolean exhausted;

    Pass(Map<String, List<String>> plan) throws SQLException {
      this.plan = plan;
      plan.forEach((label, ids) -> {
        long last = -1;
        for (String id : ids) {
          labelOf.put(id, label);
          synchronized (lastRowOf) {
            last = Math.max(last, lastRowOf.getOrDefault(id, -1L));
          }
        }
        lastRowOfLabel.put(label, last);
      });
      // A label without rows (its ids were listed, their rows since deleted) completes at once.
      lastRowOfLabel.forEach((label, last) -> {
        if (last < 0) {
          ready.add(streamsOf(label, new Buffered()));
        } else {
          byLastRow.put(last, label);
        }
      });
      this.connection = DriverManager.getConnection(url, "sa", password);
      this.select = connection.prepareStatement("SELECT _ROWID_, \"persistence_id\", \"sequence_number\","
          + " \"event_ser_id\", \"event_ser_manifest\", \"event_payload\", \"write_timestamp\" FROM \"event_journal\""
          + " WHERE NOT \"deleted\" ORDER BY _ROWID_");
      this.select.setFetchSize(1_000);
      this.rows = select.executeQuery();
    }

    Optional<LabelStreams> next() throws SQLException {
      while (ready.isEmpty() && !exhausted) {
        if (rows.next()) {
          take(rows.getLong(1), rows.getString(2));
        } else {
          exhausted = true;
          // Rows listed but gone by now (deleted while the audit ran): those labels end here.
          while (!byLastRow.isEmpty()) {
            complete(byLastRow.pollFirstEntry().getValue());
          }
        }
      }
      return Optional.ofNullable(ready.poll());
    }

    private void take(long row, String id) throws SQLException {
      String label = labelOf.get(id);
      Long lastRow = label == null ? null : lastRowOfLabel.get(label);
      if (lastRow != null && row <= lastRow && !dropped.contains(label)) {
        byte[] payload = rows.getBytes(6);
        JournalEvent event = decode(id, rows.getLong(3), payload, rows.getInt(4), rows.getString(5), rows.getLong(7));
        Buffered held = buffered.computeIfAbsent(label, l -> new Buffered());
        held.streams.computeIfAbsent(id, i -> new ArrayList<>()).add(event);
        held.bytes += payload.length;
        bufferedBytes += payload.length;
      }
      while (!byLastRow.isEmpty() && byLastRow.firstKey() <= row) {
        complete(byLastRow.pollFirstEntry().getValue());
      }
      // Over the budget: drop the held labels that complete last (they would hold memory longest).
      var latestFirst = byLastRow.descendingMap().values().iterator();
      while (bufferedBytes > maxBufferedBytes && latestFirst.hasNext()) {
        String latest = latestFirst.next();
        Buffered gone = buffered.remove(latest);
        if (gone != null) {
          dropped.add(latest);
          bufferedBytes -= gone.bytes;
        }
      }
    }

    private void complete(String label) throws SQLException {
      lastRowOfLabel.remove(label);
      if (dropped.remove(label)) {
        ready.add(new LabelStreams(label, query(plan.get(label))));
        return;
      }
      Buffered held = buffered.remove(label);
      if (held != null) {
        bufferedBytes -= held.bytes;
      }
      ready.add(streamsOf(label, held == null ? new Buffered() : held));
    }

    private LabelStreams streamsOf(String label, Buffered held) {
      List<List<JournalEvent>> streams = new ArrayList<>();
      for (String id : plan.get(label)) {
        streams.add(held.streams.getOrDefault(id, List.of()));
      }
      return new LabelStreams(label, streams);
    }

    void close() throws SQLException {
      try (connection; select; rows) {
        buffered.clear();
      }
    }
  }

  private static final class Buffered {
    final Map<String, List<JournalEvent>> streams = new HashMap<>();
    long bytes;
  }
}
