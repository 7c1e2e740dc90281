package net.certmail.crypto;

import java.security.PublicKey;

/** A key id is the lowercase hex SHA-256 of the public key's SubjectPublicKeyInfo (DER). */
public final class KeyIds {
  private KeyIds() {}

  public static String of(PublicKey key) {
    return Sha256.hex(Sha256.hash(key.getEncoded()));
  }
}
