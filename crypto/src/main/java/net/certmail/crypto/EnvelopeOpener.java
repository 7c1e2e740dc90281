package net.certmail.crypto;

import com.google.protobuf.InvalidProtocolBufferException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.SignatureAlgorithm;
import net.certmail.proto.v1.SignedEnvelope;

/**
 * Verifies envelopes before anyone acts on them: known signer whose certificate chains to the
 * network CA, the exact bytes signed, addressed to the expected principal, fresh and not a
 * replay, and a payload that parses. Checks are ordered cheapest first and the replay guard
 * is consulted only after the signature, so forged envelopes cannot poison it. The certificate's
 * validity is checked at the send time after the signature, which vouches for that time.
 */
public final class EnvelopeOpener {
  private final TrustStore trustStore;
  private final ReplayGuard replayGuard;

  public EnvelopeOpener(TrustStore trustStore, ReplayGuard replayGuard) {
    this.trustStore = trustStore;
    this.replayGuard = replayGuard;
  }

  public OpenedEnvelope open(SignedEnvelope envelope, String expectedRecipient) throws VerificationException {
    if (envelope.getVersion() != EnvelopeSealer.VERSION) {
      throw new VerificationException(VerificationFailure.MALFORMED, "unknown envelope version " + envelope.getVersion());
    }
    if (envelope.getFrom().isEmpty() || envelope.getMessageId().isEmpty() || envelope.getSignature().isEmpty()) {
      throw new VerificationException(VerificationFailure.MALFORMED, "envelope lacks sender, id or signature");
    }
    if (!envelope.getTo().equals(expectedRecipient)) {
      throw new VerificationException(VerificationFailure.WRONG_RECIPIENT,
          "addressed to " + envelope.getTo() + ", received by " + expectedRecipient);
    }
    KeyAlgorithm algorithm = algorithmOf(envelope.getAlgorithm());
    X509Certificate certificate = trustStore.certificateOf(envelope.getFrom(), envelope.getKeyId());
    byte[] payload = envelope.getPayload().toByteArray();
    byte[] signed = EnvelopeSealer.signedBytes(envelope.getVersion(), envelope.getFrom(), envelope.getTo(),
        envelope.getMessageId(), envelope.getSentAtMillis(), payload);
    if (!Signatures.verify(SignatureCounts.Use.ENVELOPE, algorithm, trustStore.signatureKeyOf(certificate), signed, envelope.getSignature().toByteArray())) {
      throw new VerificationException(VerificationFailure.BAD_SIGNATURE, "envelope " + envelope.getMessageId() + " from " + envelope.getFrom());
    }
    trustStore.checkValidAt(certificate, Instant.ofEpochMilli(envelope.getSentAtMillis()));
    replayGuard.admit(envelope.getMessageId(), envelope.getSentAtMillis());
    try {
      ProtocolMessage message = ProtocolMessage.parseFrom(payload);
      if (message.getMessageCase() == ProtocolMessage.MessageCase.MESSAGE_NOT_SET) {
        throw new VerificationException(VerificationFailure.MALFORMED, "payload carries no protocol message");
      }
      return new OpenedEnvelope(envelope.getFrom(), envelope.getTo(), envelope.getMessageId(),
          envelope.getSentAtMillis(), message, envelope);
    } catch (InvalidProtocolBufferException e) {
      throw new VerificationException(VerificationFailure.MALFORMED, "payload is not a protocol message: " + e.getMessage());
    }
  }

  static KeyAlgorithm algorithmOf(SignatureAlgorithm algorithm) throws VerificationException {
    try {
      return KeyAlgorithm.fromWire(algorithm);
    } catch (IllegalArgumentException e) {
      throw new VerificationException(VerificationFailure.MALFORMED, e.getMessage());
    }
  }
}
