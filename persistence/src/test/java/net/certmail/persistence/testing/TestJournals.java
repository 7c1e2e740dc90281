package net.certmail.persistence.testing;

import static org.junit.jupiter.api.Assertions.fail;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;
import net.certmail.persistence.JournalBackend;

/**
 * Journal configurations for tests, and the local Cassandra they may need.
 *
 * Cassandra tests share the one local server (scripts/cassandra.sh) and isolate themselves by
 * keyspace: each test class writes into keyspaces of its own and drops them afterwards.
 */
public final class TestJournals {

  public static final String CASSANDRA_HOST = "127.0.0.1";
  public static final int CASSANDRA_PORT = 9042;
  public static final String CASSANDRA_DATACENTER = "datacenter1";

  private TestJournals() {}

  /** Settings every journal test uses (serializer of the test events, logging): journal-test.conf. */
  public static Config testSettings() {
    return ConfigFactory.parseResources(TestJournals.class.getClassLoader(), "journal-test.conf");
  }

  /** The embedded journal on an H2 file at the given path (without ".mv.db"). */
  public static Config embedded(Path database) {
    Config settings = ConfigFactory.empty()
        .withValue("certmail.journal.embedded.path", ConfigValueFactory.fromAnyRef(database.toAbsolutePath().toString()))
        .withFallback(testSettings());
    return JournalBackend.EMBEDDED.config(settings);
  }

  /** The Cassandra journal on the local server, in the given keyspaces. */
  public static Config cassandra(String keyspace, String snapshotKeyspace, boolean schemaAutocreate) {
    Config settings = ConfigFactory.empty()
        .withValue("certmail.journal.cassandra.contact-points",
            ConfigValueFactory.fromIterable(List.of(CASSANDRA_HOST + ":" + CASSANDRA_PORT)))
        .withValue("certmail.journal.cassandra.local-datacenter", ConfigValueFactory.fromAnyRef(CASSANDRA_DATACENTER))
        .withValue("certmail.journal.cassandra.keyspace", ConfigValueFactory.fromAnyRef(keyspace))
        .withValue("certmail.journal.cassandra.snapshot-keyspace", ConfigValueFactory.fromAnyRef(snapshotKeyspace))
        .withValue("certmail.journal.cassandra.schema-autocreate", ConfigValueFactory.fromAnyRef(schemaAutocreate))
        .withFallback(testSettings());
    return JournalBackend.CASSANDRA.config(settings);
  }

  /** A keyspace name no other test run uses: prefix, underscore, 12 hex digits. */
  public static String uniqueKeyspace(String prefix) {
    return prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
  }

  /**
   * Fails (never skips) when no Cassandra answers on 127.0.0.1:9042: a test suite that silently
   * skipped its Cassandra tests would pass without proving anything.
   */
  public static void requireRunningCassandra() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(CASSANDRA_HOST, CASSANDRA_PORT), 2000);
    } catch (IOException e) {
      fail("No Cassandra answers on " + CASSANDRA_HOST + ":" + CASSANDRA_PORT + " (" + e.getMessage()
          + "): start it with ./scripts/cassandra.sh start or run the whole suite with ./scripts/test.sh");
    }
  }

  /** A driver session to the local Cassandra, for schema work in tests; close it. */
  public static CqlSession cassandraSession() {
    DriverConfigLoader config = DriverConfigLoader.programmaticBuilder()
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(60))
        // close at once instead of Netty's 2 s quiet period (journal-test.conf does the same
        // for the plugin's sessions)
        .withInt(DefaultDriverOption.NETTY_IO_SHUTDOWN_QUIET_PERIOD, 0)
        .withInt(DefaultDriverOption.NETTY_ADMIN_SHUTDOWN_QUIET_PERIOD, 0)
        .build();
    return CqlSession.builder()
        .addContactPoint(new InetSocketAddress(CASSANDRA_HOST, CASSANDRA_PORT))
        .withLocalDatacenter(CASSANDRA_DATACENTER)
        .withConfigLoader(config)
        .build();
  }

  /** Drops the keyspaces (if they exist). */
  public static void dropKeyspaces(String... keyspaces) {
    try (CqlSession session = cassandraSession()) {
      // no schema metadata refresh after each DROP (about a second each)
      session.setSchemaMetadataEnabled(false);
      for (String keyspace : keyspaces) {
        session.execute(SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + keyspace));
      }
    }
  }

  /** Deletes a directory tree (a test's H2 database). */
  public static void deleteRecursively(Path directory) {
    if (!Files.exists(directory)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Could not delete " + directory, e);
    }
  }
}
