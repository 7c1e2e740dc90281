package net.certmail.crypto;

import com.google.protobuf.ByteString;
import java.time.Clock;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.SignedEnvelope;

/** Seals protocol messages of one principal into signed envelopes. */
public final class EnvelopeSealer {
  static final int VERSION = 1;

  private final PrincipalKeys keys;
  private final Clock clock;
  private final String keyId;

  public EnvelopeSealer(PrincipalKeys keys, Clock clock) {
    this.keys = keys;
    this.clock = clock;
    this.keyId = keys.keyId();
  }

  public String principalId() {
    return keys.principalId();
  }

  public SignedEnvelope seal(String to, ProtocolMessage message) {
    String messageId = Ulid.next(clock);
    long sentAt = clock.millis();
    byte[] payload = message.toByteArray();
    byte[] signature = Signatures.sign(SignatureCounts.Use.ENVELOPE, keys.algorithm(), keys.privateKey(),
        signedBytes(VERSION, keys.principalId(), to, messageId, sentAt, payload));
    return SignedEnvelope.newBuilder()
        .setVersion(VERSION)
        .setFrom(keys.principalId())
        .setTo(to)
        .setMessageId(messageId)
        .setSentAtMillis(sentAt)
        .setPayload(ByteString.copyFrom(payload))
        .setKeyId(keyId)
        .setAlgorithm(keys.algorithm().wireName())
        .setSignature(ByteString.copyFrom(signature))
        .build();
  }

  /** What an envelope signature covers: the envelope prefix and every header field, length-prefixed. */
  static byte[] signedBytes(int version, String from, String to, String messageId, long sentAt, byte[] payload) {
    return new CanonicalBytes()
        .raw(DomainSeparation.ENVELOPE)
        .field(version)
        .field(from)
        .field(to)
        .field(messageId)
        .field(sentAt)
        .field(payload)
        .toByteArray();
  }
}
