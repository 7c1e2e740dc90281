package net.certmail.actors;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.UUID;
import net.certmail.persistence.reminders.JdbcReminderStore;
import net.certmail.persistence.reminders.ReminderStore;

/** A real reminder store for entity tests without a journal database: H2 in memory, one per call. */
final class TestReminders {
  static final Duration STAY_AWAKE = Duration.ofSeconds(10);
  /** Entity tests watch the shard probe for the passivation: at once. */
  static final Duration LINGER = Duration.ZERO;

  private TestReminders() {}

  /** A JDBC URL of a fresh in-memory H2 database that lives as long as the JVM. */
  static String freshDatabase() {
    return "jdbc:h2:mem:reminders-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
  }

  static ReminderStore store() {
    return JdbcReminderStore.open(freshDatabase(), "sa", "", Duration.ofMinutes(1).toMillis());
  }

  static net.certmail.persistence.inbox.InboxIndex inboxIndex() {
    return net.certmail.persistence.inbox.JdbcInboxIndex.open(freshDatabase(), "sa", "");
  }

  static ReminderMetrics metrics() {
    return new ReminderMetrics(new SimpleMeterRegistry());
  }
}
