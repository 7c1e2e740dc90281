package net.certmail.crypto;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import net.certmail.proto.v1.SignatureAlgorithm;

/** The signature schemes certmail keys can use. Ed25519 is the default. */
public enum KeyAlgorithm {
  ED25519("Ed25519", SignatureAlgorithm.ED25519),
  ECDSA_P256("SHA256withECDSA", SignatureAlgorithm.ECDSA_P256_SHA256);

  private final String jcaSignatureName;
  private final SignatureAlgorithm wireName;

  KeyAlgorithm(String jcaSignatureName, SignatureAlgorithm wireName) {
    this.jcaSignatureName = jcaSignatureName;
    this.wireName = wireName;
  }

  public String jcaSignatureName() {
    return jcaSignatureName;
  }

  public SignatureAlgorithm wireName() {
    return wireName;
  }

  public static KeyAlgorithm fromWire(SignatureAlgorithm algorithm) {
    for (KeyAlgorithm candidate : values()) {
      if (candidate.wireName == algorithm) {
        return candidate;
      }
    }
    throw new IllegalArgumentException("unsupported signature algorithm " + algorithm);
  }

  public KeyPair generateKeyPair() {
    try {
      if (this == ED25519) {
        return KeyPairGenerator.getInstance("Ed25519", BouncyCastle.PROVIDER).generateKeyPair();
      }
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", BouncyCastle.PROVIDER);
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate a " + name() + " key pair", e);
    }
  }
}
