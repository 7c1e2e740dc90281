package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class SecretSettingsTest {
  @Test
  void everySettingNamedLikeASecretIsRedactedAndNothingElse() {
    Config config = ConfigFactory.parseString("""
        jdbc-journal.slick.db.password = "s3cr3t-journal"
        datastax-java-driver.advanced.auth-provider.password = "s3cr3t-cassandra"
        tls { key-store-password = "s3cr3t-store", client-secret = "s3cr3t-client", api-token = "s3cr3t-token" }
        certmail.journal.embedded.password-file = "/var/certmail/journal.password"
        certmail.node.name = "alpha-1"
        """);
    Config redacted = SecretSettings.redacted(config);
    for (String path : new String[] {"jdbc-journal.slick.db.password", "datastax-java-driver.advanced.auth-provider.password",
        "tls.key-store-password", "tls.client-secret", "tls.api-token"}) {
      assertEquals(SecretSettings.REDACTED, redacted.getString(path), path);
    }
    assertEquals("/var/certmail/journal.password", redacted.getString("certmail.journal.embedded.password-file"),
        "where the password lives is no secret, and operators need it");
    assertEquals("alpha-1", redacted.getString("certmail.node.name"));
    assertFalse(redacted.root().render().contains("s3cr3t"));
  }

  @Test
  void configLoggingIsTakenOverOnlyWhenAskedFor() {
    Config asked = ConfigFactory.parseString("pekko.log-config-on-start = on");
    assertFalse(SecretSettings.takeOverConfigLogging(asked).getBoolean(SecretSettings.LOG_CONFIG_ON_START),
        "Pekko's own dump, which prints secrets, is turned off");
    Config quiet = ConfigFactory.parseString("pekko.log-config-on-start = off");
    assertEquals(quiet, SecretSettings.takeOverConfigLogging(quiet));
  }
}
