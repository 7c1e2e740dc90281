package net.certmail.crypto;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import net.certmail.crypto.SignatureCounts.Use;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/** Raw sign / verify with Bouncy Castle over bytes that are already domain-separated. */
final class Signatures {
  private Signatures() {}

  /** @param use what the signature is for, counted in {@link SignatureCounts} */
  static byte[] sign(Use use, KeyAlgorithm algorithm, PrivateKey key, byte[] data) {
    SignatureCounts.countMade(use);
    try {
      Signature signature = Signature.getInstance(algorithm.jcaSignatureName(), BouncyCastle.PROVIDER);
      signature.initSign(key);
      signature.update(data);
      return signature.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing with " + algorithm + " failed: " + e.getMessage(), e);
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
   * slower with the key decoded per call); ECDSA through JCA.
   */
  static boolean verify(Use use, KeyAlgorithm algorithm, SignatureKey key, byte[] data, byte[] signatureBytes) {
    SignatureCounts.countChecked(use);
    if (algorithm == KeyAlgorithm.ED25519) {
      Ed25519PublicKeyParameters ed25519 = key.ed25519();
      try {
        return ed25519 != null && signatureBytes.length == Ed25519.SIGNATURE_SIZE
            && ed25519.verify(Ed25519.Algorithm.Ed25519, null, data, 0, data.length, signatureBytes, 0);
      } catch (RuntimeException e) {
        return false;
      }
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
