package net.certmail.protocol.simulation;

import java.util.Map;
import net.certmail.protocol.Routing;
import net.certmail.protocol.Signatures;
import net.certmail.protocol.SubmissionPolicy;
import net.certmail.protocol.Timings;

/**
 * What the principals of one schedule share: the time model and submission policy (consistent per
 * {@code timings.check(policy)}), the routing tables drawn for the schedule, the keys, and what
 * each recipient's owner does with announced mail.
 */
public record SimulatedNetwork(Timings timings, SubmissionPolicy policy, Routing routing, Keyring keyring,
                               Map<String, OwnerBehaviour> owners) {

  public SimulatedNetwork {
    owners = Map.copyOf(owners);
  }

  public Signatures signatures(String principal) {
    return keyring.of(principal);
  }

  /** Principals that hold a certificate of the network (honest or not). */
  public boolean knownPrincipal(String principal) {
    return Cast.isPrincipal(principal);
  }

  public OwnerBehaviour ownerOf(String mailbox) {
    return owners.getOrDefault(mailbox, OwnerBehaviour.NEVER_ANSWER);
  }
}
