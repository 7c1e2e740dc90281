package net.certmail.persistence.testing;

import java.io.NotSerializableException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Test-only serializer of {@link TextLog}'s event and state: the bytes are UTF-8 text, the string
 * manifest names the type and its version. Keeps the journal tests free of Java serialization
 * until the project's protobuf event serializer exists.
 */
public final class TextLogSerializer extends SerializerWithStringManifest {

  /** Unique among the serializers of an ActorSystem (Pekko reserves 0-40). */
  static final int IDENTIFIER = 7_415_001;

  static final String APPENDED_V1 = "text-log.appended.v1";
  static final String TEXTS_V1 = "text-log.texts.v1";

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof TextLog.Appended) {
      return APPENDED_V1;
    }
    if (o instanceof TextLog.Texts) {
      return TEXTS_V1;
    }
    throw new IllegalArgumentException("TextLogSerializer cannot serialize " + o.getClass().getName());
  }

  @Override
  public byte[] toBinary(Object o) {
    if (o instanceof TextLog.Appended appended) {
      return appended.text().getBytes(StandardCharsets.UTF_8);
    }
    if (o instanceof TextLog.Texts texts) {
      // newline-separated: a line must be non-empty and free of newlines to come back unchanged
      for (String line : texts.lines()) {
        if (line.isEmpty() || line.indexOf('\n') >= 0) {
          throw new IllegalArgumentException("A TextLog line must be non-empty and without newline: \"" + line + "\"");
        }
      }
      return String.join("\n", texts.lines()).getBytes(StandardCharsets.UTF_8);
    }
    throw new IllegalArgumentException("TextLogSerializer cannot serialize " + o.getClass().getName());
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    String text = new String(bytes, StandardCharsets.UTF_8);
    return switch (manifest) {
      case APPENDED_V1 -> new TextLog.Appended(text);
      case TEXTS_V1 -> new TextLog.Texts(text.isEmpty() ? List.of() : Arrays.asList(text.split("\n", -1)));
      default -> throw new NotSerializableException("Unknown TextLog manifest \"" + manifest + "\"");
    };
  }
}
