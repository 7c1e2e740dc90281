package net.certmail.protocol;

import java.nio.charset.StandardCharsets;
import net.certmail.crypto.Sha256;

/**
 * Labels L: chosen by P1, namespaced by it, globally unique, never reused.
 *
 * <p>A label is derived from (P1, sender, sender's idempotency key) rather than drawn at random:
 * a re-submission with the same key reaches the same entity ({@code <P1>|<L>}) and gets the
 * same COP back, with no separate index to persist and keep consistent. Uniqueness follows from
 * the sender's keys being unique per sender (A's own entity is keyed by them) and from 128 bits
 * of SHA-256 over length-prefixed inputs.
 */
public final class Labels {
  private static final byte[] DOMAIN = "certmail/v1/label\0".getBytes(StandardCharsets.US_ASCII);

  private Labels() {}

  public static String forSubmission(String originServer, String sender, String submissionId) {
    byte[] senderBytes = sender.getBytes(StandardCharsets.UTF_8);
    byte[] digest = Sha256.hash(DOMAIN, intBytes(senderBytes.length), senderBytes,
        submissionId.getBytes(StandardCharsets.UTF_8));
    return originServer + "/" + Sha256.hex(digest).substring(0, 32);
  }

  /** The server that issued a label: the part before the slash. */
  public static String originOf(String label) {
    int slash = label.indexOf('/');
    return slash < 0 ? "" : label.substring(0, slash);
  }

  private static byte[] intBytes(int value) {
    return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
  }
}
