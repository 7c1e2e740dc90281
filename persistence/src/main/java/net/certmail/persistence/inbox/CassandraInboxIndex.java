package net.certmail.persistence.inbox;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;

/**
 * The inbox index in Cassandra, in the journal's keyspace: one partition per mailbox, clustered
 * by label, so a page is one slice of one partition. LOCAL_QUORUM, like the journal.
 */
public final class CassandraInboxIndex implements InboxIndex {
  /** The table, with KEYSPACE to be replaced. */
  public static final String SCHEMA = "CREATE TABLE IF NOT EXISTS KEYSPACE.inbox_index (mailbox text, label text,"
      + " PRIMARY KEY (mailbox, label))";
  public static final String TABLE = "inbox_index";

  private final CqlSession session;
  private final PreparedStatement insert;
  private final PreparedStatement page;

  private CassandraInboxIndex(CqlSession session, String keyspace) {
    this.session = session;
    this.insert = prepare("INSERT INTO " + keyspace + ".inbox_index (mailbox, label) VALUES (?, ?)");
    this.page = prepare("SELECT label FROM " + keyspace + ".inbox_index WHERE mailbox = ? AND label > ? LIMIT ?");
  }

  public static CassandraInboxIndex open(CqlSession session, String keyspace) {
    return new CassandraInboxIndex(session, keyspace);
  }

  public static void createTable(CqlSession session, String keyspace) {
    session.execute(SimpleStatement.newInstance(SCHEMA.replace("KEYSPACE", keyspace)).setTimeout(Duration.ofSeconds(60)));
  }

  private PreparedStatement prepare(String cql) {
    return session.prepare(SimpleStatement.newInstance(cql).setConsistencyLevel(DefaultConsistencyLevel.LOCAL_QUORUM));
  }

  @Override
  public CompletionStage<Done> add(String mailbox, String label) {
    return session.executeAsync(insert.bind(mailbox, label)).thenApply(done -> Done.getInstance());
  }

  @Override
  public CompletionStage<List<String>> page(String mailbox, String after, int limit) {
    return session.executeAsync(page.bind(mailbox, after, limit)).thenApply(result -> {
      List<String> labels = new ArrayList<>();
      for (Row row : result.currentPage()) {
        labels.add(row.getString(0));
      }
      return labels;
    });
  }
}
