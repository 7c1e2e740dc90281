package net.certmail.crypto;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import net.certmail.crypto.SignatureCounts.Use;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/** Raw sign / verify with Bouncy Castle over bytes that are already domain-separated. */
final class Signatures {
  private Signatures() {}

  /** The Ed25519 public key each private key signs for, derived from the private key itself (RememberedSignatures). */
  private static final Map<PrivateKey, Optional<byte[]>> ED25519_PUBLIC_KEYS = new ConcurrentHashMap<>();

  /** @param use what the signature is for, counted in {@link SignatureCounts} */
  static byte[] sign(Use use, KeyAlgorithm algorithm, PrivateKey key, byte[] data) {
    SignatureCounts.countMade(use);
    byte[] signed;
    try {
      Signature signature = Signature.getInstance(algorithm.jcaSignatureName(), BouncyCastle.PROVIDER);
      signature.initSign(key);
      signature.update(data);
      signed = signature.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing with " + algorithm + " failed: " + e.getMessage(), e);
    }
    if (algorithm == KeyAlgorithm.ED25519 && use != Use.KEY_CHECK && RememberedSignatures.inUse()) {
      ED25519_PUBLIC_KEYS.computeIfAbsent(key, Signatures::ed25519PublicKeyOf)
          .ifPresent(publicKey -> RememberedSignatures.remember(RememberedSignatures.digest(publicKey, signed, data)));
    }
    return signed;
  }

  private static Optional<byte[]> ed25519PublicKeyOf(PrivateKey key) {
    try {
      return PrivateKeyFactory.createKey(PrivateKeyInfo.getInstance(key.getEncoded()))
          instanceof Ed25519PrivateKeyParameters ed25519
          ? Optional.of(ed25519.generatePublicKey().getEncoded()) : Optional.empty();
    } catch (java.io.IOException | RuntimeException e) {
      return Optional.empty(); // nothing remembered: its signatures are verified in full
    }
  }

  /** False for a bad or malformed signature; never throws for attacker-controlled input. */
  static boolean verify(Use use, KeyAlgorithm algorithm, PublicKey key, byte[] data, byte[] signatureBytes) {
    return verify(use, algorithm, SignatureKey.of(key), data, signatureBytes);
  }

  /**
   * The same, with a key decoded once ({@link TrustStore#signatureKeyOf}). Ed25519 goes to Bouncy
   * Castle's RFC 8032 code with the decoded point, the check its JCA Signature makes after parsing
   * the key and copying the data (measured: the JDK's SunEC is ~10x slower, BC's JCA path ~10 %
   * slower with the key decoded per call); ECDSA through JCA. An Ed25519 triple this JVM signed
   * or found valid a moment ago is answered from {@link RememberedSignatures} (counted as checked,
   * and as remembered).
   */
  static boolean verify(Use use, KeyAlgorithm algorithm, SignatureKey key, byte[] data, byte[] signatureBytes) {
    SignatureCounts.countChecked(use);
    if (algorithm == KeyAlgorithm.ED25519) {
      Ed25519PublicKeyParameters ed25519 = key.ed25519();
      if (ed25519 == null || signatureBytes.length != Ed25519.SIGNATURE_SIZE) {
        return false;
      }
      ByteBuffer digest = use == Use.KEY_CHECK || !RememberedSignatures.inUse() ? null
          : RememberedSignatures.digest(ed25519.getEncoded(), signatureBytes, data);
      if (digest != null && RememberedSignatures.known(digest)) {
        SignatureCounts.countRemembered(use);
        return true;
      }
      boolean valid;
      try {
        valid = ed25519.verify(Ed25519.Algorithm.Ed25519, null, data, 0, data.length, signatureBytes, 0);
      } catch (RuntimeException e) {
        return false;
      }
      if (valid && digest != null) {
        RememberedSignatures.remember(digest);
      }
      return valid;
    }
    try {
      Signature signature = Signature.getInstance(algorithm.jcaSignatureName(), BouncyCastle.PROVIDER);
      signature.initVerify(key.publicKey());
      signature.update(data);
      return signature.verify(signatureBytes);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }
}
