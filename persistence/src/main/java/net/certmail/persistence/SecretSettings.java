package net.certmail.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValueFactory;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settings that must never reach a log: the embedded journal's password (which
 * {@link EmbeddedJournalFiles} puts into the configuration), Cassandra credentials, key store
 * passwords. Pekko's {@code pekko.log-config-on-start} prints the whole configuration as is, so
 * every ActorSystem configured by {@link JournalBackend#config} gets it turned off and, when it
 * was asked for, the configuration is logged here with each secret replaced.
 */
public final class SecretSettings {
  static final String LOG_CONFIG_ON_START = "pekko.log-config-on-start";
  static final String REDACTED = "<redacted>";
  /** A setting is secret by its name's last element: password, key-password, secret, token, credentials... */
  private static final Pattern SECRET_NAME = Pattern.compile("(?i).*(password|passphrase|secret|token|credential).*");
  private static final Logger LOG = LoggerFactory.getLogger(SecretSettings.class);

  private SecretSettings() {}

  /** The configuration with every secret setting's value replaced by {@value #REDACTED}. */
  public static Config redacted(Config config) {
    Config result = config;
    for (Map.Entry<String, ?> entry : config.entrySet()) {
      List<String> path = ConfigUtil.splitPath(entry.getKey());
      String name = path.get(path.size() - 1);
      // A password-file names where the secret is, not the secret: operators need to see it.
      if (SECRET_NAME.matcher(name).matches() && !name.endsWith("-file")) {
        result = result.withValue(entry.getKey(), ConfigValueFactory.fromAnyRef(REDACTED, "redacted"));
      }
    }
    return result;
  }

  /** Logs the configuration (redacted) if {@code pekko.log-config-on-start} asks for it, and stops Pekko doing so. */
  static Config takeOverConfigLogging(Config config) {
    if (!config.hasPath(LOG_CONFIG_ON_START) || !config.getBoolean(LOG_CONFIG_ON_START)) {
      return config;
    }
    LOG.info("configuration (secrets redacted):\n{}",
        redacted(config).root().render(ConfigRenderOptions.defaults().setOriginComments(false)));
    return config.withValue(LOG_CONFIG_ON_START, ConfigValueFactory.fromAnyRef(false, "certmail: logged redacted"));
  }
}
