package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The configuration each backend produces, without starting anything. */
class JournalBackendTest {

  private static final Map<String, String> NO_ENVIRONMENT = Map.of();

  @Test
  void embeddedWiresTheJdbcPluginsToOneH2FileWithWriteDelayZero() {
    Config config = JournalBackend.EMBEDDED.config(
        ConfigFactory.parseString("certmail.journal.embedded.path = \"/data/certmail/journal\""), NO_ENVIRONMENT);

    assertEquals("jdbc-journal", config.getString("pekko.persistence.journal.plugin"));
    assertEquals("jdbc-snapshot-store", config.getString("pekko.persistence.snapshot-store.plugin"));
    assertEquals("slick", config.getString("jdbc-journal.use-shared-db"));
    assertEquals("slick", config.getString("jdbc-snapshot-store.use-shared-db"));
    assertEquals("slick", config.getString("jdbc-read-journal.use-shared-db"));
    assertEquals("jdbc:h2:file:/data/certmail/journal;WRITE_DELAY=0;TRACE_LEVEL_FILE=0;AUTO_SERVER=false",
        config.getString("pekko-persistence-jdbc.shared-databases.slick.db.url"));
    assertEquals("jdbc-read-journal", JournalBackend.EMBEDDED.readJournalPluginId());
    assertTrue(config.hasPath(JournalBackend.EMBEDDED.readJournalPluginId() + ".class"));
  }

  @Test
  void embeddedAutoServerLetsSeveralProcessesShareTheFile() {
    Config config = JournalBackend.EMBEDDED.config(ConfigFactory.parseString(
        "certmail.journal.embedded { path = \"./var/journal\", auto-server = true }"), NO_ENVIRONMENT);

    assertEquals("jdbc:h2:file:./var/journal;WRITE_DELAY=0;TRACE_LEVEL_FILE=0;AUTO_SERVER=true",
        config.getString("pekko-persistence-jdbc.shared-databases.slick.db.url"));
  }

  @Test
  void embeddedRefusesAUrlWithoutWriteDelayZero() {
    Config settings = ConfigFactory.parseString(
        "certmail.journal.embedded.url = \"jdbc:h2:file:/tmp/journal;TRACE_LEVEL_FILE=0\"");

    IllegalStateException error = assertThrows(IllegalStateException.class,
        () -> JournalBackend.EMBEDDED.config(settings, NO_ENVIRONMENT));
    assertTrue(error.getMessage().contains("WRITE_DELAY=0"), error.getMessage());
  }

  @Test
  void embeddedRefusesAPathH2WouldRefuse() {
    Config settings = ConfigFactory.parseString("certmail.journal.embedded.path = \"journal\"");

    ConfigException error = assertThrows(ConfigException.class,
        () -> JournalBackend.EMBEDDED.config(settings, NO_ENVIRONMENT));
    assertTrue(error.getMessage().contains("./"), error.getMessage());
  }

  @Test
  void cassandraWiresThePluginToTheCertmailKeyspacesAtLocalQuorum() {
    Config config = JournalBackend.CASSANDRA.config(ConfigFactory.empty(), NO_ENVIRONMENT);

    assertEquals("pekko.persistence.cassandra.journal", config.getString("pekko.persistence.journal.plugin"));
    assertEquals("pekko.persistence.cassandra.snapshot", config.getString("pekko.persistence.snapshot-store.plugin"));
    assertEquals("certmail", config.getString("pekko.persistence.cassandra.journal.keyspace"));
    assertEquals("certmail_snapshot", config.getString("pekko.persistence.cassandra.snapshot.keyspace"));
    assertFalse(config.getBoolean("pekko.persistence.cassandra.journal.keyspace-autocreate"));
    assertFalse(config.getBoolean("pekko.persistence.cassandra.journal.tables-autocreate"));
    assertFalse(config.getBoolean("pekko.persistence.cassandra.snapshot.keyspace-autocreate"));
    assertFalse(config.getBoolean("pekko.persistence.cassandra.snapshot.tables-autocreate"));
    assertFalse(config.getBoolean("pekko.persistence.cassandra.events-by-tag.enabled"));

    Config driver = config.getConfig("datastax-java-driver");
    assertEquals(List.of("127.0.0.1:9042"), driver.getStringList("basic.contact-points"));
    assertEquals("datacenter1", driver.getString("basic.load-balancing-policy.local-datacenter"));
    assertEquals(Duration.ofSeconds(20), driver.getDuration("basic.request.timeout"));
    assertEquals("LOCAL_QUORUM", driver.getString("profiles.pekko-persistence-cassandra-profile.basic.request.consistency"));
    assertEquals("LOCAL_QUORUM",
        driver.getString("profiles.pekko-persistence-cassandra-snapshot-profile.basic.request.consistency"));
    assertTrue(driver.getBoolean("advanced.reconnect-on-init"));
    assertEquals("pekko.persistence.cassandra.query", JournalBackend.CASSANDRA.readJournalPluginId());
  }

