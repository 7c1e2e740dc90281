package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import net.certmail.persistence.inbox.JdbcInboxIndex;
import net.certmail.persistence.reminders.JdbcReminderStore;
import net.certmail.persistence.reminders.Reminder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reminder store and the inbox index on one database share its writer: what both queue
 * within a commit interval goes into one commit (one H2 chunk), and each store still reads
 * exactly its own rows. Real H2 file.
 */
class GroupCommitDatabaseTest {
  private static final long MINUTE = 60_000;

  @TempDir
  Path directory;

  static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void reminderRowsAndIndexRowsQueuedTogetherShareOneCommit() {
    String url = "jdbc:h2:file:" + directory.resolve("side").toAbsolutePath() + ";WRITE_DELAY=0;TRACE_LEVEL_FILE=0";
    // A long interval: the writes below queue behind the first commit and wait for the next one.
    try (GroupCommitDatabase database = GroupCommitDatabase.open(url, "sa", "", "test-side", 2_000)) {
      JdbcReminderStore reminders = JdbcReminderStore.on(database, MINUTE);
      JdbcInboxIndex index = JdbcInboxIndex.on(database);
      Reminder early = new Reminder("alpha.example", "outbox", "alice@alpha.example|1", 1_000);
      Reminder later = early.at(5_000);
      await(reminders.write(early)); // an idle writer commits at once
      long before = database.writer().commits();
      long writesBefore = database.writer().writes();

      CompletableFuture<?> moved = reminders.replace(List.of(later), List.of(early)).toCompletableFuture();
      CompletableFuture<?> indexed = index.add("bob@beta.example", "beta.example/1").toCompletableFuture();
      await(CompletableFuture.allOf(moved, indexed));

      assertEquals(writesBefore + 2, database.writer().writes(), "both through the database's one writer");
      assertEquals(before + 1, database.writer().commits(), "one commit for the reminder move and the index row");
      assertEquals(List.of(later), await(reminders.dueBy("alpha.example", 10_000, 10)));
      assertEquals(List.of("beta.example/1"), await(index.page("bob@beta.example", "", 10)));
      reminders.close();
      index.close();
      // Closing the stores leaves the shared database to its owner.
      await(JdbcInboxIndex.on(database).add("bob@beta.example", "beta.example/2"));
    }
  }
}
