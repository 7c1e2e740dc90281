package net.certmail.persistence.inbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import net.certmail.persistence.GroupCommitWriter;
import net.certmail.persistence.GroupCommitDatabase;
import org.apache.pekko.Done;

/**
 * The inbox index in an H2 (JDBC) database, by default the embedded journal's: the primary key
 * (mailbox, label) is the index a page is read from. Counts the queries it makes and the rows it
 * reads, so that tests can check a page's cost. JDBC blocks: statements run on its own threads;
 * additions are committed in groups (GroupCommitWriter).
 */
public final class JdbcInboxIndex implements InboxIndex, AutoCloseable {
  private static final String CREATE_TABLE = """
      CREATE TABLE IF NOT EXISTS PUBLIC."inbox_index" (
        "mailbox" VARCHAR(255) NOT NULL,
        "label" VARCHAR(255) NOT NULL,
        PRIMARY KEY ("mailbox", "label"))""";
  private static final String MERGE = "MERGE INTO PUBLIC.\"inbox_index\" (\"mailbox\", \"label\")"
      + " KEY (\"mailbox\", \"label\") VALUES (?, ?)";
  private static final String PAGE = "SELECT \"label\" FROM PUBLIC.\"inbox_index\" WHERE \"mailbox\" = ? AND \"label\" > ?"
      + " ORDER BY \"label\" LIMIT ?";

  private final GroupCommitDatabase database;
  private final DataSource pool;
  private final GroupCommitWriter writer;
  /** Whether close() closes the database too (opened by this index, not shared). */
  private final boolean ownsDatabase;
  private final ExecutorService executor;
  private final AtomicLong queries = new AtomicLong();
  private final AtomicLong rowsRead = new AtomicLong();

  private JdbcInboxIndex(GroupCommitDatabase database, boolean ownsDatabase, ExecutorService executor) {
    this.database = database;
    this.pool = database.pool();
    this.writer = database.writer();
    this.ownsDatabase = ownsDatabase;
    this.executor = executor;
  }

  /** Opens the index committing each addition as soon as it can (no minimum commit interval). */
  public static JdbcInboxIndex open(String url, String user, String password) {
    GroupCommitDatabase database = GroupCommitDatabase.open(url, user, password, "certmail-inbox-index", 0);
    try {
      return on(database, true);
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
  }

  /**
   * The index on a database it shares (with the reminder store: one writer, one commit for both);
   * creates the table if missing (blocking: call at start-up). Closing the index leaves the
   * database open.
   */
  public static JdbcInboxIndex on(GroupCommitDatabase database) {
    return on(database, false);
  }

  private static JdbcInboxIndex on(GroupCommitDatabase database, boolean ownsDatabase) {
    try (Connection connection = database.pool().getConnection(); Statement statement = connection.createStatement()) {
      statement.execute(CREATE_TABLE);
    } catch (SQLException e) {
      throw new IllegalStateException("Could not create the inbox index: " + e.getMessage()
          + ". Check that the journal's database is writable.", e);
    }
    return new JdbcInboxIndex(database, ownsDatabase, Executors.newSingleThreadExecutor(runnable -> {
      Thread thread = new Thread(runnable, "certmail-inbox-index");
      thread.setDaemon(true);
      return thread;
    }));
  }

  @Override
  public CompletionStage<Done> add(String mailbox, String label) {
    return writer.write(MERGE, statement -> {
      statement.setString(1, mailbox);
      statement.setString(2, label);
    });
  }

  @Override
  public CompletionStage<List<String>> page(String mailbox, String after, int limit) {
    return CompletableFuture.supplyAsync(() -> {
      try (Connection connection = pool.getConnection(); PreparedStatement statement = connection.prepareStatement(PAGE)) {
        statement.setString(1, mailbox);
        statement.setString(2, after);
        statement.setInt(3, limit);
        queries.incrementAndGet();
        List<String> labels = new ArrayList<>();
        try (ResultSet rows = statement.executeQuery()) {
          while (rows.next()) {
            labels.add(rows.getString(1));
          }
        }
        rowsRead.addAndGet(labels.size());
        return labels;
      } catch (SQLException e) {
        throw new IllegalStateException("inbox index: " + e.getMessage(), e);
      }
    }, executor);
  }

  /** Page queries made so far. */
  public long queries() {
    return queries.get();
  }

  /** Rows returned by page queries so far. */
  public long rowsRead() {
    return rowsRead.get();
  }

  @Override
  public void close() {
    executor.shutdown();
    if (ownsDatabase) {
      database.close();
    }
  }
}
