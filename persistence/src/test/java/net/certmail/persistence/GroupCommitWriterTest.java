package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On a real H2 file database opened as the embedded journal opens it (WRITE_DELAY=0). */
class GroupCommitWriterTest {
  private static final String INSERT = "INSERT INTO PUBLIC.\"rows\" (\"id\") VALUES (?)";
  private static final String DELETE = "DELETE FROM PUBLIC.\"rows\" WHERE \"id\" = ?";

  @TempDir
  Path directory;
  private HikariDataSource database;
  private GroupCommitWriter writer;

  @BeforeEach
  void open() throws SQLException {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl("jdbc:h2:file:" + directory.resolve("db").toAbsolutePath() + ";WRITE_DELAY=0;TRACE_LEVEL_FILE=0");
    config.setUsername("sa");
    config.setPassword("");
    config.setMaximumPoolSize(2);
    database = new HikariDataSource(config);
    try (Connection connection = database.getConnection(); Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE PUBLIC.\"rows\" (\"id\" INT NOT NULL PRIMARY KEY)");
    }
    writer = new GroupCommitWriter(database, "test-writer", 0);
  }

  @AfterEach
  void close() {
    writer.close();
    database.close();
  }

  @Test
  void writesQueuedDuringACommitShareTheNextOne() throws Exception {
    CountDownLatch binding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletionStage<Done> first = writer.write(INSERT, statement -> {
      binding.countDown();
      await(release);
      statement.setInt(1, 0);
    });
    assertTrue(binding.await(10, TimeUnit.SECONDS), "the writer never took the first write");
    List<CompletionStage<Done>> queued = new ArrayList<>();
    for (int id = 1; id <= 100; id++) {
      int row = id;
      queued.add(writer.write(INSERT, statement -> statement.setInt(1, row)));
    }
    release.countDown();
    first.toCompletableFuture().get(10, TimeUnit.SECONDS);
    for (CompletionStage<Done> write : queued) {
      write.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    assertEquals(101, rows());
    assertEquals(101, writer.writes());
    assertEquals(2, writer.commits(), "the 100 writes queued behind the first should be one commit");
  }

  @Test
  void aGroupAppliesItsWritesInTheOrderAsked() throws Exception {
    CountDownLatch release = blockWriter();
    CompletionStage<Done> insert = writer.write(INSERT, statement -> statement.setInt(1, 7));
    CompletionStage<Done> delete = writer.write(DELETE, statement -> statement.setInt(1, 7));
    CompletionStage<Done> again = writer.write(INSERT, statement -> statement.setInt(1, 8));
    release.countDown();
    CompletableFuture.allOf(insert.toCompletableFuture(), delete.toCompletableFuture(), again.toCompletableFuture())
        .get(10, TimeUnit.SECONDS);

    assertEquals(List.of(-1, 8), ids(), "row 7 inserted then deleted; 8 inserted");
  }

  @Test
  void aFailingWriteFailsOnlyItsOwnCaller() throws Exception {
    CountDownLatch release = blockWriter();
    CompletionStage<Done> before = writer.write(INSERT, statement -> statement.setInt(1, 1));
    CompletionStage<Done> duplicate = writer.write(INSERT, statement -> statement.setInt(1, 1));
    CompletionStage<Done> after = writer.write(INSERT, statement -> statement.setInt(1, 2));
    release.countDown();

    before.toCompletableFuture().get(10, TimeUnit.SECONDS);
    after.toCompletableFuture().get(10, TimeUnit.SECONDS);
    ExecutionException failure = assertThrows(ExecutionException.class,
        () -> duplicate.toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertTrue(failure.getCause().getMessage().startsWith("test-writer: "), failure.getCause().getMessage());
    assertEquals(List.of(-1, 1, 2), ids());
  }

  @Test
  void theChangesOfOneWriteAreStoredTogetherOrNotAtAll() throws Exception {
    CountDownLatch release = blockWriter();
    CompletionStage<Done> halfBad = writer.write(List.of(
        new GroupCommitWriter.Change(INSERT, statement -> statement.setInt(1, 5)),
        new GroupCommitWriter.Change(INSERT, statement -> statement.setInt(1, 5))));
    CompletionStage<Done> good = writer.write(List.of(
        new GroupCommitWriter.Change(INSERT, statement -> statement.setInt(1, 6)),
        new GroupCommitWriter.Change(DELETE, statement -> statement.setInt(1, -1))));
    release.countDown();

    good.toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThrows(ExecutionException.class, () -> halfBad.toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertEquals(List.of(6), ids(), "neither row 5 of the failed write; row -1 deleted, 6 inserted by the other");
  }

  @Test
  void aMinimumCommitIntervalGathersTheWritesOfABusyStore() throws Exception {
    writer.close();
    writer = new GroupCommitWriter(database, "test-writer", 500);
    writer.write(INSERT, statement -> statement.setInt(1, 0)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    List<CompletableFuture<Done>> queued = new ArrayList<>();
    for (int id = 1; id <= 10; id++) {
      int row = id;
      queued.add(writer.write(INSERT, statement -> statement.setInt(1, row)).toCompletableFuture());
    }
    CompletableFuture.allOf(queued.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

    assertEquals(11, rows());
    assertEquals(2, writer.commits(), "the ten writes after the first wait for the interval and share a commit");
  }

  @Test
  void closingCommitsWhatIsQueuedAndRefusesLaterWrites() throws Exception {
    CountDownLatch release = blockWriter();
    List<CompletionStage<Done>> queued = new ArrayList<>();
    for (int id = 1; id <= 10; id++) {
      int row = id;
      queued.add(writer.write(INSERT, statement -> statement.setInt(1, row)));
    }
    release.countDown();
    writer.close();

    for (CompletionStage<Done> write : queued) {
      assertTrue(write.toCompletableFuture().isDone() && !write.toCompletableFuture().isCompletedExceptionally());
    }
    assertEquals(11, rows());
    ExecutionException refused = assertThrows(ExecutionException.class,
        () -> writer.write(INSERT, statement -> statement.setInt(1, 99)).toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertEquals("test-writer is closed", refused.getCause().getMessage());
  }

  /** Holds the writer inside a commit (of row -1) until the returned latch is released. */
  private CountDownLatch blockWriter() throws InterruptedException {
    CountDownLatch binding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    writer.write(INSERT, statement -> {
      binding.countDown();
      await(release);
      statement.setInt(1, -1);
    });
    assertTrue(binding.await(10, TimeUnit.SECONDS), "the writer never took the first write");
    return release;
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private int rows() throws SQLException {
    return ids().size();
  }

  private List<Integer> ids() throws SQLException {
    List<Integer> ids = new ArrayList<>();
    try (Connection connection = database.getConnection(); Statement statement = connection.createStatement();
         ResultSet rows = statement.executeQuery("SELECT \"id\" FROM PUBLIC.\"rows\" ORDER BY \"id\"")) {
      while (rows.next()) {
        ids.add(rows.getInt(1));
      }
    }
    return ids;
  }
}
