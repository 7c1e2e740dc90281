package net.certmail.persistence;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.h2.engine.Session;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the embedded journal's H2 file compact while it runs, as H2's own background writer would.
 *
 * <p>Every H2 commit writes a new chunk to the file; pages that stay live (the events of finished
 * mails never change again) keep their chunk alive, and only H2's background writer moves them on
 * and frees the chunk. At WRITE_DELAY=0, which the journal requires (EmbeddedJournalSchema), H2
 * runs no background writer at all. Measured with {@code certmail bench load} (issue 12): after
 * 380 s a node's file had 18,501 chunks at 7 % live data, 900 MB for ~60 MB of rows, about 50 KB
 * per mail and growing for as long as the node ran; and every commit paid for the long chunk list
 * (H2's chunk metadata, free-space map and page cache took ~15 % of a loaded node's CPU).
 *
 * <p>So every {@code interval} this moves the live pages of the emptiest chunks older than H2's
 * retention time (45 s, so that a crash finds the old chunks intact) into the next commit, at most
 * {@code max-bytes-per-run} of them, whenever the live share of all chunks is below
 * {@code target-fill-rate}; the emptied chunks are freed and their space reused. It runs on the
 * blocking dispatcher and only in the process that opened the file (with auto-server, the others
 * reach it over TCP and leave it to that one; a process that takes the file over when its holder
 * stops compacts it from its next start).
 */
public final class EmbeddedJournalCompaction {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedJournalCompaction.class);

  private static final String CONFIG = "certmail.journal.embedded.compaction";

  private EmbeddedJournalCompaction() {}

  /** The settings under {@value #CONFIG}; {@code interval} 0 turns compaction off. */
  record Settings(Duration interval, int targetFillRate, int maxBytesPerRun) {
    static Settings of(Config config) {
      Config c = config.getConfig(CONFIG);
      int fillRate = c.getInt("target-fill-rate");
      if (fillRate < 1 || fillRate > 100) {
        throw new IllegalArgumentException(CONFIG + ".target-fill-rate must be 1-100 (percent), not " + fillRate);
      }
      return new Settings(c.getDuration("interval"), fillRate, (int) Math.min(Integer.MAX_VALUE, c.getBytes("max-bytes-per-run")));
    }
  }

  /**
   * Compacts the file behind {@code connection} every interval until the system terminates.
   * Does nothing when compaction is off or the connection does not hold the file itself.
   */
  static void start(ActorSystem<?> system, Connection connection) {
    Settings settings = Settings.of(system.settings().config());
    Optional<MVStore> store = storeOf(connection);
    if (settings.interval().isZero() || store.isEmpty()) {
      return;
    }
    Cancellable task = system.scheduler().scheduleWithFixedDelay(settings.interval(), settings.interval(),
        () -> runOnce(store.get(), settings), system.dispatchers().lookup(DispatcherSelector.blocking()));
    system.getWhenTerminated().whenComplete((done, failure) -> task.cancel());
  }

  /** The MVStore of the database the connection has open in this process, if it has. */
  static Optional<MVStore> storeOf(Connection connection) {
    try {
      Session session = connection.unwrap(JdbcConnection.class).getSession();
      if (session instanceof SessionLocal local && local.getDatabase().getStore() != null) {
        return Optional.ofNullable(local.getDatabase().getStore().getMvStore());
      }
    } catch (SQLException e) {
      log.warn("The embedded journal's file will not be compacted while the node runs: {}", e.getMessage());
    }
    return Optional.empty();
  }

  /** One round: true when some chunks were rewritten. Never throws; a closing store ends it quietly. */
  static boolean runOnce(MVStore store, Settings settings) {
    try {
      return !store.isClosed() && store.compact(settings.targetFillRate(), settings.maxBytesPerRun());
    } catch (RuntimeException e) { // MVStoreException and others: a thrown run would end the schedule
      if (!store.isClosed()) {
        log.warn("Compacting the embedded journal's file failed (tried again in {}): {}", settings.interval(),
            e.getMessage());
      }
      return false;
    }
  }
}
