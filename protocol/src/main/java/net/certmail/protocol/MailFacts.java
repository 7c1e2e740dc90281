package net.certmail.protocol;

import java.util.List;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;

/**
 * What a verified COP certifies about one mail: the label, its parties, its deadline, its
 * flavour and the route P1..Pn. Every party that holds the COP judges all other evidence for the
 * label against these facts ({@link Entitlements}).
 */
public record MailFacts(String label, String sender, String recipient, String origin, List<String> route,
                        Flavour flavour, long deadlineMillis, byte[] contentHash, String submissionId) {

  public MailFacts {
    route = List.copyOf(route);
  }

  public static MailFacts of(EvidenceStatement cop) {
    return new MailFacts(cop.getLabel(), cop.getSender(), cop.getRecipient(), cop.getIssuer(), cop.getRouteList(),
        cop.getFlavour(), cop.getDeadlineMillis(), cop.getContentHash().toByteArray(), cop.getSubmissionId());
  }

  /** Pn: the recipient's home server, last on the route. */
  public String destination() {
    return route.get(route.size() - 1);
  }

  /** The server's place on the route (0 = P1), or -1 when it is not on it. */
  public int positionOf(String server) {
    return route.indexOf(server);
  }

  public boolean onRoute(String server) {
    return route.contains(server);
  }
}
