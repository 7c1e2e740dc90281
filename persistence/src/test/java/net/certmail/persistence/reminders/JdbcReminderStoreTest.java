package net.certmail.persistence.reminders;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The contract on a real H2 file database, opened the way the embedded journal opens it (WRITE_DELAY=0). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JdbcReminderStoreTest extends ReminderStoreContract {
  @TempDir
  static Path directory;
  private ReminderStore store;

  @BeforeAll
  void open() {
    store = JdbcReminderStore.open("jdbc:h2:file:" + directory.resolve("reminders").toAbsolutePath()
        + ";WRITE_DELAY=0;TRACE_LEVEL_FILE=0", "sa", "", MINUTE);
  }

  @AfterAll
  void close() {
    store.close();
  }

  @Override
  ReminderStore store() {
    return store;
  }
}
