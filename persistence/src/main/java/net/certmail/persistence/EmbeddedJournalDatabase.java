package net.certmail.persistence;

import com.typesafe.config.Config;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The journal's JDBC database as this node writes to it: one pool and one {@link GroupCommitWriter}
 * for the journal's events ({@link GroupingJournalDao}), the reminder rows and the inbox index.
 * On H2 every commit writes a chunk of its own, and H2's bookkeeping grows with the chunks (its
 * chunk list, its free-space map, the pages from each changed row up to the root): with one writer,
 * what all of them queued within a commit interval makes one commit, where a writer for the
 * journal and one for the side tables made two (issue 12, BENCHMARKS.md).
 *
 * <p>Opened on first use with the journal's settings ({@code pekko-persistence-jdbc.shared-databases.slick.db},
 * {@code certmail.journal.embedded.min-commit-interval}); closed when the system terminates, after
 * committing what is queued.
 */
public final class EmbeddedJournalDatabase implements Extension {
  private static final Id ID = new Id();
  private static final String DB_CONFIG = "pekko-persistence-jdbc.shared-databases.slick.db";
  private static final String MIN_COMMIT_INTERVAL = "certmail.journal.embedded.min-commit-interval";

  private final ActorSystem<?> system;
  private GroupCommitDatabase database; // guarded by this

  private EmbeddedJournalDatabase(ActorSystem<?> system) {
    this.system = system;
  }

  public static EmbeddedJournalDatabase get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  /**
   * The database, opened on the first call (blocking).
   *
   * @throws IllegalStateException when no JDBC journal is configured or the database cannot be
   *     opened; the message says what to check
   */
  public synchronized GroupCommitDatabase database() {
    if (database == null) {
      Config config = system.settings().config();
      if (!config.hasPath(DB_CONFIG + ".url")) {
        throw new IllegalStateException("No embedded journal database is configured (" + DB_CONFIG
            + ".url is missing). Build the ActorSystem config with JournalBackend.EMBEDDED.config(settings).");
      }
      Config db = config.getConfig(DB_CONFIG);
      long minCommitIntervalMillis = config.hasPath(MIN_COMMIT_INTERVAL)
          ? config.getDuration(MIN_COMMIT_INTERVAL).toMillis() : 0;
      GroupCommitDatabase opened = GroupCommitDatabase.open(db.getString("url"), text(db, "user"), text(db, "password"),
          "certmail-journal-database", minCommitIntervalMillis);
      system.getWhenTerminated().whenComplete((done, failure) -> opened.close());
      database = opened;
    }
    return database;
  }

  private static String text(Config db, String key) {
    return db.hasPath(key) ? db.getString(key) : "";
  }

  static final class Id extends ExtensionId<EmbeddedJournalDatabase> {
    @Override
    public EmbeddedJournalDatabase createExtension(ActorSystem<?> system) {
      return new EmbeddedJournalDatabase(system);
    }
  }
}
