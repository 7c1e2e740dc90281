package net.certmail.node.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;
import net.certmail.node.fuzz.FuzzTarget;

/**
 * The HTTP API's JSON bodies (a submission, a refusal) through the API's own mapper. The first
 * byte picks the body type. Only a JsonProcessingException may come out, and what the client is
 * told about it ({@code Json.problem}) names no Java class; a body with a key given twice never
 * parses (a second "recipient" must not redirect a mail).
 */
public final class JsonBodyFuzzTarget implements FuzzTarget {
  private static final com.fasterxml.jackson.core.JsonFactory LENIENT = new com.fasterxml.jackson.core.JsonFactory();
  private static final Pattern QUOTED = Pattern.compile("\"[^\"]*\"|'[^']*'");
  private static final Pattern JAVA = Pattern.compile(
      "(?:[a-z][a-z0-9_]*\\.)+[A-Z]\\w*|[A-Z][a-z]+[A-Z]\\w*\\.[A-Z_]{2,}|Exception|Feature|jackson|Source:");

  @Override
  public String name() {
    return "http-json";
  }

  @Override
  public List<byte[]> seeds() {
    return List.of(
        body(0, "{\"recipient\": \"bob@beta.example\", \"subject\": \"Offer\", \"body\": \"Twelve apples.\","
            + " \"contentType\": \"text/plain\", \"deadline\": \"2026-12-01T12:00:00Z\", \"flavour\": \"IP\","
            + " \"idempotencyKey\": \"order-1\"}"),
        body(0, "{\"recipient\": \"carol@beta.example\", \"leadSeconds\": 3600, \"flavour\": \"NSR\"}"),
        body(1, "{\"reason\": \"not mine\"}"),
        body(1, "{}"));
  }

  @Override
  public String run(byte[] input) {
    if (input.length == 0) {
      return "empty";
    }
    Class<?> type = (input[0] & 1) == 0 ? Json.SubmitRequest.class : Json.RefuseRequest.class;
    // As the API reads it: pekko-http decodes the entity to a string (UTF-8), then the mapper parses that.
    String body = new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
    try {
      Json.MAPPER.readValue(body, type);
      checkNoDuplicateAtTopLevel(body);
      return "parsed:" + type.getSimpleName();
    } catch (JsonProcessingException e) {
      String told = Json.problem(e);
      // What the client sent comes back in quotes (an unknown field's name): only our own words count.
      String ours = QUOTED.matcher(told).replaceAll("\"\"");
      if (JAVA.matcher(ours).find()) {
        throw new AssertionError("the client would be told a Java name: " + told);
      }
      return "refused:" + e.getClass().getSimpleName();
    } catch (java.io.IOException e) {
      throw new AssertionError("reading bytes in memory failed", e);
    }
  }

  /** Read with a lenient parser: a key the API's parser let through twice would show here. */
  private static void checkNoDuplicateAtTopLevel(String body) throws java.io.IOException {
    try (var parser = LENIENT.createParser(body)) {
      java.util.Set<String> names = new java.util.HashSet<>();
      if (parser.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
        return;
      }
      while (parser.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
        if (!names.add(parser.currentName())) {
          throw new AssertionError("a body with \"" + parser.currentName() + "\" twice was accepted");
        }
        parser.nextToken();
        parser.skipChildren();
      }
    }
  }

  private static byte[] body(int type, String json) {
    byte[] text = json.getBytes(StandardCharsets.UTF_8);
    byte[] input = new byte[text.length + 1];
    input[0] = (byte) type;
    System.arraycopy(text, 0, input, 1, text.length);
    return input;
  }
}