  @Test
  void settingsOverrideTheBackendFile() {
    Config config = JournalBackend.CASSANDRA.config(ConfigFactory.parseString("""
        certmail.journal.cassandra {
          contact-points = ["10.1.0.5:9042", "10.1.0.6:9042"]
          keyspace = "certmail_eu"
          schema-autocreate = on
        }
        """), NO_ENVIRONMENT);

    assertEquals(List.of("10.1.0.5:9042", "10.1.0.6:9042"), config.getStringList("datastax-java-driver.basic.contact-points"));
    assertEquals("certmail_eu", config.getString("pekko.persistence.cassandra.journal.keyspace"));
    assertTrue(config.getBoolean("pekko.persistence.cassandra.journal.tables-autocreate"));
    assertTrue(config.getBoolean("pekko.persistence.cassandra.snapshot.keyspace-autocreate"));
  }

  @Test
  void environmentOverridesCassandraContactPointsAndDatacenter() {
    Config config = JournalBackend.CASSANDRA.config(
        ConfigFactory.parseString("certmail.journal.cassandra.contact-points = [\"127.0.0.1:9042\"]"),
        Map.of(JournalBackend.ENV_CASSANDRA_CONTACT_POINTS, "10.2.0.5:9042, 10.2.0.6:9042",
            JournalBackend.ENV_CASSANDRA_LOCAL_DATACENTER, "eu-west"));

    assertEquals(List.of("10.2.0.5:9042", "10.2.0.6:9042"), config.getStringList("datastax-java-driver.basic.contact-points"));
    assertEquals("eu-west", config.getString("datastax-java-driver.basic.load-balancing-policy.local-datacenter"));
  }

  @Test
  void cassandraRefusesAContactPointWithoutPort() {
    ConfigException error = assertThrows(ConfigException.class, () -> JournalBackend.CASSANDRA.config(
        ConfigFactory.empty(), Map.of(JournalBackend.ENV_CASSANDRA_CONTACT_POINTS, "cassandra.internal")));
    assertTrue(error.getMessage().contains("host:port"), error.getMessage());
  }

  @Test
  void aConfigAlreadyMergedWithReferenceConfIsRefused() {
    // ConfigFactory.load() carries the plugin's keyspace "pekko", which would silently win
    assertThrows(IllegalArgumentException.class,
        () -> JournalBackend.CASSANDRA.config(ConfigFactory.load(), NO_ENVIRONMENT));
  }

  @Test
  void aNodeMayIncludeTheBackendFilesInItsApplicationConfInstead() {
    Config cassandra = ConfigFactory.load(ConfigFactory.parseString("""
        include "certmail-journal-cassandra"
        certmail.journal.cassandra.keyspace = "certmail_eu"
        """));
    assertEquals("certmail_eu", cassandra.getString("pekko.persistence.cassandra.journal.keyspace"));
    assertEquals("LOCAL_QUORUM",
        cassandra.getString("datastax-java-driver.profiles.pekko-persistence-cassandra-profile.basic.request.consistency"));

    Config embedded = ConfigFactory.load(ConfigFactory.parseString("""
        include "certmail-journal-embedded"
        certmail.journal.embedded.path = "/srv/certmail/journal"
        """));
    assertEquals("jdbc:h2:file:/srv/certmail/journal;WRITE_DELAY=0;TRACE_LEVEL_FILE=0;AUTO_SERVER=false",
        embedded.getString("pekko-persistence-jdbc.shared-databases.slick.db.url"));
  }

  @Test
  void theBackendIsChosenBySettingsAndDefaultsToEmbedded() {
    assertEquals(JournalBackend.EMBEDDED, JournalBackend.fromSettings(ConfigFactory.empty()));
    assertEquals(JournalBackend.CASSANDRA,
        JournalBackend.fromSettings(ConfigFactory.parseString("certmail.journal.backend = cassandra")));
    ConfigException error = assertThrows(ConfigException.class,
        () -> JournalBackend.fromSettings(ConfigFactory.parseString("certmail.journal.backend = mongodb")));
    assertTrue(error.getMessage().contains("\"embedded\" or \"cassandra\""), error.getMessage());
  }
}
