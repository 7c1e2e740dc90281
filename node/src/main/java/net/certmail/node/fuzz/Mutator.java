package net.certmail.node.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Byte-level mutations of the kind libFuzzer stacks: bit flips, interesting values, inserted,
 * deleted and duplicated ranges, splices with another input, truncation, and tokens that matter
 * to protobuf (huge varints, field tags) and JSON (brackets, quotes, repeated keys, deep nesting).
 */
final class Mutator {
  private static final byte[][] TOKENS = {
      {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}, // a varint length of 4 GiB
      {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
          (byte) 0x80, (byte) 0x01},                               // a ten-byte varint
      {0x0a, 0x00}, {0x12, 0x7f}, {0x08, (byte) 0x96, 0x01}, {(byte) 0xf8, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07},
      bytes("{"), bytes("}"), bytes("["), bytes("]"), bytes("\""), bytes(","), bytes(":"), bytes("null"),
      bytes("\"recipient\":"), bytes("\"deadline\":"), bytes("\"leadSeconds\":"), bytes("\"flavour\":"),
      bytes("1e999999"), bytes("-9223372036854775809"), bytes("\\u0000"), bytes("\\ud800"), bytes("|"),
      bytes("\n"), bytes("[".repeat(2000)), bytes("CMBNDL01"), bytes("server.v1/"), bytes("outbox.v1/"),
  };
  private static final int[] INTERESTING = {0, 1, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x1a, 0x22, 0x08};

  private final Random random;
  private final int maxLength;

  Mutator(Random random, int maxLength) {
    this.random = random;
    this.maxLength = maxLength;
  }

  byte[] mutate(byte[] input, List<byte[]> pool) {
    byte[] data = input;
    int steps = 1 + random.nextInt(4);
    for (int i = 0; i < steps; i++) {
      data = once(data, pool);
    }
    return data.length > maxLength ? Arrays.copyOf(data, maxLength) : data;
  }

  private byte[] once(byte[] data, List<byte[]> pool) {
    if (data.length == 0) {
      return insert(data, 0, randomBytes(1 + random.nextInt(8)));
    }
    int at = random.nextInt(data.length);
    return switch (random.nextInt(9)) {
      case 0 -> {
        byte[] copy = data.clone();
        copy[at] ^= (byte) (1 << random.nextInt(8));
        yield copy;
      }
      case 1 -> {
        byte[] copy = data.clone();
        copy[at] = (byte) (random.nextInt(3) == 0 ? random.nextInt(256) : INTERESTING[random.nextInt(INTERESTING.length)]);
        yield copy;
      }
      case 2 -> insert(data, at, randomBytes(1 + random.nextInt(8)));
      case 3 -> delete(data, at, 1 + random.nextInt(Math.min(16, data.length - at)));
      case 4 -> {
        int length = 1 + random.nextInt(Math.min(64, data.length - at));
        yield insert(data, random.nextInt(data.length + 1), Arrays.copyOfRange(data, at, at + length));
      }
      case 5 -> {
        byte[] other = pool.get(random.nextInt(pool.size()));
        int from = other.length == 0 ? 0 : random.nextInt(other.length);
        byte[] spliced = Arrays.copyOf(data, at + other.length - from);
        System.arraycopy(other, from, spliced, at, other.length - from);
        yield spliced;
      }
      case 6 -> Arrays.copyOf(data, at);
      case 7 -> insert(data, at, TOKENS[random.nextInt(TOKENS.length)]);
      default -> {
        // Overwrite a few bytes in place with a token (keeps lengths, shifts nothing).
        byte[] token = TOKENS[random.nextInt(TOKENS.length)];
        byte[] copy = data.clone();
        System.arraycopy(token, 0, copy, at, Math.min(token.length, copy.length - at));
        yield copy;
      }
    };
  }

  private byte[] randomBytes(int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }

  private static byte[] insert(byte[] data, int at, byte[] inserted) {
    byte[] result = new byte[data.length + inserted.length];
    System.arraycopy(data, 0, result, 0, at);
    System.arraycopy(inserted, 0, result, at, inserted.length);
    System.arraycopy(data, at, result, at + inserted.length, data.length - at);
    return result;
  }

  private static byte[] delete(byte[] data, int at, int length) {
    byte[] result = new byte[data.length - length];
    System.arraycopy(data, 0, result, 0, at);
    System.arraycopy(data, at + length, result, at, data.length - at - length);
    return result;
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
