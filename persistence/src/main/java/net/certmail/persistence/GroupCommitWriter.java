package net.certmail.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.pekko.Done;

/**
 * JDBC writes committed in groups: one thread takes the oldest queued write, adds every write
 * queued behind it (up to {@code maxGroup} statements) and commits them in one transaction, in the
 * order they were asked for. A write is one statement or several that must be stored together; its
 * stage completes only after its group committed, so a caller sees exactly the durability of a
 * write committed alone.
 *
 * <p>Why: on H2 with WRITE_DELAY=0 every commit writes a chunk of 12-32 KB to the file (the dirty
 * pages of every map it touched, up to the root) and allocates space for it; under load these
 * chunk writes were half of a node's CPU (BENCHMARKS.md, issue 12). Two ways to fewer commits:
 * writes that arrive while a commit runs share the next one; and with a minimum commit interval,
 * a commit starts no sooner than that after the one before, so a busy store makes at most
 * 1000/interval commits a second whatever its write rate, while an idle one (writes further apart
 * than the interval) commits each write at once, without waiting.
 *
 * <p>If a group fails, each of its writes is retried alone, so one bad write fails only its caller.
 */
public final class GroupCommitWriter implements AutoCloseable {
  /** Sets a prepared statement's parameters. */
  @FunctionalInterface
  public interface Binder {
    void bind(PreparedStatement statement) throws SQLException;
  }

  /** One statement of a write: its SQL and its parameters. */
  public record Change(String sql, Binder binder) {}

  private record Write(List<Change> changes, CompletableFuture<Done> done) {}

  private static final Write STOP = new Write(List.of(), new CompletableFuture<>());

  private final DataSource database;
  private final String name;
  private final int maxGroup;
  private final long minCommitIntervalNanos;
  private final LinkedBlockingQueue<Write> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong writes = new AtomicLong();
  private boolean closed; // guarded by queue

  /** Writes in one commit at most, by default: a few hundred small rows make one small H2 chunk. */
  public static final int DEFAULT_MAX_GROUP = 256;

  /**
   * Starts the writer's thread, named {@code name}, committing up to DEFAULT_MAX_GROUP statements
   * at once and no sooner than {@code minCommitIntervalMillis} after the commit before (0: at once).
   */
  public GroupCommitWriter(DataSource database, String name, long minCommitIntervalMillis) {
    this(database, name, DEFAULT_MAX_GROUP, minCommitIntervalMillis);
  }

  /** Starts the writer's thread, named {@code name}. */
  public GroupCommitWriter(DataSource database, String name, int maxGroup, long minCommitIntervalMillis) {
    if (maxGroup < 1) {
      throw new IllegalArgumentException("maxGroup must be at least 1, was " + maxGroup);
    }
    if (minCommitIntervalMillis < 0) {
      throw new IllegalArgumentException("minCommitIntervalMillis must not be negative, was " + minCommitIntervalMillis);
    }
    this.database = database;
    this.name = name;
    this.maxGroup = maxGroup;
    this.minCommitIntervalNanos = minCommitIntervalMillis * 1_000_000L;
    this.thread = new Thread(this::run, name);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** Queues one statement; the stage completes when it is committed, or fails with the reason. */
  public CompletionStage<Done> write(String sql, Binder binder) {
    return write(List.of(new Change(sql, binder)));
  }

  /**
   * Queues statements that are committed together or not at all, in this order; the stage
   * completes when they are committed, or fails with the reason.
   */
  public CompletionStage<Done> write(List<Change> changes) {
    CompletableFuture<Done> done = new CompletableFuture<>();
    if (changes.isEmpty()) {
      done.complete(Done.getInstance());
      return done;
    }
    synchronized (queue) {
      if (closed) {
        done.completeExceptionally(new IllegalStateException(name + " is closed"));
      } else {
        queue.add(new Write(List.copyOf(changes), done));
      }
    }
    return done;
  }

  /** Transactions committed so far (each holding one or more writes). */
  public long commits() {
    return commits.get();
  }

  /** Writes committed so far. */
  public long writes() {
    return writes.get();
  }

  private void run() {
    List<Write> group = new ArrayList<>();
    long lastCommit = System.nanoTime() - minCommitIntervalNanos;
    while (true) {
      group.clear();
      try {
        group.add(queue.take());
        long wait = lastCommit + minCommitIntervalNanos - System.nanoTime();
        if (wait > 0 && group.get(0) != STOP) {
          Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
        }
      } catch (InterruptedException e) {
        return;
      }
      drainGroup(group);
      lastCommit = System.nanoTime();
      boolean stop = group.removeIf(write -> write == STOP);
      if (!group.isEmpty()) {
        commitGroup(group);
      }
      if (stop) {
        failQueued();
        return;
      }
    }
  }

  /** Adds the writes queued behind the group's first, up to maxGroup statements (a write is not split). */
  private void drainGroup(List<Write> group) {
    int statements = group.get(0).changes().size();
    Write next;
    while (statements < maxGroup && (next = queue.peek()) != null
        && statements + next.changes().size() <= maxGroup) {
      group.add(queue.poll());
      statements += next.changes().size();
    }
  }

  private void commitGroup(List<Write> group) {
    try {
      commit(group);
      group.forEach(write -> write.done().complete(Done.getInstance()));
    } catch (SQLException groupFailure) {
      if (group.size() == 1) {
        group.get(0).done().completeExceptionally(failure(groupFailure));
        return;
      }
      for (Write write : group) {
        try {
          commit(List.of(write));
          write.done().complete(Done.getInstance());
        } catch (SQLException e) {
          write.done().completeExceptionally(failure(e));
        }
      }
    } catch (RuntimeException e) {
      group.forEach(write -> write.done().completeExceptionally(e));
    }
  }

  private void commit(List<Write> group) throws SQLException {
    try (Connection connection = database.getConnection()) {
      connection.setAutoCommit(false);
      Map<String, PreparedStatement> statements = new HashMap<>();
      try {
        for (Write write : group) {
          for (Change change : write.changes()) {
            PreparedStatement statement = statements.get(change.sql());
            if (statement == null) {
              statement = connection.prepareStatement(change.sql());
              statements.put(change.sql(), statement);
            }
            change.binder().bind(statement);
            statement.executeUpdate();
          }
        }
        connection.commit();
        commits.incrementAndGet();
        writes.addAndGet(group.size());
      } catch (SQLException | RuntimeException e) {
        connection.rollback();
        throw e;
      } finally {
        for (PreparedStatement statement : statements.values()) {
          statement.close();
        }
        connection.setAutoCommit(true);
      }
    }
  }

  private IllegalStateException failure(SQLException e) {
    return new IllegalStateException(name + ": " + e.getMessage(), e);
  }

  private void failQueued() {
    List<Write> left = new ArrayList<>();
    queue.drainTo(left);
    left.forEach(write -> write.done().completeExceptionally(new IllegalStateException(name + " is closed")));
  }

  /** Commits what is queued, then stops the thread; later writes fail. Waits up to 10 s. */
  @Override
  public void close() {
    synchronized (queue) {
      if (closed) {
        return;
      }
      closed = true;
      queue.add(STOP);
    }
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
