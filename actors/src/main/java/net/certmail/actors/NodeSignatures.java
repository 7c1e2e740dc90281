package net.certmail.actors;

import java.util.function.Supplier;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.VerificationException;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.Signatures;

/**
 * The protocol core's evidence crypto on a node: Bouncy Castle signing as one hosted principal,
 * PKIX verification. The key is looked up only when the principal signs, so an entity addressed
 * to a principal this node holds no key of (a made-up mailbox) still starts, drops what it was
 * sent and passivates.
 */
final class NodeSignatures implements Signatures {
  private final Supplier<EvidenceSigner> signer;
  private final EvidenceVerifier verifier;

  NodeSignatures(Supplier<EvidenceSigner> signer, EvidenceVerifier verifier) {
    this.signer = signer;
    this.verifier = verifier;
  }

  @Override
  public SignedEvidence sign(EvidenceStatement statement) {
    return signer.get().sign(statement);
  }

  @Override
  public EvidenceStatement verify(SignedEvidence item, EvidenceKind kind) throws InvalidEvidence {
    try {
      return verifier.verify(item, kind).statement();
    } catch (VerificationException e) {
      throw new InvalidEvidence(e.getMessage());
    }
  }
}
