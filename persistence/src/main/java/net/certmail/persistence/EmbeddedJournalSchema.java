package net.certmail.persistence;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Creates the tables of the embedded journal (pekko-persistence-jdbc on H2), which has no
 * auto-create of its own.
 *
 * Runs {@value #SCRIPT}, whose statements are all idempotent, over a plain JDBC connection to the
 * database the journal is configured with (pekko-persistence-jdbc.shared-databases.slick.db, set by
 * certmail-journal-embedded.conf). H2 shares one open database between all connections of a JVM, so
 * this connection and the journal's pool see the same tables.
 */
public final class EmbeddedJournalSchema {

  /** Classpath resource with the DDL. */
  public static final String SCRIPT = "h2/certmail-journal-schema.sql";

  private static final String DB_CONFIG = "pekko-persistence-jdbc.shared-databases.slick.db";

  private static final Pattern WRITE_DELAY_ZERO = Pattern.compile(";WRITE_DELAY=0(;|$)", Pattern.CASE_INSENSITIVE);

  private EmbeddedJournalSchema() {}

  /**
   * Creates the journal, tag and snapshot tables if they do not exist yet. Blocking: call it once
   * at start-up, before the first entity recovers (the journal fails on missing tables).
   *
   * @throws IllegalStateException when the database cannot be opened or a statement fails; the
   *     message says what to check
   */
  public static void ensureCreated(ActorSystem<?> system) {
    Config config = system.settings().config();
    if (!config.hasPath(DB_CONFIG + ".url")) {
      throw new IllegalStateException("No embedded journal database is configured (" + DB_CONFIG
          + ".url is missing). Build the ActorSystem config with JournalBackend.EMBEDDED.config(settings)"
          + " or include \"certmail-journal-embedded\" in application.conf.");
    }
    Config db = config.getConfig(DB_CONFIG);
    String url = db.getString("url");
    requireWriteDelayZero(url);
    String user = db.hasPath("user") ? db.getString("user") : "";
    String password = db.hasPath("password") ? db.getString("password") : "";

    Connection connection = null;
    try {
      connection = DriverManager.getConnection(url, user, password);
      try (Statement statement = connection.createStatement()) {
        for (String sql : statements()) {
          statement.execute(sql);
        }
      }
      // H2 made its lock file with the process's umask (the directory, 700, already keeps others
      // out): make it 600 too, and keep this connection until the system stops, so that the
      // database stays open and H2 does not make the lock file anew with the umask.
      if (config.hasPath("certmail.journal.embedded.path")) {
        EmbeddedJournalFiles.tighten(java.nio.file.Path.of(config.getString("certmail.journal.embedded.path")));
      }
      Connection kept = connection;
      system.getWhenTerminated().whenComplete((done, failure) -> closeQuietly(kept));
      EmbeddedJournalCompaction.storeOf(kept).ifPresent(EmbeddedJournalFile.get(system)::held);
      EmbeddedJournalCompaction.start(system, kept);
    } catch (IOException e) {
      closeQuietly(connection);
      throw new UncheckedIOException("Could not make the embedded journal's files owner-only: " + e.getMessage(), e);
    } catch (SQLException e) {
      closeQuietly(connection);
      throw new IllegalStateException("Could not create the embedded journal tables in " + url + ": "
          + e.getMessage() + ". If the file is locked, another process has the database open: stop"
          + " it, or set certmail.journal.embedded.auto-server = true in every process that uses it.", e);
    }
  }

  private static void closeQuietly(Connection connection) {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        // the database is going away anyway
      }
    }
  }

  /** The statements of {@value #SCRIPT}, without comments. */
  static List<String> statements() {
    String script;
    try (InputStream in = EmbeddedJournalSchema.class.getClassLoader().getResourceAsStream(SCRIPT)) {
      if (in == null) {
        throw new IllegalStateException(SCRIPT + " is missing from the classpath (a broken build?)");
      }
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not read " + SCRIPT, e);
    }
    return splitStatements(script);
  }

  /**
   * Splits a script into statements at every ";" that ends a line, dropping lines that start
   * with "--". Enough for our own scripts, which keep ";" out of comments and string literals.
   */
  static List<String> splitStatements(String script) {
    List<String> statements = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : script.split("\n")) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("--")) {
        continue;
      }
      if (trimmed.endsWith(";")) {
        current.append(trimmed, 0, trimmed.length() - 1);
        statements.add(current.toString().strip());
        current.setLength(0);
      } else {
        current.append(trimmed).append('\n');
      }
    }
    if (!current.toString().isBlank()) {
      throw new IllegalArgumentException("Script ends without \";\" after: " + current);
    }
    return statements;
  }

  /**
   * H2 keeps committed changes in memory for up to WRITE_DELAY ms (default 500) before writing
   * them to the file; a crash in that window lost acknowledged events in our measurements. The
   * journal acknowledges an event to its entity once committed, so the delay must be 0.
   */
  static void requireWriteDelayZero(String url) {
    if (!WRITE_DELAY_ZERO.matcher(url).find()) {
      throw new IllegalStateException("The embedded journal URL " + url + " lacks \";WRITE_DELAY=0\":"
          + " without it a crash loses events that were already acknowledged. Set"
          + " certmail.journal.embedded.path / auto-server instead of overriding"
          + " certmail.journal.embedded.url, or add \";WRITE_DELAY=0\" to your URL.");
    }
  }
}
