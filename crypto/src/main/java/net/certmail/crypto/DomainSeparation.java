package net.certmail.crypto;

import java.nio.charset.StandardCharsets;
import net.certmail.proto.v1.EvidenceKind;

/**
 * Prefixes that make a signature over one kind of object useless as a signature over another:
 * an envelope signature can never pass for evidence, nor a COD for a ROD. OpenSSL users
 * prepend the same prefix to the statement bytes (see README).
 */
public final class DomainSeparation {
  private DomainSeparation() {}

  public static final byte[] ENVELOPE = ascii("certmail/v1/envelope\0");

  /** "certmail/v1/evidence/COP\0", "certmail/v1/evidence/COD\0", ... */
  public static byte[] evidence(EvidenceKind kind) {
    return ascii("certmail/v1/evidence/" + kind.name() + "\0");
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }
}
