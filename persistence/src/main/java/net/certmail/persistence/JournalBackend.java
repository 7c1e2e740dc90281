package net.certmail.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValueFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The journal a certmail node persists its entities in, and the Pekko configuration that selects it.
 *
 * <pre>{@code
 * Config settings = ConfigFactory.parseFile(nodeConfFile);          // the node's own settings
 * JournalBackend backend = JournalBackend.fromSettings(settings);     // certmail.journal.backend
 * ActorSystem<Void> system = ActorSystem.create(guardian, "certmail", backend.config(settings));
 * if (backend == JournalBackend.EMBEDDED) EmbeddedJournalSchema.ensureCreated(system);
 * }</pre>
 *
 * The configuration is a fallback chain, highest first: JVM system properties, the environment
 * overrides of the backend, the given settings, the backend's file ({@link #resource()}), the
 * libraries' {@code reference.conf}. A node may instead {@code include} the backend's file in its
 * application.conf; then the environment override of the Cassandra contact points does not apply.
 */
public enum JournalBackend {

  /** pekko-persistence-jdbc on an H2 file: one machine, no server to run. */
  EMBEDDED("certmail-journal-embedded.conf", "jdbc-read-journal"),

  /** pekko-persistence-cassandra: clusters. */
  CASSANDRA("certmail-journal-cassandra.conf", "pekko.persistence.cassandra.query");

  /** Setting that names the backend: "embedded" or "cassandra" (default in reference.conf). */
  public static final String BACKEND_SETTING = "certmail.journal.backend";

  /** Comma-separated host:port list that replaces certmail.journal.cassandra.contact-points. */
  public static final String ENV_CASSANDRA_CONTACT_POINTS = "CERTMAIL_CASSANDRA_CONTACT_POINTS";

  /** Replaces certmail.journal.cassandra.local-datacenter. */
  public static final String ENV_CASSANDRA_LOCAL_DATACENTER = "CERTMAIL_CASSANDRA_LOCAL_DATACENTER";

  private final String resource;
  private final String readJournalPluginId;

  JournalBackend(String resource, String readJournalPluginId) {
    this.resource = resource;
    this.readJournalPluginId = readJournalPluginId;
  }

  /** The classpath resource holding this backend's settings and plugin wiring. */
  public String resource() {
    return resource;
  }

  /**
   * Plugin id for {@code PersistenceQuery.get(system).getReadJournalFor(type, id)}; both read
   * journals implement CurrentPersistenceIdsQuery and CurrentEventsByPersistenceIdQuery.
   */
  public String readJournalPluginId() {
    return readJournalPluginId;
  }

  /** The backend named by {@value #BACKEND_SETTING} in the settings (default: embedded). */
  public static JournalBackend fromSettings(Config settings) {
    Config withDefault = settings
        .withFallback(ConfigFactory.defaultReference(JournalBackend.class.getClassLoader()))
        .resolve(ConfigResolveOptions.defaults().setAllowUnresolved(true));
    String name = withDefault.getString(BACKEND_SETTING);
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(BACKEND_SETTING,
          "unknown journal backend \"" + name + "\": use \"embedded\" or \"cassandra\"");
    }
  }

  /**
   * The complete, resolved configuration for an ActorSystem that persists in this backend.
   *
   * @param settings the application's own settings, NOT merged with reference.conf: use
   *     ConfigFactory.parseFile/parseString/parseResources, or ConfigFactory.empty(). A config from
   *     ConfigFactory.load() already carries the plugins' defaults (keyspace "pekko", ...), which
   *     would win over this backend's file.
   */
  public Config config(Config settings) {
    Config config = config(settings, System.getenv());
    // The embedded journal's directory, files and password (EmbeddedJournalFiles): owner-only, made here.
    // log-config-on-start would print that password: the config is logged redacted instead.
    return SecretSettings.takeOverConfigLogging(this == EMBEDDED ? EmbeddedJournalFiles.secure(config) : config);
  }

  /** As {@link #config(Config)}, with the environment given and no file touched (for tests). */
  Config config(Config settings, Map<String, String> environment) {
    if (settings.hasPath("pekko.version")) {
      throw new IllegalArgumentException("JournalBackend." + this + ".config(settings) needs the"
          + " application's own settings, but got a config that already includes reference.conf"
          + " (from ConfigFactory.load()?), whose plugin defaults would override " + resource
          + ". Pass ConfigFactory.parseFile(...) / parseResources(...) instead.");
    }
    ClassLoader loader = JournalBackend.class.getClassLoader();
    Config backendFile = ConfigFactory.parseResources(loader, resource,
        ConfigParseOptions.defaults().setAllowMissing(false));
    Config chain = environmentOverrides(environment).withFallback(settings).withFallback(backendFile);
    // load(): system properties on top, every reference.conf underneath, then resolve.
    Config config = ConfigFactory.load(loader, chain);
    check(config);
    return config;
  }

  private Config environmentOverrides(Map<String, String> environment) {
    Config overrides = ConfigFactory.empty();
    if (this != CASSANDRA) {
      return overrides;
    }
    String contactPoints = environment.get(ENV_CASSANDRA_CONTACT_POINTS);
    if (contactPoints != null && !contactPoints.isBlank()) {
      List<String> list = Arrays.stream(contactPoints.split(","))
          .map(String::trim)
          .filter(s -> !s.isEmpty())
          .toList();
      overrides = overrides.withValue("certmail.journal.cassandra.contact-points",
          ConfigValueFactory.fromIterable(list, "environment variable " + ENV_CASSANDRA_CONTACT_POINTS));
    }
    String datacenter = environment.get(ENV_CASSANDRA_LOCAL_DATACENTER);
    if (datacenter != null && !datacenter.isBlank()) {
      overrides = overrides.withValue("certmail.journal.cassandra.local-datacenter",
          ConfigValueFactory.fromAnyRef(datacenter.trim(), "environment variable " + ENV_CASSANDRA_LOCAL_DATACENTER));
    }
    return overrides;
  }

  /** Fails at start-up on settings that would misbehave only much later. */
  private void check(Config config) {
    switch (this) {
      case EMBEDDED -> {
        String path = config.getString("certmail.journal.embedded.path");
        if (!(path.startsWith("/") || path.startsWith("./") || path.startsWith("~/"))) {
          throw new ConfigException.BadValue("certmail.journal.embedded.path",
              "\"" + path + "\" must be absolute or start with \"./\" (H2 refuses paths implicitly"
                  + " relative to the working directory)");
        }
        EmbeddedJournalSchema.requireWriteDelayZero(config.getString("certmail.journal.embedded.url"));
      }
      case CASSANDRA -> {
        List<String> contactPoints = config.getStringList("certmail.journal.cassandra.contact-points");
        if (contactPoints.isEmpty()) {
          throw new ConfigException.BadValue("certmail.journal.cassandra.contact-points",
              "is empty: name at least one Cassandra node as \"host:9042\"");
        }
        for (String contactPoint : contactPoints) {
          if (!contactPoint.matches("[^:\\s]+:\\d{1,5}") && !contactPoint.matches("\\[[0-9a-fA-F:]+]:\\d{1,5}")) {
            throw new ConfigException.BadValue("certmail.journal.cassandra.contact-points",
                "\"" + contactPoint + "\" is not host:port (e.g. \"10.0.0.5:9042\")");
          }
        }
      }
    }
  }
}
