package net.certmail.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Arrays;
import net.certmail.crypto.SignatureCounts.Use;
import net.certmail.proto.v1.SignedEvidence;
import org.junit.jupiter.api.Test;

/**
 * Ed25519 signatures are checked with the key decoded once per certificate (Bouncy Castle's
 * RFC 8032 code): it must accept and refuse exactly what the JCA Signature accepts and refuses.
 */
class SignaturesTest {
  private static final byte[] DATA = "certmail/v1/evidence\0some statement".getBytes(StandardCharsets.UTF_8);
  // The order of the Ed25519 group: s + L verifies in a lax implementation, never in RFC 8032's.
  private static final BigInteger L = BigInteger.ONE.shiftLeft(252).add(new BigInteger("27742317777372353535851937790883648493"));

  private final TestCa network = new TestCa();
  private final PrincipalKeys bob = network.keys("bob@beta.example");
  private final SignatureKey bobsKey = network.trustStore.signatureKeyOf(bob.certificate());

  @Test
  void theDecodedKeyAgreesWithTheJcaSignatureOnEveryChangedByte() throws Exception {
    byte[] signature = Signatures.sign(Use.EVIDENCE, KeyAlgorithm.ED25519, bob.privateKey(), DATA);
    assertTrue(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, DATA, signature));
    assertTrue(jca(bob.certificate().getPublicKey(), DATA, signature));
    for (int i = 0; i < signature.length; i++) {
      byte[] forged = signature.clone();
      forged[i] ^= 0x01;
      assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, DATA, forged), "byte " + i);
      assertFalse(jca(bob.certificate().getPublicKey(), DATA, forged), "byte " + i);
    }
    byte[] changedData = DATA.clone();
    changedData[changedData.length - 1] ^= 0x01;
    assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, changedData, signature));
  }

  /**
   * A check of what this JVM signed is answered without the curve arithmetic, and only for the
   * exact key, signature and bytes: each changed byte, other data or another key is checked in
   * full and refused.
   */
  @Test
  void aCheckOfWhatThisJvmSignedIsRememberedForExactlyThoseBytes() {
    byte[] data = ("remembered " + System.nanoTime()).getBytes(StandardCharsets.UTF_8);
    byte[] signature = Signatures.sign(Use.EVIDENCE, KeyAlgorithm.ED25519, bob.privateKey(), data);
    long remembered = SignatureCounts.remembered(Use.EVIDENCE);
    assertTrue(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, data, signature));
    assertEquals(remembered + 1, SignatureCounts.remembered(Use.EVIDENCE), "answered from memory");

    for (int i = 0; i < signature.length; i++) {
      byte[] forged = signature.clone();
      forged[i] ^= 0x01;
      assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, data, forged), "byte " + i);
    }
    byte[] changedData = data.clone();
    changedData[0] ^= 0x01;
    assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, changedData, signature));
    SignatureKey alphasKey = network.trustStore.signatureKeyOf(network.keys("alpha.example").certificate());
    assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, alphasKey, data, signature));
    assertEquals(remembered + 1, SignatureCounts.remembered(Use.EVIDENCE), "none of those from memory");
  }

  /**
   * What a JVM remembers of its own signatures is keyed by the public key derived from the private
   * key, not by the certificate: a private key that does not match a certificate is found out by
   * the full check, as before.
   */
  @Test
  void aSignatureByAKeyThatIsNotTheCertificatesIsCheckedInFullAndRefused() {
    byte[] data = ("mismatched " + System.nanoTime()).getBytes(StandardCharsets.UTF_8);
    PrincipalKeys alpha = network.keys("alpha.example");
    byte[] byAlpha = Signatures.sign(Use.EVIDENCE, KeyAlgorithm.ED25519, alpha.privateKey(), data);
    long remembered = SignatureCounts.remembered(Use.EVIDENCE);
    assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, data, byAlpha));
    assertEquals(remembered, SignatureCounts.remembered(Use.EVIDENCE));
  }

  /** A signature from elsewhere is checked in full the first time, remembered once valid; key checks never are. */
  @Test
  void aValidSignatureFromElsewhereIsRememberedAfterItsFirstFullCheck() throws Exception {
    byte[] data = ("elsewhere " + System.nanoTime()).getBytes(StandardCharsets.UTF_8);
    Signature jca = Signature.getInstance("Ed25519", BouncyCastle.PROVIDER);
    jca.initSign(bob.privateKey());
    jca.update(data);
    byte[] signature = jca.sign(); // not through Signatures: this JVM's memory does not know it
    long remembered = SignatureCounts.remembered(Use.ENVELOPE);
    assertTrue(Signatures.verify(Use.ENVELOPE, KeyAlgorithm.ED25519, bobsKey, data, signature));
    assertEquals(remembered, SignatureCounts.remembered(Use.ENVELOPE), "the first check is a full one");
    assertTrue(Signatures.verify(Use.ENVELOPE, KeyAlgorithm.ED25519, bobsKey, data, signature));
    assertEquals(remembered + 1, SignatureCounts.remembered(Use.ENVELOPE));

    long keyChecks = SignatureCounts.remembered(Use.KEY_CHECK);
    byte[] probe = Signatures.sign(Use.KEY_CHECK, KeyAlgorithm.ED25519, bob.privateKey(), data);
    assertTrue(Signatures.verify(Use.KEY_CHECK, KeyAlgorithm.ED25519, bobsKey, data, probe));
    assertEquals(keyChecks, SignatureCounts.remembered(Use.KEY_CHECK), "a key check always runs the arithmetic");
  }

  /** Benchmarks of the arithmetic bypass the memory: the same check again is a full one. */
  @Test
  void aThreadThatBypassesTheMemoryChecksInFull() {
    byte[] data = ("bypassed " + System.nanoTime()).getBytes(StandardCharsets.UTF_8);
    byte[] signature = Signatures.sign(Use.EVIDENCE, KeyAlgorithm.ED25519, bob.privateKey(), data);
    long remembered = SignatureCounts.remembered(Use.EVIDENCE);
    RememberedSignatures.bypassOnThisThread(true);
    try {
      assertTrue(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, data, signature));
      assertTrue(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, data, signature));
    } finally {
      RememberedSignatures.bypassOnThisThread(false);
    }
    assertEquals(remembered, SignatureCounts.remembered(Use.EVIDENCE));
    assertTrue(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, data, signature));
    assertEquals(remembered + 1, SignatureCounts.remembered(Use.EVIDENCE), "remembered from its signing");
  }

  @Test
  void malleatedScalarShortAndLongSignaturesAreRefused() throws Exception {
    byte[] signature = Signatures.sign(Use.EVIDENCE, KeyAlgorithm.ED25519, bob.privateKey(), DATA);
    // S is little-endian in the second half; S + L is the same point equation, but not canonical.
    byte[] s = Arrays.copyOfRange(signature, 32, 64);
    byte[] bigEndian = reversed(s);
    byte[] sPlusL = reversed(toFixed(new BigInteger(1, bigEndian).add(L), 32));
    byte[] malleated = signature.clone();
    System.arraycopy(sPlusL, 0, malleated, 32, 32);
    assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, DATA, malleated));
    assertFalse(jca(bob.certificate().getPublicKey(), DATA, malleated));
    assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, DATA, Arrays.copyOf(signature, 63)));
    assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, DATA, Arrays.copyOf(signature, 65)));
    assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, DATA, new byte[0]));
  }

  @Test
  void aSignatureUnderAnotherKeyOrAlgorithmIsRefused() {
    PrincipalKeys alpha = network.keys("alpha.example");
    byte[] byAlpha = Signatures.sign(Use.EVIDENCE, KeyAlgorithm.ED25519, alpha.privateKey(), DATA);
    assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, bobsKey, DATA, byAlpha));
    byte[] byBob = Signatures.sign(Use.EVIDENCE, KeyAlgorithm.ED25519, bob.privateKey(), DATA);
    assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ECDSA_P256, bobsKey, DATA, byBob),
        "an Ed25519 key claimed as ECDSA");

    TestCa ecdsaNetwork = new TestCa(KeyAlgorithm.ECDSA_P256);
    PrincipalKeys ecdsaBob = ecdsaNetwork.keys("bob@beta.example");
    SignatureKey ecdsaKey = ecdsaNetwork.trustStore.signatureKeyOf(ecdsaBob.certificate());
    byte[] ecdsa = Signatures.sign(Use.EVIDENCE, KeyAlgorithm.ECDSA_P256, ecdsaBob.privateKey(), DATA);
    assertTrue(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ECDSA_P256, ecdsaKey, DATA, ecdsa));
    assertFalse(Signatures.verify(Use.EVIDENCE, KeyAlgorithm.ED25519, ecdsaKey, DATA, ecdsa),
        "an ECDSA key claimed as Ed25519");
  }

  @Test
  void theVerifierRefusesAForgeryOfAnItemItVerifiedBefore() throws Exception {
    EvidenceVerifier verifier = new EvidenceVerifier(network.trustStore);
    SignedEvidence cod = new EvidenceSigner(bob).sign(EvidenceStatements.cod("bob@beta.example", "beta.example",
        "alpha.example/01JDTEST", "alice@alpha.example", net.certmail.proto.v1.Flavour.CEM,
        ContentHash.of(new byte[] {1}), TestCa.NOW.toEpochMilli()));
    verifier.verify(cod); // the key is decoded and kept now
    byte[] signature = cod.getSignature().toByteArray();
    signature[40] ^= 0x20;
    SignedEvidence forged = cod.toBuilder().setSignature(com.google.protobuf.ByteString.copyFrom(signature)).build();
    VerificationException refused = org.junit.jupiter.api.Assertions.assertThrows(VerificationException.class,
        () -> verifier.verify(forged));
    assertEquals(VerificationFailure.BAD_SIGNATURE, refused.failure());
  }

  private static boolean jca(PublicKey key, byte[] data, byte[] signature) throws Exception {
    Signature jca = Signature.getInstance("Ed25519", BouncyCastle.PROVIDER);
    jca.initVerify(key);
    jca.update(data);
    return jca.verify(signature);
  }

  private static byte[] reversed(byte[] bytes) {
    byte[] out = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      out[i] = bytes[bytes.length - 1 - i];
    }
    return out;
  }

  /** Big-endian, exactly {@code length} bytes (S + L stays below 2^256). */
  private static byte[] toFixed(BigInteger value, int length) {
    byte[] raw = value.toByteArray();
    byte[] out = new byte[length];
    int copy = Math.min(raw.length, length);
    System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
    return out;
  }
}
