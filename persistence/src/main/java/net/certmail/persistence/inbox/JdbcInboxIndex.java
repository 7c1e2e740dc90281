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
import org.apache.pekko.Done;

/**
 * The inbox index in an H2 (JDBC) database, by default the embedded journal's: the primary key
 * (mailbox, label) is the index a page is read from. Counts the queries it makes and the rows it
 * reads, so that tests can check a page's cost. JDBC blocks: statements run on its own thread.
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
  private final AtomicLong queries = new AtomicLong();
  private final AtomicLong rowsRead = new AtomicLong();

  private JdbcInboxIndex(HikariDataSource pool, ExecutorService executor) {
    this.pool = pool;
    this.executor = executor;
  }

  /** Opens the database and creates the table if missing (blocking: call at start-up). */
  public static JdbcInboxIndex open(String url, String user, String password) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(1);
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
    }));
  }

  @Override
  public CompletionStage<Done> add(String mailbox, String label) {
    return CompletableFuture.supplyAsync(() -> {
      try (Connection connection = pool.getConnection(); PreparedStatement statement = connection.prepareStatement(MERGE)) {
        statement.setString(1, mailbox);
        statement.setString(2, label);
        statement.executeUpdate();
        return Done.getInstance();
      } catch (SQLException e) {
        throw new IllegalStateException("inbox index: " + e.getMessage(), e);
      }
    }, executor);
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
    pool.close();
  }
}
