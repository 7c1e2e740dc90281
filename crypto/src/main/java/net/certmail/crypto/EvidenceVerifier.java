package net.certmail.crypto;

import com.google.protobuf.InvalidProtocolBufferException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.SignedEvidence;

/** Verifies evidence items against the network's trust store, at each statement's issue time. */
public final class EvidenceVerifier {
  private final TrustStore trustStore;

  public EvidenceVerifier(TrustStore trustStore) {
    this.trustStore = trustStore;
  }

  public TrustStore trustStore() {
    return trustStore;
  }

  public VerifiedEvidence verify(SignedEvidence evidence, EvidenceKind expectedKind) throws VerificationException {
    VerifiedEvidence verified = verify(evidence);
    if (verified.statement().getKind() != expectedKind) {
      throw new VerificationException(VerificationFailure.WRONG_KIND,
          "expected " + expectedKind + ", got " + verified.statement().getKind());
    }
    return verified;
  }

  public VerifiedEvidence verify(SignedEvidence evidence) throws VerificationException {
    byte[] statementBytes = evidence.getStatement().toByteArray();
    EvidenceStatement statement = parse(statementBytes);
    if (statement.getKind() == EvidenceKind.EVIDENCE_KIND_UNSPECIFIED || statement.getKind() == EvidenceKind.UNRECOGNIZED) {
      throw new VerificationException(VerificationFailure.MALFORMED, "statement has no known kind");
    }
    if (!statement.getIssuer().equals(evidence.getSigner())) {
      throw new VerificationException(VerificationFailure.MALFORMED,
          "statement issued by " + statement.getIssuer() + " but signed as " + evidence.getSigner());
    }
    KeyAlgorithm algorithm = EnvelopeOpener.algorithmOf(evidence.getAlgorithm());
    X509Certificate certificate = trustStore.certificateOf(evidence.getSigner(), evidence.getKeyId());
    byte[] signed = EvidenceSigner.signedBytes(statement, statementBytes);
    if (!Signatures.verify(SignatureCounts.Use.EVIDENCE, algorithm, trustStore.signatureKeyOf(certificate), signed, evidence.getSignature().toByteArray())) {
      throw new VerificationException(VerificationFailure.BAD_SIGNATURE,
          statement.getKind() + " for label " + statement.getLabel() + " signed as " + evidence.getSigner());
    }
    // Only now is the issue time known to be the signer's: check the certificate at that time.
    trustStore.checkValidAt(certificate, Instant.ofEpochMilli(statement.getIssuedAtMillis()));
    return new VerifiedEvidence(evidence, statement, certificate);
  }

  private static EvidenceStatement parse(byte[] statementBytes) throws VerificationException {
    try {
      return EvidenceStatement.parseFrom(statementBytes);
    } catch (InvalidProtocolBufferException e) {
      throw new VerificationException(VerificationFailure.MALFORMED, "statement does not parse: " + e.getMessage());
    }
  }
}
