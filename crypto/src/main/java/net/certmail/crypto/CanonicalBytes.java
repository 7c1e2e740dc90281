package net.certmail.crypto;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A deterministic byte string built from length-prefixed fields. Signatures cover bytes made
 * this way (or a statement's exact stored bytes), never a re-serialized protobuf, whose encoding
 * is not canonical.
 */
final class CanonicalBytes {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

  static byte[] int32(int value) {
    return ByteBuffer.allocate(4).putInt(value).array();
  }

  CanonicalBytes raw(byte[] bytes) {
    out.writeBytes(bytes);
    return this;
  }

  CanonicalBytes field(byte[] bytes) {
    out.writeBytes(int32(bytes.length));
    out.writeBytes(bytes);
    return this;
  }

  CanonicalBytes field(String text) {
    return field(text.getBytes(StandardCharsets.UTF_8));
  }

  CanonicalBytes field(long value) {
    out.writeBytes(ByteBuffer.allocate(8).putLong(value).array());
    return this;
  }

  byte[] toByteArray() {
    return out.toByteArray();
  }
}
