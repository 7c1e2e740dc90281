package net.certmail.persistence.reminders;

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
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import net.certmail.persistence.GroupCommitWriter;
import net.certmail.persistence.GroupCommitDatabase;
import org.apache.pekko.Done;

/**
 * Reminders in an H2 (or other JDBC) database: by default the embedded journal's own file, so a
 * single machine needs no second database. The primary key (organisation, bucket, due_at,
 * entity_type, entity_id) is also the scan's index: a scan is a range over the organisation's
 * due buckets, in due order, and reads no row that is not due.
 *
 * <p>JDBC blocks: every statement runs on this store's own threads, never on an actor's. Writes
 * and deletes are committed in groups (GroupCommitWriter): one H2 commit for all that queued up.
 */
public final class JdbcReminderStore implements ReminderStore {
  static final String CREATE_TABLE = """
      CREATE TABLE IF NOT EXISTS PUBLIC."reminders" (
        "organisation" VARCHAR(255) NOT NULL,
        "bucket" BIGINT NOT NULL,
        "due_at" BIGINT NOT NULL,
        "entity_type" VARCHAR(255) NOT NULL,
        "entity_id" VARCHAR(1024) NOT NULL,
        PRIMARY KEY ("organisation", "bucket", "due_at", "entity_type", "entity_id"))""";
  /** One marker row per organisation whose rows were backfilled from its journal (ReminderBackfill). */
  static final String CREATE_BACKFILLS = """
      CREATE TABLE IF NOT EXISTS PUBLIC."reminder_backfills" (
        "organisation" VARCHAR(255) NOT NULL PRIMARY KEY,
        "backfilled_at" BIGINT NOT NULL)""";
  private static final String MARK_BACKFILLED = "MERGE INTO PUBLIC.\"reminder_backfills\" (\"organisation\","
      + " \"backfilled_at\") KEY (\"organisation\") VALUES (?, ?)";
  private static final String BACKFILLED = "SELECT COUNT(*) FROM PUBLIC.\"reminder_backfills\" WHERE \"organisation\" = ?";
  private static final String MERGE = "MERGE INTO PUBLIC.\"reminders\" (\"organisation\", \"bucket\", \"due_at\","
      + " \"entity_type\", \"entity_id\") KEY (\"organisation\", \"bucket\", \"due_at\", \"entity_type\", \"entity_id\")"
      + " VALUES (?, ?, ?, ?, ?)";
  private static final String DELETE = "DELETE FROM PUBLIC.\"reminders\" WHERE \"organisation\" = ? AND \"bucket\" = ?"
      + " AND \"due_at\" = ? AND \"entity_type\" = ? AND \"entity_id\" = ?";
  private static final String DUE = "SELECT \"entity_type\", \"entity_id\", \"due_at\" FROM PUBLIC.\"reminders\""
      + " WHERE \"organisation\" = ? AND \"bucket\" >= ? AND \"bucket\" <= ? AND \"due_at\" > ? AND \"due_at\" <= ?"
      + " ORDER BY \"bucket\", \"due_at\" LIMIT ?";
  private static final String COUNT = "SELECT COUNT(*) FROM PUBLIC.\"reminders\" WHERE \"organisation\" = ?"
      + " AND \"due_at\" > ?";

  private final GroupCommitDatabase database;
  private final DataSource pool;
  private final GroupCommitWriter writer;
  /** Whether close() closes the database too (opened by this store, not shared). */
  private final boolean ownsDatabase;
  private final ExecutorService executor;
  private final long bucketMillis;

  private JdbcReminderStore(GroupCommitDatabase database, boolean ownsDatabase, ExecutorService executor,
                            long bucketMillis) {
    this.database = database;
    this.pool = database.pool();
    this.writer = database.writer();
    this.ownsDatabase = ownsDatabase;
    this.executor = executor;
    this.bucketMillis = bucketMillis;
  }

