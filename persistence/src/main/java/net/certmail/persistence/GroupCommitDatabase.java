package net.certmail.persistence;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;

/**
 * A connection pool and one group-commit writer on a JDBC database. The embedded journal's
 * database has one (EmbeddedJournalDatabase) for the journal's events, the reminder rows and the
 * inbox index: each H2 commit writes a chunk of its own (12-32 KB and a file-space allocation), and
 * with one writer for all of them what they queue within a commit interval goes into one commit
 * instead of one per writer (issue 12, BENCHMARKS.md). A system on another journal may open one for
 * its reminder rows and inbox index alone (certmail.reminders.jdbc-url).
 */
public final class GroupCommitDatabase implements AutoCloseable {
  private final HikariDataSource pool;
  private final GroupCommitWriter writer;

  private GroupCommitDatabase(HikariDataSource pool, GroupCommitWriter writer) {
    this.pool = pool;
    this.writer = writer;
  }

  /**
   * Opens the pool (blocking: call at start-up) and starts the writer.
   *
   * @param name names the pool and the writer's thread in logs and thread dumps
   * @param minCommitIntervalMillis a commit starts no sooner than this after the one before
   *     (GroupCommitWriter; certmail.journal.embedded.min-commit-interval)
   * @throws IllegalStateException when the database cannot be opened; the message says what to check
   */
  public static GroupCommitDatabase open(String url, String user, String password, String name,
                                      long minCommitIntervalMillis) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(user);
    config.setPassword(password);
    // The writer's connection, and reads (scans, index pages) beside it.
    config.setMaximumPoolSize(3);
    config.setMinimumIdle(1);
    config.setPoolName(name);
    config.setConnectionTimeout(10_000);
    HikariDataSource pool;
    try {
      pool = new HikariDataSource(config);
    } catch (RuntimeException e) {
      throw new IllegalStateException("Could not open the database " + url + ": " + e.getMessage()
          + ". If the file is locked, another process has the database open: stop it, or set"
          + " certmail.journal.embedded.auto-server = true in every process that uses it.", e);
    }
    return new GroupCommitDatabase(pool, new GroupCommitWriter(pool, name + "-writer", minCommitIntervalMillis));
  }

  public DataSource pool() {
    return pool;
  }

  public GroupCommitWriter writer() {
    return writer;
  }

  /** Commits what is queued, then closes the pool. */
  @Override
  public void close() {
    writer.close();
    pool.close();
  }
}
