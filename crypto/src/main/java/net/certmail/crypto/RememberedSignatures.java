package net.certmail.crypto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ed25519 signatures this JVM made or found valid a moment ago, by a SHA-256 digest of (public
 * key, signature, signed bytes). Verifying is a pure function of those three: the same bytes
 * verified again give the same answer, so a check of a remembered triple is answered without
 * the curve arithmetic. It repeats wherever two principals share a node: A checks the COP, ROD
 * and the envelopes its origin server P1 signed on the same node, and the COD and ROD_n that P1
 * checked a moment before; Pn and B likewise. In a loaded node such checks were most of the
 * Ed25519 time (issue 12, BENCHMARKS.md).
 *
 * <p>Why it is sound: a triple is remembered only after a verification returned true, or after
 * this JVM signed the bytes, under the public key derived from the signing private key itself
 * (not the one a certificate claims: a key that does not match its certificate is found out by
 * a real verification, as before). A forged or altered signature, other bytes or another key
 * give another digest and are verified in full; matching a remembered digest with other inputs
 * takes a SHA-256 collision. Failures are never remembered. Key checks are never answered from
 * here (their point is to run the arithmetic on a fresh probe).
 *
 * <p>Bounded: two generations of at most {@value #GENERATION} digests each (a few MB); a
 * triple is remembered for at least one generation, seconds at the highest load measured,
 * while the repeats above come milliseconds apart.
 */
public final class RememberedSignatures {
  static final int GENERATION = 32_768;
  private static final ThreadLocal<Boolean> BYPASSED = ThreadLocal.withInitial(() -> false);
  private static final byte[] DOMAIN = "certmail/v1/remembered-ed25519\0".getBytes(StandardCharsets.US_ASCII);

  private static volatile Set<ByteBuffer> current = ConcurrentHashMap.newKeySet();
  private static volatile Set<ByteBuffer> previous = Set.of();

  private RememberedSignatures() {}

  /**
   * For benchmarks of the arithmetic itself ({@code certmail bench crypto}, the limits of
   * {@code bench load}), which sign and check the same bytes again and again: while on, this
   * thread's signatures and checks neither use nor fill the memory.
   */
  public static void bypassOnThisThread(boolean on) {
    BYPASSED.set(on);
  }

  /** Whether this thread's signatures and checks go by the memory (not bypassed). */
  static boolean inUse() {
    return !BYPASSED.get();
  }

  /** The digest a triple is remembered by (the key and signature have fixed lengths in Ed25519). */
  static ByteBuffer digest(byte[] publicKey, byte[] signature, byte[] data) {
    return ByteBuffer.wrap(Sha256.hash(DOMAIN, publicKey, signature, data));
  }

  static boolean known(ByteBuffer digest) {
    return current.contains(digest) || previous.contains(digest);
  }

  static void remember(ByteBuffer digest) {
    Set<ByteBuffer> now = current;
    now.add(digest);
    if (now.size() > GENERATION) {
      synchronized (RememberedSignatures.class) {
        if (current == now) {
          previous = now;
          current = ConcurrentHashMap.newKeySet();
        }
      }
    }
  }
}
