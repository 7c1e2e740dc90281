package net.certmail.actors;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import net.certmail.crypto.KeyAlgorithm;
import net.certmail.crypto.NetworkCa;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.crypto.TrustStore;
import net.certmail.protocol.Routing;
import net.certmail.protocol.server.ServerRules;

/**
 * The test network: a CA and every principal's keys.
 *
 * <pre>
 *   alpha.example   alice, erin        (A and B at one server: a route of 1)
 *   gamma.example   gina               (alpha -> gamma: a route of 2)
 *   relay.example                      (alpha -> relay -> beta: a route of 3)
 *   beta.example    bob (auto-accept), carol (hold), dave (refuse)
 *   delta.example   dan                (routed via dead.example, which no node runs)
 *   dead.example, bogus.example        (servers with certificates but no node)
 * </pre>
 */
public final class TestNetwork {
  public static final String ALPHA = "alpha.example";
  public static final String RELAY = "relay.example";
  public static final String BETA = "beta.example";
  public static final String GAMMA = "gamma.example";
  public static final String DELTA = "delta.example";
  public static final String DEAD = "dead.example";
  public static final String BOGUS = "bogus.example";
  public static final String ALICE = "alice@alpha.example";
  public static final String ERIN = "erin@alpha.example";
  public static final String GINA = "gina@gamma.example";
  public static final String BOB = "bob@beta.example";
  public static final String CAROL = "carol@beta.example";
  public static final String DAVE = "dave@beta.example";
  public static final String DAN = "dan@delta.example";

  static final List<String> PRINCIPALS = List.of(ALPHA, RELAY, BETA, GAMMA, DELTA, DEAD, BOGUS,
      ALICE, ERIN, GINA, BOB, CAROL, DAVE, DAN);

  /** Organisations that some node runs (dead.example and bogus.example have none). */
  public static final List<String> RUNNING_ORGANISATIONS = List.of(ALPHA, RELAY, BETA, GAMMA, DELTA);

  public final NetworkCa ca;
  /** The reminders of the nodes of this network that run on the in-memory journal (shared by them). */
  public final String reminderDatabase = TestReminders.freshDatabase();
  public final Map<String, PrincipalKeys> keys;

  public TestNetwork() {
    Clock clock = Clock.systemUTC();
    ca = NetworkCa.create("certmail test CA", KeyAlgorithm.ED25519, Duration.ofDays(3650), clock);
    keys = new LinkedHashMap<>();
    for (String principal : PRINCIPALS) {
      keys.put(principal, ca.issue(principal, Routing.organisationOf(principal), KeyAlgorithm.ED25519,
          Duration.ofDays(365)));
    }
  }

  public TrustStore trustStore() {
    return new TrustStore(ca.certificate(), keys.values().stream().map(PrincipalKeys::certificate).toList());
  }

  /** The private keys a node of these organisations holds, and no others. */
  public Map<String, PrincipalKeys> keysOf(List<String> organisations) {
    return keys.entrySet().stream()
        .filter(entry -> organisations.contains(Routing.organisationOf(entry.getKey())))
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
  }

  /**
   * Engine settings of the test network: the demo's short timings, the routes and the mailbox
   * policies above. The timeouts and margins are longer than the demo's: the tests pass them by
   * moving their clock (a relay timeout, T plus grace), and a loaded machine must not pass them
   * by itself while a test waits for a mail.
   */
  public static String engineConfig() {
    return """
        include classpath("certmail-demo-timings.conf")
        certmail.engine {
          relay-timeout = 2m
          delivery-timeout = 5m
          cod-margin = 30s
          grace = 1m
          min-lead-time = 1m
          max-content-size = 64KiB
          routes {
            "alpha.example" { "beta.example" = "relay.example", "delta.example" = "dead.example" }
          }
          mailbox-policies {
            "carol@beta.example" = hold
            "dave@beta.example" = refuse
          }
        }
        """;
  }

  /** The test network's server settings, as its nodes read them from {@link #engineConfig()}. */
  public static ServerRules serverRules() {
    EngineSettings settings = EngineSettings.fromConfig(
        com.typesafe.config.ConfigFactory.parseString(engineConfig()).withFallback(
            com.typesafe.config.ConfigFactory.defaultReference()));
    return new ServerRules(settings.timings(), settings.submissionPolicy(),
        new Routing(java.util.Set.of(ALPHA, RELAY, BETA, GAMMA, DELTA, DEAD, BOGUS), settings.routes()),
        principal -> PRINCIPALS.contains(principal));
  }
}
