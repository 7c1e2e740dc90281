package net.certmail.persistence.audit;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;

/**
 * Reads the embedded journal's table directly: one query per label (the few streams of one
 * mail), not one read-journal query per persistence id, which costs ~10 ms each through
 * pekko-persistence-jdbc's read journal and bounded the audit at ~1,500 events/s. Read-only,
 * the same rows and the same serializer as the read journal (events marked deleted are left out,
 * as the read journal leaves them out).
 */
final class EmbeddedJournalReader implements JournalReader {
  private final Serialization serialization;
  private final String url;
  private final String password;
  private final Executor executor;
  private final BlockingQueue<Connection> connections = new LinkedBlockingQueue<>();

  EmbeddedJournalReader(ActorSystem<?> system, Executor executor) {
    Config db = system.settings().config().getConfig("pekko-persistence-jdbc.shared-databases.slick.db");
    this.serialization = SerializationExtension.get(system);
    // Read-only: the audit changes nothing, and H2 then neither writes nor compacts the file when
    // the audit closes it (on a journal of 100,000 events, seconds of CPU at open and close). Within
    // a JVM that holds the database open already (bench journal), H2 shares that open database.
    // A 64 MiB page cache (H2's default is 16): labels in flight share pages.
    this.url = db.getString("url") + ";ACCESS_MODE_DATA=r;CACHE_SIZE=65536";
    this.password = db.getString("password");
    this.executor = executor;
  }

  /**
   * Every persistence id, in the order the streams began in the journal (the write order of
   * their first event). The audit reads labels in this order, so one label's rows lie near the
   * previous label's in the file: read in label order, each label's rows sat in pages shared with
   * hundreds of other mails written at the same time, and H2 read each page again for each of them.
   */
  @Override
  public List<String> persistenceIds() throws SQLException {
    Map<String, Long> firstWritten = new LinkedHashMap<>();
    Connection connection = connection();
    // In the (persistence id, sequence number) index, which holds the row's "ordering" as well:
    // deduplicated here, as H2 sorts a DISTINCT of the whole table instead.
    try (PreparedStatement select = connection.prepareStatement("SELECT \"persistence_id\", \"ordering\""
        + " FROM \"event_journal\" ORDER BY \"persistence_id\", \"sequence_number\"");
        ResultSet rows = select.executeQuery()) {
      while (rows.next()) {
        firstWritten.merge(rows.getString(1), rows.getLong(2), Math::min);
      }
    } finally {
      connections.add(connection);
    }
    List<String> ids = new ArrayList<>(firstWritten.keySet());
    ids.sort(java.util.Comparator.comparing(firstWritten::get));
    return ids;
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

  private List<List<JournalEvent>> query(List<String> persistenceIds) throws SQLException {
    Map<String, List<JournalEvent>> streams = new LinkedHashMap<>();
    persistenceIds.forEach(id -> streams.put(id, new ArrayList<>()));
    String marks = String.join(",", java.util.Collections.nCopies(persistenceIds.size(), "?"));
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
          long sequenceNr = rows.getLong(2);
          JournalEvent event;
          try {
            Object payload = serialization.deserialize(rows.getBytes(5), rows.getInt(3), rows.getString(4)).get();
            event = JournalEvent.of(id, sequenceNr, payload, rows.getLong(6));
          } catch (Exception e) {
            event = JournalEvent.unreadable(id, sequenceNr, e.getMessage());
          }
          streams.get(id).add(event);
        }
      }
    } finally {
      connections.add(connection);
    }
    return List.copyOf(streams.values());
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
}
