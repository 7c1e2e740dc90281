package net.certmail.persistence.chain;

import java.nio.charset.StandardCharsets;
import net.certmail.crypto.Sha256;

/**
 * The hash chain of one persistence id (one stream). Each stored event carries the chain hash of
 * its predecessor; the chain hash of an event covers that predecessor's hash, its manifest and
 * its exact stored bytes:
 *
 * <pre>
 *   h(0)  = SHA-256("certmail/v1/chain-genesis\0" || persistence id)
 *   h(n)  = SHA-256(0x01 || h(n-1) || len(manifest) || manifest || event bytes)
 * </pre>
 *
 * The genesis binds the chain to its persistence id, so a stream (or an event) moved to another
 * id does not fit. What the chain proves: no event before the last one was edited, removed,
 * reordered or inserted without rewriting every later event. The last event itself, or a whole
 * rewritten stream, is caught only against a head someone else holds (a witnessed head) or
 * against evidence other principals stored (the audit's cross-principal rules).
 */
public final class EventChain {
  private static final byte[] GENESIS = "certmail/v1/chain-genesis\0".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] LINK = {0x01};

  private EventChain() {}

  public static byte[] genesis(String persistenceId) {
    return Sha256.hash(GENESIS, persistenceId.getBytes(StandardCharsets.UTF_8));
  }

  public static byte[] next(byte[] previousHash, String manifest, byte[] eventBytes) {
    byte[] name = manifest.getBytes(StandardCharsets.UTF_8);
    byte[] length = {(byte) (name.length >>> 8), (byte) name.length};
    return Sha256.hash(LINK, previousHash, length, name, eventBytes);
  }
}
