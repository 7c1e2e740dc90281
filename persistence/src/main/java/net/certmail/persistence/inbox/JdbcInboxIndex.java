package net.certmail.persistence.inbox;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
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
import net.certmail.persistence.GroupCommitWriter;
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

  private final HikariDataSource pool;
  private final ExecutorService executor;
  private final GroupCommitWriter writer;
  private final AtomicLong queries = new AtomicLong();
  private final AtomicLong rowsRead = new AtomicLong();

  private JdbcInboxIndex(HikariDataSource pool, ExecutorService executor, long minCommitIntervalMillis) {
    this.pool = pool;
    this.executor = executor;
    this.writer = new GroupCommitWriter(pool, "certmail-inbox-index-writer", minCommitIntervalMillis);
  }

  /** Opens the index committing each addition as soon as it can (no minimum commit interval). */
  public static JdbcInboxIndex open(String url, String user, String password) {
    return open(url, user, password, 0);
  }

  /**
   * Opens the database and creates the table if missing (blocking: call at start-up).
   *
   * @param minCommitIntervalMillis a commit starts no sooner than this after the one before
   *     (GroupCommitWriter; certmail.journal.embedded.min-commit-interval)
   */
  public static JdbcInboxIndex open(String url, String user, String password, long minCommitIntervalMillis) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(2);
    config.setPoolName("certmail-inbox-index");
    config.setConnectionTimeout(10_000);
    HikariDataSource pool = new HikariDataSource(config);
    try (Connection connection = pool.getConnection(); Statement statement = connection.createStatement()) {
      statement.execute(CREATE_TABLE);
    } catch (SQLException e) {
      pool.close();
      throw new IllegalStateException("Could not create the inbox index in " + url + ": " + e.getMessage(), e);
    }
    return new JdbcInboxIndex(pool, Executors.newSingleThreadExecutor(runnable -> {
      Thread thread = new Thread(runnable, "certmail-inbox-index");
      thread.setDaemon(true);
      return thread;
    }), minCommitIntervalMillis);
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
    writer.close();
    executor.shutdown();
    pool.close();
  }
}
