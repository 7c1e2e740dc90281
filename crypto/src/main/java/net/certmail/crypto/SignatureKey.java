package net.certmail.crypto;

import java.security.PublicKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.util.PublicKeyFactory;

/**
 * A public key decoded once for verifying: an Ed25519 key keeps its decoded curve point, so a
 * verification neither parses the certificate's key again (Bouncy Castle's
 * {@code X509Certificate.getPublicKey()} builds a new key object on every call) nor decompresses
 * the point. An audit verifies tens of thousands of items under a handful of keys; {@link TrustStore}
 * keeps one per certificate.
 */
final class SignatureKey {
  private final PublicKey publicKey;
  private final Ed25519PublicKeyParameters ed25519;

  private SignatureKey(PublicKey publicKey, Ed25519PublicKeyParameters ed25519) {
    this.publicKey = publicKey;
    this.ed25519 = ed25519;
  }

  static SignatureKey of(PublicKey publicKey) {
    return new SignatureKey(publicKey, ed25519Of(publicKey));
  }

  PublicKey publicKey() {
    return publicKey;
  }

  /** The decoded Ed25519 key, or null for a key of another algorithm (or one whose point does not decode). */
  Ed25519PublicKeyParameters ed25519() {
    return ed25519;
  }

  private static Ed25519PublicKeyParameters ed25519Of(PublicKey publicKey) {
    if (!"Ed25519".equalsIgnoreCase(publicKey.getAlgorithm()) && !"EdDSA".equalsIgnoreCase(publicKey.getAlgorithm())) {
      return null;
    }
    try {
      return PublicKeyFactory.createKey(SubjectPublicKeyInfo.getInstance(publicKey.getEncoded()))
          instanceof Ed25519PublicKeyParameters key ? key : null;
    } catch (java.io.IOException | RuntimeException e) {
      return null; // not a valid Ed25519 point: every signature under it fails (Signatures.verify)
    }
  }
}
