package net.certmail.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import net.certmail.proto.v1.EtsiEvent;
import net.certmail.proto.v1.EvidenceBundle;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.SignedEvidence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class EvidenceTest {
  private static final String LABEL = "alpha.example/01JDTEST";
  private final TestCa network = new TestCa();
  private final EvidenceVerifier verifier = new EvidenceVerifier(network.trustStore);

  private static EvidenceStatement statement(EvidenceKind kind, String issuer) {
    EtsiEvent event = EvidenceStatements.etsiEventsOf(kind).iterator().next();
    return EvidenceStatement.newBuilder().setVersion(1).setKind(kind).setEtsiEvent(event).setLabel(LABEL)
        .setIssuer(issuer).setSender("alice@alpha.example").setRecipient("bob@beta.example")
        .setCounterparty("beta.example").setContentHash(ByteString.copyFrom(ContentHash.of(new byte[] {1, 2})))
        .setIssuedAtMillis(TestCa.NOW.toEpochMilli()).build();
  }

  private SignedEvidence cod() {
    return new EvidenceSigner(network.keys("bob@beta.example")).sign(statement(EvidenceKind.COD, "bob@beta.example"));
  }

  @ParameterizedTest
  @EnumSource(value = EvidenceKind.class, names = {"EVIDENCE_KIND_UNSPECIFIED", "UNRECOGNIZED"}, mode = EnumSource.Mode.EXCLUDE)
  void everyKindSurvivesSignVerifyAndABundleFile(EvidenceKind kind, @TempDir Path dir) throws Exception {
    SignedEvidence signed = new EvidenceSigner(network.keys("beta.example")).sign(statement(kind, "beta.example"));
    assertEquals(kind, verifier.verify(signed, kind).statement().getKind());

    EvidenceBundle bundle = EvidenceBundles.of(LABEL, List.of(signed), network.trustStore);
    EvidenceBundles.write(bundle, dir.resolve("b.cmb"));
    EvidenceBundle read = EvidenceBundles.read(dir.resolve("b.cmb"));
    assertEquals(bundle, read);
    BundleVerifier.Report report = BundleVerifier.verify(read);
    assertTrue(report.allValid(), report.toString());
  }

  @Test
  void oneChangedStatementByteIsRejected() {
    SignedEvidence cod = cod();
    byte[] statement = cod.getStatement().toByteArray();
    // The last byte is in issued_at: the statement still parses, so only the signature can tell.
    statement[statement.length - 1] ^= 1;
    assertFailure(VerificationFailure.BAD_SIGNATURE, cod.toBuilder().setStatement(ByteString.copyFrom(statement)).build());
  }

  @Test
  void oneChangedSignatureByteIsRejected() {
    SignedEvidence cod = cod();
    byte[] signature = cod.getSignature().toByteArray();
    signature[10] ^= 1;
    assertFailure(VerificationFailure.BAD_SIGNATURE, cod.toBuilder().setSignature(ByteString.copyFrom(signature)).build());
  }

  @Test
  void signatureByAnotherPrincipalClaimingTheSignerIsRejected() {
    EvidenceStatement byAlpha = statement(EvidenceKind.ROD, "alpha.example");
    byte[] bytes = byAlpha.toByteArray();
    PrincipalKeys relay = network.keys("relay.example");
    byte[] signature = Signatures.sign(SignatureCounts.Use.EVIDENCE, relay.algorithm(), relay.privateKey(), EvidenceSigner.signedBytes(byAlpha, bytes));
    SignedEvidence forged = SignedEvidence.newBuilder().setStatement(ByteString.copyFrom(bytes)).setSigner("alpha.example")
        .setKeyId(relay.keyId()).setAlgorithm(relay.algorithm().wireName()).setSignature(ByteString.copyFrom(signature)).build();
    // With the relay's key id: that key is not alpha's.
    assertFailure(VerificationFailure.WRONG_KEY, forged);
    // With alpha's key id: the relay's signature does not verify under alpha's key.
    assertFailure(VerificationFailure.BAD_SIGNATURE, forged.toBuilder().setKeyId(network.keys("alpha.example").keyId()).build());
    // Signer field swapped to the relay: the statement still names alpha as issuer.
    assertFailure(VerificationFailure.MALFORMED, forged.toBuilder().setSigner("relay.example").build());
  }

  @Test
  void signatureOverAnotherKindsPrefixIsRejected() {
    EvidenceStatement cod = statement(EvidenceKind.COD, "bob@beta.example");
    byte[] bytes = cod.toByteArray();
    PrincipalKeys bob = network.keys("bob@beta.example");
    byte[] wrongPrefix = concat(DomainSeparation.evidence(EvidenceKind.COP), bytes);
    SignedEvidence signed = SignedEvidence.newBuilder().setStatement(ByteString.copyFrom(bytes)).setSigner(bob.principalId())
        .setKeyId(bob.keyId()).setAlgorithm(bob.algorithm().wireName())
        .setSignature(ByteString.copyFrom(Signatures.sign(SignatureCounts.Use.EVIDENCE, bob.algorithm(), bob.privateKey(), wrongPrefix))).build();
    assertFailure(VerificationFailure.BAD_SIGNATURE, signed);
    // An envelope signature over the same bytes cannot pass for evidence either.
    byte[] envelopePrefix = concat(DomainSeparation.ENVELOPE, bytes);
    assertFailure(VerificationFailure.BAD_SIGNATURE, signed.toBuilder()
        .setSignature(ByteString.copyFrom(Signatures.sign(SignatureCounts.Use.EVIDENCE, bob.algorithm(), bob.privateKey(), envelopePrefix))).build());
  }

  @Test
  void truncatedStatementIsRejected() {
    SignedEvidence cod = cod();
    for (int length : new int[] {0, 3, cod.getStatement().size() / 2, cod.getStatement().size() - 1}) {
      SignedEvidence truncated = cod.toBuilder().setStatement(cod.getStatement().substring(0, length)).build();
      VerificationException e = assertThrows(VerificationException.class, () -> verifier.verify(truncated));
      assertTrue(e.failure() == VerificationFailure.MALFORMED || e.failure() == VerificationFailure.BAD_SIGNATURE, e.getMessage());
    }
    assertFailure(VerificationFailure.BAD_SIGNATURE, cod.toBuilder().setSignature(cod.getSignature().substring(0, 63)).build());
  }

  @Test
  void unknownSignerIsRejected() {
    TestCa stranger = new TestCa();
    PrincipalKeys mallory = stranger.ca.issue("mallory.example", "mallory.example", KeyAlgorithm.ED25519, Duration.ofDays(1));
    assertFailure(VerificationFailure.UNKNOWN_SIGNER, new EvidenceSigner(mallory).sign(statement(EvidenceKind.NDN, "mallory.example")));
  }

  @Test
  void certificateOfAnotherCaIsRejected() {
    TestCa other = new TestCa();
    PrincipalKeys impostor = other.keys("beta.example");
    TrustStore mixed = new TrustStore(network.ca.certificate(), List.of(impostor.certificate()));
    SignedEvidence signed = new EvidenceSigner(impostor).sign(statement(EvidenceKind.ROD_N, "beta.example"));
    VerificationException e = assertThrows(VerificationException.class, () -> new EvidenceVerifier(mixed).verify(signed));
    assertEquals(VerificationFailure.FOREIGN_CA, e.failure());
  }

  @Test
  void aCertificateOverAValidatedKeyButNotIssuedByTheCaIsRejected() throws Exception {
    // Same public key as a genuine certificate, but subject and signature from another CA: the
    // PKIX cache must not let it through because the genuine one was validated first.
    PrincipalKeys genuine = network.keys("relay.example");
    verifier.verify(new EvidenceSigner(genuine).sign(statement(EvidenceKind.RELAY_ACK, "relay.example")));
    NetworkCa rogue = NetworkCa.create("rogue", KeyAlgorithm.ED25519, Duration.ofDays(3650), TestCa.at(TestCa.NOW.minus(Duration.ofDays(1))));
    var forgedCertificate = rogue.certify("relay.example", "relay.example", genuine.certificate().getPublicKey(), Duration.ofDays(30), List.of());
    network.trustStore.add(forgedCertificate);
    VerificationException e = assertThrows(VerificationException.class,
        () -> verifier.verify(new EvidenceSigner(genuine).sign(statement(EvidenceKind.RELAY_ACK, "relay.example"))));
    assertEquals(VerificationFailure.FOREIGN_CA, e.failure());
  }

  @Test
  void expiredAndNotYetValidCertificatesAreRejectedAtTheIssueTime() {
    PrincipalKeys expired = network.caAt(TestCa.NOW.minus(Duration.ofDays(100)))
        .issue("relay.example", "relay.example", KeyAlgorithm.ED25519, Duration.ofDays(30));
    PrincipalKeys future = network.caAt(TestCa.NOW.plus(Duration.ofDays(10)))
        .issue("relay.example", "relay.example", KeyAlgorithm.ED25519, Duration.ofDays(30));
    network.trustStore.add(expired.certificate());
    network.trustStore.add(future.certificate());
    assertFailure(VerificationFailure.CERTIFICATE_EXPIRED, new EvidenceSigner(expired).sign(statement(EvidenceKind.RELAY_ACK, "relay.example")));
    assertFailure(VerificationFailure.CERTIFICATE_NOT_YET_VALID, new EvidenceSigner(future).sign(statement(EvidenceKind.RELAY_ACK, "relay.example")));
  }

  @Test
  void expectedKindIsEnforced() {
    VerificationException e = assertThrows(VerificationException.class, () -> verifier.verify(cod(), EvidenceKind.ROD));
    assertEquals(VerificationFailure.WRONG_KIND, e.failure());
  }

  private void assertFailure(VerificationFailure expected, SignedEvidence evidence) {
    VerificationException e = assertThrows(VerificationException.class, () -> verifier.verify(evidence));
    assertEquals(expected, e.failure(), e.getMessage());
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
