package net.certmail.persistence.chain;

import java.util.function.Supplier;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.StreamHead;
import net.certmail.protocol.Signatures;

/**
 * Signs every statement with the head of the signer's own stream for the mail in it
 * ({@code issuer_head}): the ACKs, CODs, ROD_ns, RODs and NDNs an organisation sends anyway then
 * carry a signed head of its log, and every peer that stores them holds a witness the audit
 * checks the organisation's journal against. The machines stay unaware; the head is the one the
 * stream's {@link ChainingEventAdapter} knows (what was persisted before this decision).
 */
public final class HeadStampingSignatures implements Signatures {
  private final Signatures inner;
  private final Supplier<StreamHead> head;

  public HeadStampingSignatures(Signatures inner, Supplier<StreamHead> head) {
    this.inner = inner;
    this.head = head;
  }

  @Override
  public SignedEvidence sign(EvidenceStatement statement) {
    return inner.sign(statement.toBuilder().setIssuerHead(head.get()).build());
  }

  @Override
  public EvidenceStatement verify(SignedEvidence item, EvidenceKind kind) throws InvalidEvidence {
    return inner.verify(item, kind);
  }
}
