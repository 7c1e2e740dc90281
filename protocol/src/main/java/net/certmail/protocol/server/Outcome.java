package net.certmail.protocol.server;

import java.util.Optional;
import net.certmail.proto.v1.SignedEvidence;

/**
 * How a mail ended as far as one server knows: delivered (ROD_n and B's COD, and at the origin
 * its own ROD) or not delivered (a non-delivery notice). At the origin this is the label's one
 * verdict; elsewhere it is the report the server owes the origin.
 */
public sealed interface Outcome {

  record Delivered(SignedEvidence rodN, SignedEvidence cod, Optional<SignedEvidence> rod) implements Outcome {}

  /** {@code refusal}: B's signed refusal, when the NDN answers it (Pn only). */
  record NotDelivered(SignedEvidence ndn, Optional<SignedEvidence> refusal) implements Outcome {
    public NotDelivered(SignedEvidence ndn) {
      this(ndn, Optional.empty());
    }
  }
}
