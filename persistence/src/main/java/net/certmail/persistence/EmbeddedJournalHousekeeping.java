package net.certmail.persistence;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.h2.engine.Session;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded journal's H2 store, kept compact. H2 writes every commit as a new chunk of its
 * file and keeps an object per chunk in memory while any page in it is live; only its background
 * writer rewrites chunks that have become mostly dead (reminder and index rows moved or deleted,
 * B-tree pages replaced), and {@code WRITE_DELAY=0} (required: without it a crash loses
 * acknowledged events) turns that thread off, so such chunks stayed in the file and in memory for
 * good. Every {@code interval} this does what the background writer would: rewrite chunks below
 * H2's own fill rate threshold; H2 drops the emptied ones at its next commits.
 *
 * <p>Not solved here: the journal's own chunks stay mostly live (events are never deleted), so
 * each commit still costs a chunk object (about 300 bytes with its page table) for as long as the
 * journal lives: measured 7.6 chunks per waiting mail (WaitingHeapTest). A journal of many mails
 * belongs on Cassandra.
 */
final class EmbeddedJournalHousekeeping {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedJournalHousekeeping.class);
  /** H2's default auto-compact fill rate (AUTO_COMPACT_FILL_RATE): chunks less live than this are rewritten. */
  private static final int TARGET_FILL_RATE = 90;
  /** At most this much is rewritten per round, as H2's own housekeeping does per write. */
  private static final int REWRITE_BYTES = 16 * 1024 * 1024;
  private static final int MAX_REWRITES_PER_ROUND = 8;

  private EmbeddedJournalHousekeeping() {}

  /**
   * Compacts the store behind {@code connection} every {@code interval} until the system stops, on
   * the blocking dispatcher. Does nothing for a connection to another process's database (H2
   * AUTO_SERVER client): the process that hosts it compacts it.
   */
  static void start(ActorSystem<?> system, Connection connection, Duration interval) {
    MVStore store = storeOf(connection);
    if (store == null) {
      return;
    }
    system.scheduler().scheduleWithFixedDelay(interval, interval, () -> compact(store),
        system.dispatchers().lookup(DispatcherSelector.blocking()));
  }

  /** The store of an in-process H2 connection; null for a client of another process's database. */
  static MVStore storeOf(Connection connection) {
    try {
      Session session = connection.unwrap(JdbcConnection.class).getSession();
      return session instanceof SessionLocal local && local.getDatabase().getStore() != null
          ? local.getDatabase().getStore().getMvStore() : null;
    } catch (SQLException e) {
      return null;
    }
  }

  static void compact(MVStore store) {
    if (store.isClosed()) {
      return;
    }
    try {
      // Each call waits at most 10 ms for the store's lock, which busy commits may hold: a round
      // goes on while it makes progress. The chunks emptied are dropped by later commits.
      for (int rewrites = 0; rewrites < MAX_REWRITES_PER_ROUND && store.compact(TARGET_FILL_RATE, REWRITE_BYTES);
           rewrites++) {
        // rewrote some chunks: there may be more
      }
    } catch (RuntimeException e) {
      // The next round tries again; a failure here never touches what is stored.
      LOG.warn("compacting the embedded journal failed ({}); trying again later", e.toString());
    }
  }
}
