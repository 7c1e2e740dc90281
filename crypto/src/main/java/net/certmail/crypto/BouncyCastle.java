package net.certmail.crypto;

import java.security.Provider;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The one Bouncy Castle provider instance, used by name-less lookups
 * ({@code Signature.getInstance(alg, PROVIDER)}) so nothing depends on a global
 * {@code Security.addProvider} and the JDK's 10x slower SunEC is never picked by accident.
 */
final class BouncyCastle {
  static final Provider PROVIDER = new BouncyCastleProvider();

  private BouncyCastle() {}
}
