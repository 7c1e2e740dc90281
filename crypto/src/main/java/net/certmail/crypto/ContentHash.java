package net.certmail.crypto;

import java.nio.charset.StandardCharsets;

/** The hashes of the mail item that evidence refers to. */
public final class ContentHash {
  private static final byte[] LABELLED_PREFIX =
      "certmail/v1/labelled-content\0".getBytes(StandardCharsets.US_ASCII);

  private ContentHash() {}

  /** H(M): SHA-256 of the exact content bytes, as in COP, a CEM COD and a content handover. */
  public static byte[] of(byte[] content) {
    return Sha256.hash(content);
  }

  /**
   * H(L,M) of CEM-ip: binds the content to its label, so that a notification for one label can
   * never be satisfied with the content of another. The label is length-prefixed, so no
   * (label, content) pair collides with another by moving bytes across the boundary.
   */
  public static byte[] labelled(String label, byte[] content) {
    byte[] labelBytes = label.getBytes(StandardCharsets.UTF_8);
    return Sha256.hash(LABELLED_PREFIX, CanonicalBytes.int32(labelBytes.length), labelBytes, content);
  }
}
