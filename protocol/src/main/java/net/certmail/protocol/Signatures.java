package net.certmail.protocol;

import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.SignedEvidence;

/**
 * The roles' view of evidence crypto: sign a statement as a principal this node hosts, and check
 * an item's signature and certificate. Pure computation (Ed25519 is deterministic), so it may be
 * called inside a decision. Nodes use Bouncy Castle (crypto's EvidenceSigner and
 * EvidenceVerifier); the simulator may use a cheaper stand-in with the same contract.
 */
public interface Signatures {

  SignedEvidence sign(EvidenceStatement statement);

  /**
   * The item's statement when its signature, signer certificate and kind check out.
   *
   * @throws InvalidEvidence with the reason otherwise
   */
  EvidenceStatement verify(SignedEvidence item, EvidenceKind kind) throws InvalidEvidence;

  /** An evidence item that does not verify: forged, altered, of another kind or by an unknown signer. */
  final class InvalidEvidence extends Exception {
    public InvalidEvidence(String message) {
      super(message);
    }
  }
}