  /** Opens the store committing each write as soon as it can (no minimum commit interval). */
  public static JdbcReminderStore open(String url, String user, String password, long bucketMillis) {
    GroupCommitDatabase database = GroupCommitDatabase.open(url, user, password, "certmail-reminders", 0);
    try {
      return on(database, bucketMillis, true);
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
  }

  /**
   * The store on a database it shares (with the inbox index: one writer, one commit for both);
   * creates the tables if they are missing (blocking: call at start-up). Closing the store leaves
   * the database open.
   *
   * @throws IllegalStateException when the tables cannot be created; the message says what to check
   */
  public static JdbcReminderStore on(GroupCommitDatabase database, long bucketMillis) {
    return on(database, bucketMillis, false);
  }

  private static JdbcReminderStore on(GroupCommitDatabase database, long bucketMillis, boolean ownsDatabase) {
    try (Connection connection = database.pool().getConnection(); Statement statement = connection.createStatement()) {
      statement.execute(CREATE_TABLE);
      statement.execute(CREATE_BACKFILLS);
    } catch (SQLException e) {
      throw new IllegalStateException("Could not create the reminders table: " + e.getMessage()
          + ". Check that the journal's database is writable.", e);
    }
    AtomicInteger threads = new AtomicInteger();
    ExecutorService executor = Executors.newFixedThreadPool(2, runnable -> {
      Thread thread = new Thread(runnable, "certmail-reminders-" + threads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    return new JdbcReminderStore(database, ownsDatabase, executor, bucketMillis);
  }

  @Override
  public long bucketMillis() {
    return bucketMillis;
  }

  @Override
  public CompletionStage<Done> write(Reminder reminder) {
    return update(MERGE, reminder);
  }

  @Override
  public CompletionStage<Done> delete(Reminder reminder) {
    return update(DELETE, reminder);
  }

  /** In one transaction: a moved duty is never without its row, not even for a moment. */
  @Override
  public CompletionStage<Done> replace(List<Reminder> writes, List<Reminder> deletes) {
    List<GroupCommitWriter.Change> changes = new ArrayList<>(writes.size() + deletes.size());
    writes.forEach(reminder -> changes.add(change(MERGE, reminder)));
    deletes.forEach(reminder -> changes.add(change(DELETE, reminder)));
    return writer.write(changes);
  }

  private CompletionStage<Done> update(String sql, Reminder reminder) {
    return writer.write(List.of(change(sql, reminder)));
  }

  private GroupCommitWriter.Change change(String sql, Reminder reminder) {
    return new GroupCommitWriter.Change(sql, statement -> {
      statement.setString(1, reminder.organisation());
      statement.setLong(2, bucketOf(reminder.dueAt()));
      statement.setLong(3, reminder.dueAt());
      statement.setString(4, reminder.entityType());
      statement.setString(5, reminder.entityId());
    });
  }

  @Override
  public CompletionStage<List<Reminder>> dueBetween(String organisation, long after, long upTo, int limit) {
    return CompletableFuture.supplyAsync(() -> {
      try (Connection connection = pool.getConnection(); PreparedStatement statement = connection.prepareStatement(DUE)) {
        statement.setString(1, organisation);
        statement.setLong(2, bucketOf(after));
        statement.setLong(3, bucketOf(upTo));
        statement.setLong(4, after);
        statement.setLong(5, upTo);
        statement.setInt(6, limit);
        List<Reminder> due = new ArrayList<>();
        try (ResultSet rows = statement.executeQuery()) {
          while (rows.next()) {
            due.add(new Reminder(organisation, rows.getString(1), rows.getString(2), rows.getLong(3)));
          }
        }
        return due;
      } catch (SQLException e) {
        throw new IllegalStateException("reminder store: " + e.getMessage(), e);
      }
    }, executor);
  }

  @Override
  public CompletionStage<Long> count(String organisation, long after) {
    return CompletableFuture.supplyAsync(() -> {
      try (Connection connection = pool.getConnection(); PreparedStatement statement = connection.prepareStatement(COUNT)) {
        statement.setString(1, organisation);
        statement.setLong(2, after);
        try (ResultSet rows = statement.executeQuery()) {
          rows.next();
          return rows.getLong(1);
        }
      } catch (SQLException e) {
        throw new IllegalStateException("reminder store: " + e.getMessage(), e);
      }
    }, executor);
  }

  @Override
  public CompletionStage<Boolean> backfilled(String organisation) {
    return CompletableFuture.supplyAsync(() -> {
      try (Connection connection = pool.getConnection();
           PreparedStatement statement = connection.prepareStatement(BACKFILLED)) {
        statement.setString(1, organisation);
        try (ResultSet rows = statement.executeQuery()) {
          rows.next();
          return rows.getLong(1) > 0;
        }
      } catch (SQLException e) {
        throw new IllegalStateException("reminder store: " + e.getMessage(), e);
      }
    }, executor);
  }

  @Override
  public CompletionStage<Done> markBackfilled(String organisation, long atMillis) {
    return CompletableFuture.supplyAsync(() -> {
      try (Connection connection = pool.getConnection();
           PreparedStatement statement = connection.prepareStatement(MARK_BACKFILLED)) {
        statement.setString(1, organisation);
        statement.setLong(2, atMillis);
        statement.executeUpdate();
        return Done.getInstance();
      } catch (SQLException e) {
        throw new IllegalStateException("reminder store: " + e.getMessage(), e);
      }
    }, executor);
  }

  @Override
  public void close() {
    executor.shutdown();
    if (ownsDatabase) {
      database.close();
    }
  }
}
