package net.certmail.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.SignedEnvelope;
import net.certmail.proto.v1.Submission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class EnvelopeTest {
  private final TestCa network = new TestCa();
  private final EnvelopeSealer alpha = new EnvelopeSealer(network.keys("alpha.example"), TestCa.CLOCK);

  private EnvelopeOpener opener() {
    return new EnvelopeOpener(network.trustStore, new ReplayGuard(TestCa.CLOCK, Duration.ofMinutes(5)));
  }

  /** One instance of every case of the ProtocolMessage oneof, each with its first field set. */
  static Stream<ProtocolMessage> everyMessageCase() {
    return ProtocolMessage.getDescriptor().getOneofs().get(0).getFields().stream().map(field -> {
      Message.Builder inner = ProtocolMessage.newBuilder().newBuilderForField(field);
      FieldDescriptor first = inner.getDescriptorForType().getFields().get(0);
      if (first.getJavaType() == FieldDescriptor.JavaType.STRING) {
        inner.setField(first, "alpha.example/01JD" + field.getName());
      }
      return ProtocolMessage.newBuilder().setField(field, inner.build()).build();
    });
  }

  @Test
  void everyMessageCaseIsCovered() {
    assertEquals(ProtocolMessage.MessageCase.values().length - 1, everyMessageCase().count());
  }

  @ParameterizedTest
  @MethodSource("everyMessageCase")
  void everyProtocolMessageSurvivesSealAndOpen(ProtocolMessage message) throws Exception {
    SignedEnvelope envelope = alpha.seal("beta.example", message);
    OpenedEnvelope opened = opener().open(SignedEnvelope.parseFrom(envelope.toByteArray()), "beta.example");
    assertEquals(message, opened.message());
    assertEquals(message.getMessageCase(), opened.message().getMessageCase());
    assertEquals("alpha.example", opened.from());
  }

  @ParameterizedTest
  @EnumSource(value = KeyAlgorithm.class)
  void bothAlgorithmsSealAndOpen(KeyAlgorithm algorithm) throws VerificationException {
    TestCa other = new TestCa(algorithm);
    SignedEnvelope envelope = new EnvelopeSealer(other.keys("relay.example"), TestCa.CLOCK).seal("beta.example", submission());
    new EnvelopeOpener(other.trustStore, new ReplayGuard(TestCa.CLOCK, Duration.ofMinutes(5))).open(envelope, "beta.example");
  }

  @Test
  void oneChangedPayloadByteIsABadSignature() {
    SignedEnvelope envelope = alpha.seal("beta.example", submission());
    byte[] payload = envelope.getPayload().toByteArray();
    payload[payload.length - 1] ^= 1;
    assertFailure(VerificationFailure.BAD_SIGNATURE, envelope.toBuilder().setPayload(ByteString.copyFrom(payload)).build(), "beta.example");
  }

  @Test
  void oneChangedSignatureByteIsABadSignature() {
    SignedEnvelope envelope = alpha.seal("beta.example", submission());
    byte[] signature = envelope.getSignature().toByteArray();
    signature[3] ^= 0x40;
    assertFailure(VerificationFailure.BAD_SIGNATURE, envelope.toBuilder().setSignature(ByteString.copyFrom(signature)).build(), "beta.example");
  }

  @Test
  void truncatedSignatureOrPayloadIsRejected() {
    SignedEnvelope envelope = alpha.seal("beta.example", submission());
    assertFailure(VerificationFailure.BAD_SIGNATURE,
        envelope.toBuilder().setSignature(envelope.getSignature().substring(0, 40)).build(), "beta.example");
    assertFailure(VerificationFailure.BAD_SIGNATURE,
        envelope.toBuilder().setPayload(envelope.getPayload().substring(0, 10)).build(), "beta.example");
  }

  @Test
  void truncatedEnvelopeBytesDoNotParseOrDoNotVerify() {
    byte[] bytes = alpha.seal("beta.example", submission()).toByteArray();
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 20);
    assertThrows(Exception.class, () -> opener().open(SignedEnvelope.parseFrom(truncated), "beta.example"));
  }

  @Test
  void changedRecipientOrSenderHeaderIsRejected() {
    SignedEnvelope envelope = alpha.seal("beta.example", submission());
    assertFailure(VerificationFailure.BAD_SIGNATURE, envelope.toBuilder().setTo("relay.example").build(), "relay.example");
  }

  @Test
  void envelopeForAnotherPrincipalIsWrongRecipient() {
    assertFailure(VerificationFailure.WRONG_RECIPIENT, alpha.seal("beta.example", submission()), "relay.example");
  }

  @Test
  void secondOpeningOfTheSameEnvelopeIsAReplay() throws VerificationException {
    EnvelopeOpener opener = opener();
    SignedEnvelope envelope = alpha.seal("beta.example", submission());
    opener.open(envelope, "beta.example");
    VerificationException e = assertThrows(VerificationException.class, () -> opener.open(envelope, "beta.example"));
    assertEquals(VerificationFailure.REPLAYED, e.failure());
  }

  @Test
  void envelopeSentOutsideTheWindowIsStale() {
    SignedEnvelope old = new EnvelopeSealer(network.keys("alpha.example"), TestCa.at(TestCa.NOW.minus(Duration.ofMinutes(6))))
        .seal("beta.example", submission());
    assertFailure(VerificationFailure.STALE, old, "beta.example");
  }

  @Test
  void envelopeFromAClockAheadByMoreThanTheSkewAllowanceIsStale() throws VerificationException {
    EnvelopeOpener opener = new EnvelopeOpener(network.trustStore,
        new ReplayGuard(TestCa.CLOCK, Duration.ofMinutes(5), Duration.ofSeconds(4)));
    SignedEnvelope ahead = new EnvelopeSealer(network.keys("alpha.example"),
        TestCa.at(TestCa.NOW.plus(Duration.ofSeconds(30)))).seal("beta.example", submission());
    VerificationException e = assertThrows(VerificationException.class, () -> opener.open(ahead, "beta.example"));
    assertEquals(VerificationFailure.STALE, e.failure());
    SignedEnvelope withinSkew = new EnvelopeSealer(network.keys("alpha.example"),
        TestCa.at(TestCa.NOW.plus(Duration.ofSeconds(3)))).seal("beta.example", submission());
    opener.open(withinSkew, "beta.example");
  }

  @Test
  void signerWithoutCertificateIsUnknown() {
    TestCa stranger = new TestCa();
    PrincipalKeys mallory = stranger.ca.issue("mallory.example", "mallory.example", KeyAlgorithm.ED25519, Duration.ofDays(1));
    assertFailure(VerificationFailure.UNKNOWN_SIGNER, new EnvelopeSealer(mallory, TestCa.CLOCK).seal("beta.example", submission()), "beta.example");
  }

  @Test
  void certificateOfAnotherCaIsForeign() {
    TestCa other = new TestCa();
    TrustStore mixed = new TrustStore(network.ca.certificate(), List.of(other.keys("alpha.example").certificate()));
    SignedEnvelope envelope = new EnvelopeSealer(other.keys("alpha.example"), TestCa.CLOCK).seal("beta.example", submission());
    VerificationException e = assertThrows(VerificationException.class,
        () -> new EnvelopeOpener(mixed, new ReplayGuard(TestCa.CLOCK, Duration.ofMinutes(5))).open(envelope, "beta.example"));
    assertEquals(VerificationFailure.FOREIGN_CA, e.failure());
  }

  @Test
  void expiredAndNotYetValidCertificatesAreRejected() {
    PrincipalKeys expired = network.caAt(TestCa.NOW.minus(Duration.ofDays(100)))
        .issue("alpha.example", "alpha.example", KeyAlgorithm.ED25519, Duration.ofDays(30));
    PrincipalKeys future = network.caAt(TestCa.NOW.plus(Duration.ofDays(10)))
        .issue("alpha.example", "alpha.example", KeyAlgorithm.ED25519, Duration.ofDays(30));
    network.trustStore.add(expired.certificate());
    network.trustStore.add(future.certificate());
    assertFailure(VerificationFailure.CERTIFICATE_EXPIRED, new EnvelopeSealer(expired, TestCa.CLOCK).seal("beta.example", submission()), "beta.example");
    assertFailure(VerificationFailure.CERTIFICATE_NOT_YET_VALID, new EnvelopeSealer(future, TestCa.CLOCK).seal("beta.example", submission()), "beta.example");
  }

  private void assertFailure(VerificationFailure expected, SignedEnvelope envelope, String recipient) {
    VerificationException e = assertThrows(VerificationException.class, () -> opener().open(envelope, recipient));
    assertEquals(expected, e.failure(), e.getMessage());
  }

  private static ProtocolMessage submission() {
    return ProtocolMessage.newBuilder().setSubmission(Submission.newBuilder().setSubmissionId("s-1")
        .setSender("alice@alpha.example").setRecipient("bob@beta.example").setContent(ByteString.copyFromUtf8("hello"))
        .setDeadlineMillis(Instant.parse("2026-12-01T00:00:00Z").toEpochMilli())).build();
  }
}
