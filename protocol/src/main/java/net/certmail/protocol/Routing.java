package net.certmail.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where a mail goes next, like MX: each server has a table "destination domain -> next hop";
 * a domain missing from a server's table is delivered to directly. A mailbox's home server is
 * its domain ({@code bob@beta.example} lives at {@code beta.example}); a domain is known when
 * the network has a server of that name.
 */
public final class Routing {
  static final int MAX_HOPS = 16;

  private final Set<String> servers;
  private final Map<String, Map<String, String>> nextHops;

  public Routing(Set<String> servers, Map<String, Map<String, String>> nextHops) {
    this.servers = Set.copyOf(servers);
    this.nextHops = Map.copyOf(nextHops);
  }

  public static String domainOf(String principal) {
    int at = principal.indexOf('@');
    return at < 0 ? principal : principal.substring(at + 1);
  }

  public static boolean isMailbox(String principal) {
    return principal.indexOf('@') > 0;
  }

  /** The organisation (cluster role) hosting a principal: a server is its own, a mailbox its domain's. */
  public static String organisationOf(String principal) {
    return domainOf(principal);
  }

  public boolean knowsDomain(String recipient) {
    return servers.contains(domainOf(recipient));
  }

  /** The next server after {@code server} towards the recipient, or empty if {@code server} delivers. */
  public Optional<String> nextHop(String server, String recipient) {
    String destination = domainOf(recipient);
    if (server.equals(destination)) {
      return Optional.empty();
    }
    return Optional.of(nextHops.getOrDefault(server, Map.of()).getOrDefault(destination, destination));
  }

  /** P1..Pn for a recipient, or empty when the domain is unknown or the tables loop. */
  public Optional<List<String>> route(String origin, String recipient) {
    if (!knowsDomain(recipient)) {
      return Optional.empty();
    }
    List<String> route = new ArrayList<>(List.of(origin));
    String current = origin;
    for (Optional<String> next = nextHop(current, recipient); next.isPresent(); next = nextHop(current, recipient)) {
      current = next.get();
      if (route.contains(current) || route.size() > MAX_HOPS) {
        return Optional.empty();
      }
      route.add(current);
    }
    return Optional.of(List.copyOf(route));
  }
}
