package net.certmail.crypto;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import net.certmail.crypto.SignatureCounts.Use;

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
    SignatureCounts.countChecked(use);
    try {
      Signature signature = Signature.getInstance(algorithm.jcaSignatureName(), BouncyCastle.PROVIDER);
      signature.initVerify(key);
      signature.update(data);
      return signature.verify(signatureBytes);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }
}
