package net.certmail.protocol.simulation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import net.certmail.protocol.Routing;

/**
 * Who is in the simulated network. Three mail domains with their home servers, three relays that
 * host nobody, four honest mailboxes, and two dishonest principals with valid keys: a server that
 * is on no route ({@value #ROGUE_SERVER}) and a mailbox of alpha.example ({@value #ROGUE_MAILBOX}).
 * The routing tables are drawn per schedule, so that routes have 1 to 4 servers.
 */
final class Cast {
  static final String ALPHA = "alpha.example";
  static final String BETA = "beta.example";
  static final String GAMMA = "gamma.example";
  static final List<String> HOME_SERVERS = List.of(ALPHA, BETA, GAMMA);
  static final List<String> RELAYS = List.of("relay1.example", "relay2.example", "relay3.example");
  static final String ROGUE_SERVER = "rogue.example";
  static final String ROGUE_MAILBOX = "erin@alpha.example";
  static final List<String> MAILBOXES = List.of("alice@alpha.example", "anna@alpha.example", "bob@beta.example",
      "carol@gamma.example");
  /** A mailbox nobody holds, at a server that exists: Pn cannot deliver. */
  static final String UNKNOWN_MAILBOX = "nobody@beta.example";
  /** A mailbox at a domain no server serves: P1 refuses the submission. */
  static final String UNKNOWN_DOMAIN_MAILBOX = "x@nowhere.example";

  private Cast() {}

  private static final List<String> HONEST_SERVERS = concat(HOME_SERVERS, RELAYS);
  private static final List<String> PRINCIPALS = concat(concat(HONEST_SERVERS, List.of(ROGUE_SERVER)),
      concat(MAILBOXES, List.of(ROGUE_MAILBOX)));
  private static final Set<String> PRINCIPAL_SET = Set.copyOf(PRINCIPALS);

  static List<String> honestServers() {
    return HONEST_SERVERS;
  }

  /** Every principal holding a key: honest and dishonest. */
  static List<String> principals() {
    return PRINCIPALS;
  }

  static boolean isPrincipal(String principal) {
    return PRINCIPAL_SET.contains(principal);
  }

  static boolean isHonest(String principal) {
    return !principal.equals(ROGUE_SERVER) && !principal.equals(ROGUE_MAILBOX) && PRINCIPAL_SET.contains(principal);
  }

  private static List<String> concat(List<String> first, List<String> second) {
    List<String> all = new ArrayList<>(first);
    all.addAll(second);
    return List.copyOf(all);
  }

  static boolean isRogue(String principal) {
    return principal.equals(ROGUE_SERVER) || principal.equals(ROGUE_MAILBOX);
  }

  /**
   * Tables in which mail to each home domain passes 0 to 2 relays (drawn per destination), so a
   * route is P1 alone (same domain) or 2 to 4 servers. No route passes the rogue server.
   */
  static Routing routing(SplittableRandom random) {
    Set<String> servers = new LinkedHashSet<>(honestServers());
    servers.add(ROGUE_SERVER);
    Map<String, Map<String, String>> nextHops = new HashMap<>();
    for (String destination : HOME_SERVERS) {
      List<String> relays = new ArrayList<>(RELAYS);
      int count = random.nextInt(3);
      List<String> chain = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        chain.add(relays.remove(random.nextInt(relays.size())));
      }
      if (chain.isEmpty()) {
        continue;
      }
      for (String server : servers) {
        if (!server.equals(destination) && !chain.contains(server)) {
          nextHops.computeIfAbsent(server, s -> new HashMap<>()).put(destination, chain.get(0));
        }
      }
      for (int i = 0; i + 1 < chain.size(); i++) {
        nextHops.computeIfAbsent(chain.get(i), s -> new HashMap<>()).put(destination, chain.get(i + 1));
      }
    }
    return new Routing(servers, nextHops);
  }
}
