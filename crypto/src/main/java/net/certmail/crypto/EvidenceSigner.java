package net.certmail.crypto;

import com.google.protobuf.ByteString;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.SignedEvidence;

/**
 * Signs evidence statements for one principal. The statement is serialized once; those exact
 * bytes are signed (behind a prefix naming the kind) and stored, so verification never depends
 * on protobuf re-encoding.
 */
public final class EvidenceSigner {
  private final PrincipalKeys keys;
  private final String keyId;

  public EvidenceSigner(PrincipalKeys keys) {
    this.keys = keys;
    this.keyId = keys.keyId();
  }

  public String principalId() {
    return keys.principalId();
  }

  public SignedEvidence sign(EvidenceStatement statement) {
    if (!statement.getIssuer().equals(keys.principalId())) {
      throw new IllegalArgumentException(
          keys.principalId() + " cannot sign a statement issued by " + statement.getIssuer());
    }
    byte[] statementBytes = statement.toByteArray();
    byte[] signature = Signatures.sign(SignatureCounts.Use.EVIDENCE, keys.algorithm(), keys.privateKey(), signedBytes(statement, statementBytes));
    return SignedEvidence.newBuilder()
        .setStatement(ByteString.copyFrom(statementBytes))
        .setSigner(keys.principalId())
        .setKeyId(keyId)
        .setAlgorithm(keys.algorithm().wireName())
        .setSignature(ByteString.copyFrom(signature))
        .build();
  }

  /** What an evidence signature covers: the kind's domain prefix, then the statement's exact bytes. */
  public static byte[] signedBytes(EvidenceStatement statement, byte[] statementBytes) {
    byte[] prefix = DomainSeparation.evidence(statement.getKind());
    byte[] data = new byte[prefix.length + statementBytes.length];
    System.arraycopy(prefix, 0, data, 0, prefix.length);
    System.arraycopy(statementBytes, 0, data, prefix.length, statementBytes.length);
    return data;
  }
}
