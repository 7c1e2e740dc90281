package net.certmail.node.http;

import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import net.certmail.crypto.PrincipalNames;
import net.certmail.crypto.TrustStore;
import net.certmail.protocol.Routing;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Who may reach what, in one place: a mailbox's routes need its bearer token (401 / 403), a
 * mailbox hosted here (else 404 naming where to ask) and rate budget left (429); the public
 * directory needs a server of an organisation served here and is rate-limited per client address.
 */
final class AccessGuards extends AllDirectives {
  private final Set<String> hostedMailboxes;
  private final Set<String> organisations;
  private final Set<String> knownPrincipals;
  private final TokenStore tokens;
  private final RateLimiter rateLimiter;
  /** Failed authentications per client address (token guessing). */
  private final RateLimiter authFailures;

  AccessGuards(Collection<String> organisations, Set<String> hostedMailboxes, TrustStore trustStore,
               TokenStore tokens, HttpSettings settings) {
    this.organisations = Set.copyOf(organisations);
    this.hostedMailboxes = Set.copyOf(hostedMailboxes);
    this.knownPrincipals = trustStore.certificates().stream()
        .map(PrincipalNames::principalOf).collect(Collectors.toUnmodifiableSet());
    this.tokens = tokens;
    this.rateLimiter = new RateLimiter(settings.burst(), settings.perSecond(), System::nanoTime);
    this.authFailures = new RateLimiter(settings.authFailureBurst(), settings.authFailurePerSecond(), System::nanoTime);
  }

  /**
   * A mailbox's routes: its token (else 401, the same for a mailbox that exists and one that does
   * not: no token, no enumeration), then where it is hosted, then its rate budget.
   */
  Route mailboxOwner(String mailbox, Supplier<Route> inner) {
    return authenticated(mailbox, () -> hostedHere(mailbox, () -> rateLimited(mailbox, inner)));
  }

  /**
   * The public directory: no token, since COP, ROD, COD and NDN are meant for third parties
   * (anyone holding a label can check what its origin server published). Rate-limited per client
   * address instead of per mailbox.
   */
  Route publicDirectory(String server, Supplier<Route> inner) {
    if (!organisations.contains(Routing.organisationOf(server))) {
      return complete(Json.error(StatusCodes.NOT_FOUND, "NOT_HOSTED_HERE", "server " + server
          + " is not run by this node: ask a node of organisation " + Routing.organisationOf(server)));
    }
    return extractClientIP(client -> rateLimited("directory " + client.getAddress().map(Object::toString)
        .orElse("unknown"), inner));
  }

  /** Runs after authentication: a holder of a valid token learns where a mailbox is hosted, nobody else. */
  private Route hostedHere(String mailbox, Supplier<Route> inner) {
    if (hostedMailboxes.contains(mailbox)) {
      return inner.get();
    }
    if (knownPrincipals.contains(mailbox)) {
      return complete(Json.error(StatusCodes.NOT_FOUND, "NOT_HOSTED_HERE", "mailbox " + mailbox
          + " is hosted by organisation " + Routing.organisationOf(mailbox) + ": send this request to one of its nodes"));
    }
    return complete(Json.error(StatusCodes.NOT_FOUND, "UNKNOWN_MAILBOX", "no mailbox " + mailbox
        + " in this network: check the spelling (e.g. alice@alpha.example)"));
  }

  /**
   * The bearer token must be valid; a client address that failed too often gets 429 until its
   * budget refills, whatever token it sends. A valid token of another mailbox goes on to
   * {@link #hostedHere}: 403 for a mailbox hosted here, 404 with where to ask otherwise.
   */
  private Route authenticated(String mailbox, Supplier<Route> inner) {
    return extractClientIP(client -> optionalHeaderValueByName("Authorization", header -> {
      String address = client.getAddress().map(java.net.InetAddress::getHostAddress).orElse("unknown");
      if (!authFailures.hasBudget(address)) {
        long retryAfter = authFailures.retryAfterSeconds();
        return complete(Json.error(StatusCodes.TOO_MANY_REQUESTS, "RATE_LIMITED", "too many failed authentications"
            + " from your address: retry after " + retryAfter + " s with a valid token (limit:"
            + " certmail.http.auth-failure-limit)").addHeader(RawHeader.create("Retry-After", Long.toString(retryAfter))));
      }
      Optional<String> token = header.filter(value -> value.regionMatches(true, 0, "Bearer ", 0, 7))
          .map(value -> value.substring(7).trim());
      if (token.isEmpty()) {
        authFailures.tryAcquire(address);
        return complete(unauthorized("MISSING_TOKEN", "send 'Authorization: Bearer <token>'; a mailbox's token comes"
            + " from: certmail keys token --mailbox <mailbox> --keys <node key directory>"));
      }
      Optional<String> owner = tokens.mailboxOf(token.get());
      if (owner.isEmpty()) {
        authFailures.tryAcquire(address);
        return complete(unauthorized("INVALID_TOKEN", "this token is not known on this node (or was revoked): issue"
            + " one with certmail keys token --mailbox <mailbox> --keys <node key directory>"));
      }
      if (!owner.get().equals(mailbox)) {
        // The token is valid, but for another mailbox: a mailbox never reads or acts on another's data.
        return hostedHere(mailbox, () -> complete(Json.error(StatusCodes.FORBIDDEN, "WRONG_MAILBOX",
            "this token belongs to another mailbox; use the token issued for " + mailbox)));
      }
      return inner.get();
    }));
  }

  private static HttpResponse unauthorized(String reason, String message) {
    return Json.error(StatusCodes.UNAUTHORIZED, reason, message)
        .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", "certmail")));
  }

  /** @param key whose budget: a mailbox, or the public directory's client address */
  private Route rateLimited(String key, Supplier<Route> inner) {
    if (rateLimiter.tryAcquire(key)) {
      return inner.get();
    }
    long retryAfter = rateLimiter.retryAfterSeconds();
    return complete(Json.error(StatusCodes.TOO_MANY_REQUESTS, "RATE_LIMITED", "too many requests for " + key
        + ": retry after " + retryAfter + " s (limit: certmail.http.rate-limit)")
        .addHeader(RawHeader.create("Retry-After", Long.toString(retryAfter))));
  }
}
