package net.certmail.crypto;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.concurrent.atomic.LongAdder;

/** Raw sign / verify with Bouncy Castle over bytes that are already domain-separated. */
final class Signatures {
  /** Signatures made and checked in this JVM, for {@link SignatureCounts}. */
  static final LongAdder MADE = new LongAdder();
  static final LongAdder CHECKED = new LongAdder();

  private Signatures() {}

  static byte[] sign(KeyAlgorithm algorithm, PrivateKey key, byte[] data) {
    MADE.increment();
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
  static boolean verify(KeyAlgorithm algorithm, PublicKey key, byte[] data, byte[] signatureBytes) {
    CHECKED.increment();
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
