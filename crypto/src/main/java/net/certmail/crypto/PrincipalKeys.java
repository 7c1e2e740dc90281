package net.certmail.crypto;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/** What a hosted principal signs with: its private key and its certificate from the network CA. */
public record PrincipalKeys(String principalId, KeyAlgorithm algorithm, PrivateKey privateKey, X509Certificate certificate) {
  public String keyId() {
    return KeyIds.of(certificate.getPublicKey());
  }

  @Override
  public String toString() {
    return "PrincipalKeys[" + principalId + ", " + algorithm + ", keyId=" + keyId() + "]";
  }
}
