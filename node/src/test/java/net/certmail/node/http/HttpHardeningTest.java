package net.certmail.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API against hostile input, on a real node: names that could forge log lines or
 * persistence ids, duplicate JSON keys, token guessing, mailbox enumeration, oversized and
 * malformed requests. Every refusal comes in the JSON error shape and names no Java class.
 */
class HttpHardeningTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** What a Java or Jackson class name looks like in a message. */
  private static final Pattern JAVA = Pattern.compile("(?:[a-z][a-z0-9_]*\\.)+[A-Z]\\w*|Exception|jackson|\\$");

  @TempDir
  static Path dir;
  static TestNode network;
  static int port;
  static String alice;

  @BeforeAll
  static void startNode() throws Exception {
    network = TestNode.start(dir);
    port = URI.create(network.endpoints.apiUri()).getPort();
    alice = network.token("alice@alpha.example");
  }

  @AfterAll
  static void stopNode() {
    if (network != null) {
      network.close();
    }
  }

  record Answer(int status, String head, JsonNode json) {
    String error() {
      return json == null ? null : json.path("error").asText(null);
    }

    String message() {
      return json == null ? "" : json.path("message").asText("");
    }
  }

  /** One raw HTTP/1.1 exchange from a given loopback address (each address has its own failure budget). */
  static Answer raw(String from, String request) throws Exception {
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress(from, 0));
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      byte[] buffer = new byte[8192];
      try {
        for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
          bytes.write(buffer, 0, read);
        }
      } catch (java.net.SocketException e) {
        // A server that refuses a request it did not read closes with a reset: keep what it answered first.
        if (bytes.size() == 0) {
          throw e;
        }
      }
      String response = bytes.toString(StandardCharsets.UTF_8);
      int split = response.indexOf("\r\n\r\n");
      String head = split < 0 ? response : response.substring(0, split);
      String body = split < 0 ? "" : response.substring(split + 4);
      int status = Integer.parseInt(head.substring(9, 12));
      JsonNode json = head.toLowerCase().contains("content-type: application/json") ? JSON.readTree(body) : null;
      return new Answer(status, head, json);
    }
  }

  static Answer request(String from, String method, String path, String token, String body) throws Exception {
    StringBuilder request = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if (token != null) {
      request.append("Authorization: Bearer ").append(token).append("\r\n");
    }
    byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    if (body != null) {
      request.append("Content-Type: application/json\r\nContent-Length: ").append(content.length).append("\r\n");
    }
    request.append("\r\n").append(new String(content, StandardCharsets.ISO_8859_1));
    return raw(from, request.toString());
  }

  static Answer get(String path, String token) throws Exception {
    return request("127.0.0.1", "GET", path, token, null);
  }

  static Answer submit(String body) throws Exception {
    return request("127.0.0.1", "POST", "/v1/mailboxes/alice@alpha.example/outbox", alice, body);
  }

  static void assertJsonError(Answer answer, int status, String error) {
    assertEquals(status, answer.status(), answer.head() + "\n" + answer.json());
    assertEquals(error, answer.error(), answer.head() + "\n" + answer.json());
    assertFalse(JAVA.matcher(answer.message()).find(), "a Java name in: " + answer.message());
  }

  @Test
  void controlCharactersAndPipesInNamesAre400() throws Exception {
    for (String recipient : List.of("bob@beta.example\\nINFO accepted mail for mallory", "bob|x@beta.example",
        "bob@beta.example\\u0000", "Bob@beta.example\\r")) {
      assertJsonError(submit("{\"recipient\": \"" + recipient + "\", \"body\": \"x\"}"), 400, "BAD_RECIPIENT");
    }
    for (String mailbox : List.of("alice%0A@alpha.example", "alice%7Cx@alpha.example", "alice%1B%5B31m@alpha.example")) {
      assertJsonError(get("/v1/mailboxes/" + mailbox + "/outbox/x", alice), 400, "BAD_MAILBOX");
    }
    assertJsonError(get("/v1/mailboxes/alice@alpha.example/outbox/a%7Cb", alice), 400, "BAD_SUBMISSION_ID");
    assertJsonError(get("/v1/mailboxes/alice@alpha.example/inbox/alpha.example/a%0Ab", alice), 400, "BAD_LABEL");
    assertJsonError(get("/v1/directory/alpha.example/a%7Cb", null), 400, "BAD_LABEL");
  }

  /** A second "recipient" used to win silently and redirect the mail. */
  @Test
  void duplicateJsonKeysAreRefusedAndNoMailIsSubmitted() throws Exception {
    Answer duplicate = submit("""
        {"recipient": "bob@beta.example", "body": "for bob", "leadSeconds": 600, "idempotencyKey": "dup-1",
         "recipient": "carol@beta.example"}""");
    assertJsonError(duplicate, 400, "BAD_JSON");
    assertTrue(duplicate.message().contains("Duplicate field 'recipient'"), duplicate.message());
    assertJsonError(get("/v1/mailboxes/alice@alpha.example/outbox/dup-1", alice), 404, "UNKNOWN_SUBMISSION");
  }

  @Test
  void badJsonIsExplainedWithoutJavaOrJacksonNames() throws Exception {
    Answer unknown = submit("{\"recipient\": \"bob@beta.example\", \"dealine\": 5}");
    assertJsonError(unknown, 400, "BAD_JSON");
    assertTrue(unknown.message().contains("unknown field \"dealine\""), unknown.message());
    Answer wrongType = submit("{\"recipient\": \"bob@beta.example\", \"leadSeconds\": {\"a\": 1}}");
    assertJsonError(wrongType, 400, "BAD_JSON");
    assertTrue(wrongType.message().contains("\"leadSeconds\" must be a number"), wrongType.message());
    assertJsonError(submit("[1, 2]"), 400, "BAD_JSON");
    assertJsonError(submit("{\"recipient\": "), 400, "BAD_JSON");
    assertJsonError(submit("{\"recipient\": \"bob@beta.example\", \"subject\": [\"x\"]}"), 400, "BAD_JSON");
    assertJsonError(request("127.0.0.1", "POST", "/v1/mailboxes/alice@alpha.example/inbox/alpha.example/00/refuse",
        alice, "{\"reason\": 5, \"reason\": 6}"), 400, "BAD_JSON");
  }

  /** Without a valid token, an existing mailbox, one of another node and one nobody has answer alike. */
  @Test
  void mailboxExistenceCannotBeEnumeratedWithoutAToken() throws Exception {
    for (String token : new String[] {null, "cm_" + "B".repeat(43)}) {
      List<Answer> answers = List.of(get("/v1/mailboxes/alice@alpha.example/outbox/x", token),
          get("/v1/mailboxes/dan@offline.example/outbox/x", token),
          get("/v1/mailboxes/eve@nowhere.example/outbox/x", token));
      for (Answer answer : answers) {
        assertEquals(401, answer.status(), String.valueOf(answer.json()));
        assertEquals(answers.get(0).json(), answer.json());
      }
    }
  }

  @Test
  void failedAuthenticationIsRateLimitedPerClientAddressEvenForTheRightToken() throws Exception {
    String guesser = "127.0.0.2"; // its own budget: the other tests come from 127.0.0.1
    Answer last = null;
    for (int i = 0; i < 40 && (last == null || last.status() != 429); i++) {
      last = request(guesser, "GET", "/v1/mailboxes/alice@alpha.example/outbox/x", "cm_guess" + i, null);
    }
    assertJsonError(last, 429, "RATE_LIMITED");
    assertTrue(last.head().contains("Retry-After"), last.head());
    // A right guess now would not be told apart from a wrong one.
    assertJsonError(request(guesser, "GET", "/v1/mailboxes/alice@alpha.example/outbox/x", alice, null),
        429, "RATE_LIMITED");
    // Other addresses are not locked out.
    assertJsonError(get("/v1/mailboxes/alice@alpha.example/outbox/x", alice), 404, "UNKNOWN_SUBMISSION");
  }

  @Test
  void requestsRefusedBeforeRoutingAnswerInTheJsonErrorShape() throws Exception {
    assertJsonError(raw("127.0.0.1", "GET /v1/openapi.yaml HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000)
        + "\r\nConnection: close\r\n\r\n"), 431, "HEADERS_TOO_LARGE");
    assertJsonError(raw("127.0.0.1", "GET /v1/" + "a".repeat(5_000) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        414, "URI_TOO_LONG");
    assertJsonError(raw("127.0.0.1", "GET /v1/openapi.yaml HTTP/1.1\r\nHost x\r\nConnection: close\r\n\r\n"),
        400, "BAD_REQUEST");
    assertJsonError(raw("127.0.0.1", "GARBAGE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 501,
        "UNSUPPORTED_METHOD");
    // A body announced larger than the limit is refused without reading it.
    assertJsonError(raw("127.0.0.1", "POST /v1/mailboxes/alice@alpha.example/outbox HTTP/1.1\r\nHost: x\r\n"
        + "Authorization: Bearer " + alice + "\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n"
        + "Connection: close\r\n\r\n"), 413, "REQUEST_TOO_LARGE");
  }
}
