package net.certmail.node.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import net.certmail.crypto.BundleVerifier;
import net.certmail.crypto.EvidenceBundles;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.MailItem;
import net.certmail.proto.v1.SignedEvidence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API against a real node (embedded journal, sample network, real signatures): mails are
 * submitted, delivered, accepted, refused and exported over HTTP only.
 */
class HttpApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir
  static Path dir;
  static TestNode network;
  static String base;
  static String alice;
  static String bob;
  static String carol;

  @BeforeAll
  static void startNode() throws Exception {
    network = TestNode.start(dir);
    base = network.endpoints.apiUri();
    alice = network.token("alice@alpha.example");
    bob = network.token("bob@beta.example");
    carol = network.token("carol@beta.example");
  }

  @AfterAll
  static void stopNode() {
    if (network != null) {
      network.close();
    }
  }

  record Answer(int status, JsonNode json, byte[] bytes, HttpResponse<byte[]> raw) {
    String error() {
      return json == null ? null : json.path("error").asText(null);
    }
  }

  static Answer call(String method, String path, String token, String body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    HttpResponse<byte[]> response = CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    JsonNode json = response.headers().firstValue("Content-Type").orElse("").startsWith("application/json")
        ? JSON.readTree(response.body()) : null;
    return new Answer(response.statusCode(), json, response.body(), response);
  }

  /**
   * An absolute deadline, so that a resend with the same key and deadline is the same mail. Taken
   * when the test submits, not when the class loads: a slow run must not age it past the policy.
   */
  static String submission(String recipient, String flavour, String key, String deadline) {
    return """
        {"recipient": "%s", "subject": "Contract %s", "body": "Please sign.", "deadline": "%s",
         "flavour": "%s", "idempotencyKey": "%s"}""".formatted(recipient, key, deadline, flavour, key);
  }

  /** 90 s ahead: inside the test network's lead-time policy, yet past every stage of a mail. */
  static String deadlineFromNow() {
    return java.time.Instant.now().plusSeconds(90).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
  }

  static Answer awaitStatus(String mailbox, String path, String token, Predicate<Answer> done) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Answer answer;
    do {
      answer = call("GET", "/v1/mailboxes/" + mailbox + path, token, null);
      if (done.test(answer)) {
        return answer;
      }
      Thread.sleep(300);
    } while (System.nanoTime() < until);
    fail("no expected answer within 60 s; last: " + answer.status() + " " + answer.json());
    return answer;
  }

  static String submit(String recipient, String flavour) throws Exception {
    String key = "t-" + UUID.randomUUID();
    Answer submitted = call("POST", "/v1/mailboxes/alice@alpha.example/outbox", alice,
        submission(recipient, flavour, key, deadlineFromNow()));
    assertEquals(202, submitted.status(), submitted.json().toString());
    return key;
  }

  static String labelOf(String key) throws Exception {
    return awaitStatus("alice@alpha.example", "/outbox/" + key, alice,
        answer -> !answer.json().path("label").asText().isEmpty()).json().path("label").asText();
  }

  @Test
  void submittedMailIsDeliveredWithEvidenceAndItsBundleVerifies() throws Exception {
    String key = "t-" + UUID.randomUUID();
    String deadline = deadlineFromNow();
    Answer submitted = call("POST", "/v1/mailboxes/alice@alpha.example/outbox", alice,
        submission("bob@beta.example", "CEM", key, deadline));
    assertEquals(202, submitted.status());
    assertEquals("/v1/mailboxes/alice@alpha.example/outbox/" + key, submitted.raw().headers().firstValue("Location").orElseThrow());

    Answer delivered = awaitStatus("alice@alpha.example", "/outbox/" + key, alice,
        answer -> answer.json().path("status").asText().equals("DELIVERED"));
    List<String> kinds = new ArrayList<>();
    delivered.json().path("evidence").forEach(item -> kinds.add(item.path("kind").asText()));
    assertTrue(kinds.containsAll(List.of("COP", "ROD", "COD")), kinds.toString());
    String label = delivered.json().path("label").asText();
    assertTrue(label.startsWith("alpha.example/"), label);

    // The same idempotency key again: the same submission and label, no second mail.
    Answer again = call("POST", "/v1/mailboxes/alice@alpha.example/outbox", alice,
        submission("bob@beta.example", "CEM", key, deadline));
    assertEquals(202, again.status());
    assertEquals(label, again.json().path("label").asText());
    // The same key for another mail is a conflict, not a silent second mail.
    Answer other = call("POST", "/v1/mailboxes/alice@alpha.example/outbox", alice,
        submission("carol@beta.example", "CEM", key, deadline));
    assertEquals(409, other.status());
    assertEquals("SUBMISSION_CONFLICT", other.error());

    Answer bundle = call("GET", "/v1/mailboxes/alice@alpha.example/outbox/" + key + "/bundle", alice, null);
    assertEquals(200, bundle.status());
    assertArrayEquals(EvidenceBundles.MAGIC, java.util.Arrays.copyOf(bundle.bytes(), 8));
    BundleVerifier.Report report = BundleVerifier.verify(EvidenceBundles.parse(bundle.bytes(), "HTTP"));
    assertEquals(label, report.label());
    assertTrue(report.allValid(), report.toString());
    assertEquals(delivered.json().path("evidence").size(), report.items().size());

    // The origin server's public directory, without a token: COP, ROD and COD of the label.
    Answer published = call("GET", "/v1/directory/" + label, null, null);
    assertEquals(200, published.status(), String.valueOf(published.json()));
    List<String> publishedKinds = new ArrayList<>();
    published.json().path("evidence").forEach(item -> publishedKinds.add(item.path("kind").asText()));
    assertEquals(List.of("COP", "ROD", "COD"), publishedKinds);
    // The relay carried the mail but publishes nothing; another organisation's server is not here.
    assertEquals("UNKNOWN_LABEL", call("GET", "/v1/directory/relay.example/" + label.substring(label.indexOf('/') + 1),
        null, null).error());
    assertEquals("NOT_HOSTED_HERE", call("GET", "/v1/directory/offline.example/00", null, null).error());
  }

  @Test
  void holdingRecipientSeesNothingBeforeAcceptingThenFetchesTheContent() throws Exception {
    String label = labelOf(submit("carol@beta.example", "NSR"));
    String entry = "/inbox/" + label;
    Answer held = awaitStatus("carol@beta.example", entry, carol, answer -> answer.status() == 200);
    assertEquals("AWAITING_DECISION", held.json().path("status").asText());
    assertEquals("alice@alpha.example", held.json().path("sender").asText());
    // The mailbox's list shows the mail, read from the journal.
    Answer list = call("GET", "/v1/mailboxes/carol@beta.example/inbox", carol, null);
    assertEquals(200, list.status(), String.valueOf(list.json()));
    List<String> listed = new ArrayList<>();
    list.json().path("entries").forEach(item -> listed.add(item.path("label").asText()));
    assertTrue(listed.contains(label), listed + " lists " + label);
    list.json().path("entries").forEach(item -> assertEquals("carol@beta.example", item.path("mailbox").asText()));
    // NSR: no content before the receipt (no selective receipt).
    Answer early = call("GET", "/v1/mailboxes/carol@beta.example" + entry + "/content", carol, null);
    assertEquals(409, early.status());
    assertEquals("CONTENT_NOT_RELEASED", early.error());

    Answer accepted = call("POST", "/v1/mailboxes/carol@beta.example" + entry + "/accept", carol, null);
    assertEquals(200, accepted.status(), String.valueOf(accepted.json()));
    Answer content = awaitStatus("carol@beta.example", entry + "/content", carol, answer -> answer.status() == 200);
    assertTrue(content.json().path("subject").asText().startsWith("Contract"));
    assertEquals("Please sign.", content.json().path("body").asText());

    // Deciding twice is refused, with what to do.
    Answer twice = call("POST", "/v1/mailboxes/carol@beta.example" + entry + "/refuse", carol, "{\"reason\":\"no\"}");
    assertEquals(409, twice.status());
    assertEquals("DECISION_NOT_POSSIBLE", twice.error());
  }

  @Test
  void refusalReachesTheSenderAsNonDelivery() throws Exception {
    String key = submit("carol@beta.example", "CEM");
    String label = labelOf(key);
    awaitStatus("carol@beta.example", "/inbox/" + label, carol, answer -> answer.status() == 200);
    Answer refused = call("POST", "/v1/mailboxes/carol@beta.example/inbox/" + label + "/refuse", carol,
        "{\"reason\": \"not mine\"}");
    assertEquals(200, refused.status());
    assertEquals("REFUSED", refused.json().path("status").asText());
    Answer verdict = awaitStatus("alice@alpha.example", "/outbox/" + key, alice,
        answer -> answer.json().path("status").asText().equals("NOT_DELIVERED"));
    assertEquals("RECIPIENT_REFUSED", verdict.json().path("reason").asText());
  }

  @Test
  void aMailboxNeverReadsOrActsOnAnothersData() throws Exception {
    String key = submit("carol@beta.example", "CEM");
    String label = labelOf(key);
    String status = "/v1/mailboxes/alice@alpha.example/outbox/" + key;
    String inbox = "/v1/mailboxes/carol@beta.example/inbox/" + label;

    assertEquals("MISSING_TOKEN", call("GET", status, null, null).error());
    assertEquals(401, call("GET", status, null, null).status());
    Answer forged = call("GET", status, "cm_" + "A".repeat(43), null);
    assertEquals(401, forged.status());
    assertEquals("INVALID_TOKEN", forged.error());
    // Valid tokens of other mailboxes: 403, on every kind of route.
    for (String[] attempt : new String[][] {{"GET", status}, {"GET", status + "/bundle"},
        {"POST", "/v1/mailboxes/alice@alpha.example/outbox"}, {"GET", inbox}, {"POST", inbox + "/accept"},
        {"POST", inbox + "/refuse"}, {"GET", inbox + "/content"}}) {
      String token = attempt[1].contains("alice@") ? bob : alice;
      Answer answer = call(attempt[0], attempt[1], token, attempt[0].equals("POST") ? "{}" : null);
      assertEquals(403, answer.status(), attempt[0] + " " + attempt[1]);
      assertEquals("WRONG_MAILBOX", answer.error());
    }
    // Nothing was decided on carol's behalf.
    Answer entry = awaitStatus("carol@beta.example", "/inbox/" + label, carol, answer -> answer.status() == 200);
    assertEquals("AWAITING_DECISION", entry.json().path("status").asText());
    // Bob's own inbox has no mail under that label.
    assertEquals("UNKNOWN_LABEL", call("GET", "/v1/mailboxes/bob@beta.example/inbox/" + label, bob, null).error());
  }

  @Test
  void mailboxesOfOtherOrganisationsAreSentToTheirNodes() throws Exception {
    Answer elsewhere = call("GET", "/v1/mailboxes/dan@offline.example/outbox/x", alice, null);
    assertEquals(404, elsewhere.status());
    assertEquals("NOT_HOSTED_HERE", elsewhere.error());
    assertTrue(elsewhere.json().path("message").asText().contains("offline.example"));
    assertEquals("UNKNOWN_MAILBOX", call("GET", "/v1/mailboxes/eve@nowhere.example/outbox/x", alice, null).error());
  }

  /**
   * A client waiting for its verdict asks once per change of status: each long poll comes back
   * with a status other than the one it waited on, in the order the mail goes, until the verdict.
   */
  @Test
  void aLongPollAnswersWhenTheStatusChanges() throws Exception {
    String key = "t-" + UUID.randomUUID();
    Answer submitted = call("POST", "/v1/mailboxes/alice@alpha.example/outbox", alice,
        submission("bob@beta.example", "CEM", key, deadlineFromNow()));
    assertEquals(202, submitted.status());
    String status = submitted.json().path("status").asText();
    List<String> seen = new ArrayList<>(List.of(status));
    for (int asked = 0; !status.equals("DELIVERED") && asked < 20; asked++) {
      Answer changed = call("GET", "/v1/mailboxes/alice@alpha.example/outbox/" + key + "?waitWhile=" + status
          + "&waitSeconds=15", alice, null);
      assertEquals(200, changed.status(), String.valueOf(changed.json()));
      String now = changed.json().path("status").asText();
      if (!now.equals(status)) {
        seen.add(now);
      }
      status = now;
    }
    assertEquals("DELIVERED", status, "statuses seen: " + seen);
    assertEquals(seen.stream().distinct().toList(), seen, "each answer a new status: " + seen);
    assertTrue(seen.indexOf("IN_DELIVERY") < seen.indexOf("DELIVERED"), seen.toString());
    // A wait on a status the mail is no longer in is answered at once, with where it stands.
    Answer at = call("GET", "/v1/mailboxes/alice@alpha.example/outbox/" + key + "?waitWhile=SUBMITTED", alice, null);
    assertEquals("DELIVERED", at.json().path("status").asText());
    // A wait that sees no change is answered when it is over, with the status as it is.
    Answer over = call("GET", "/v1/mailboxes/alice@alpha.example/outbox/" + key + "?waitWhile=DELIVERED&waitSeconds=1",
        alice, null);
    assertEquals(200, over.status());
    assertEquals("DELIVERED", over.json().path("status").asText());
  }

  @Test
  void badInputIsRejectedWithAReasonAndWhatToDo() throws Exception {
    String outbox = "/v1/mailboxes/alice@alpha.example/outbox";
    assertEquals("BAD_JSON", call("POST", outbox, alice, "{\"recipient\": \"bob@beta.example\", \"dealine\": 5}").error());
    assertEquals("BAD_RECIPIENT", call("POST", outbox, alice, "{\"subject\": \"x\"}").error());
    assertEquals("BAD_FLAVOUR", call("POST", outbox, alice, "{\"recipient\": \"bob@beta.example\", \"flavour\": \"XX\"}").error());
    assertEquals("BAD_DEADLINE", call("POST", outbox, alice, "{\"recipient\": \"bob@beta.example\", \"deadline\": \"soon\"}").error());
    assertEquals("UNKNOWN_SUBMISSION", call("GET", outbox + "/never-sent", alice, null).error());
    assertEquals("UNKNOWN_SUBMISSION", call("GET", outbox + "/never-sent?waitWhile=SUBMITTED&waitSeconds=1", alice, null).error());
    assertEquals("BAD_WAIT", call("GET", outbox + "/x?waitWhile=SOON", alice, null).error());
    assertEquals("BAD_WAIT", call("GET", outbox + "/x?waitWhile=DELIVERED&waitSeconds=16", alice, null).error());
    assertEquals("BAD_WAIT", call("GET", outbox + "/x?waitWhile=DELIVERED&waitSeconds=0", alice, null).error());
    assertEquals("BAD_WAIT", call("GET", outbox + "/x?waitSeconds=5", alice, null).error());
    Answer noRoute = call("GET", "/v1/nothing", null, null);
    assertEquals(404, noRoute.status());
    assertEquals("NOT_FOUND", noRoute.error());
    Answer wrongMethod = call("DELETE", outbox + "/x", alice, null);
    assertEquals(405, wrongMethod.status());
    assertEquals("METHOD_NOT_ALLOWED", wrongMethod.error());
  }

  /**
   * A request declaring more than max-request-size is refused from its headers: the node does not
   * wait for the body (nor is it sent, after Expect: 100-continue). Raw sockets that send only the
   * headers, since a client still sending when the node closes the connection may lose the answer,
   * and the JDK client hangs when the answer to Expect: 100-continue is not 100.
   */
  @Test
  void requestsLargerThanTheLimitAre413WithTheLimitsInTheMessage() throws Exception {
    for (long declared : new long[] {MAX_REQUEST + 1, 64L * MIB}) {
      for (boolean expectContinue : new boolean[] {false, true}) {
        URI uri = URI.create(base);
        try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
          socket.setSoTimeout(10_000);
          socket.getOutputStream().write(("POST /v1/mailboxes/alice@alpha.example/outbox HTTP/1.1\r\nHost: "
              + uri.getAuthority() + "\r\nAuthorization: Bearer " + alice + "\r\nContent-Type: application/json\r\n"
              + "Content-Length: " + declared + "\r\n" + (expectContinue ? "Expect: 100-continue\r\n" : "") + "\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          socket.getOutputStream().flush();
          // The node closes the connection after the answer (the body it did not read cannot be
          // skipped), possibly with a reset: keep what it answered first.
          java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream();
          byte[] buffer = new byte[8192];
          try {
            for (int n = socket.getInputStream().read(buffer); n >= 0; n = socket.getInputStream().read(buffer)) {
              read.write(buffer, 0, n);
            }
          } catch (java.net.SocketException reset) {
            if (read.size() == 0) {
              throw reset;
            }
          }
          String answer = read.toString(StandardCharsets.UTF_8);
          assertTrue(answer.startsWith("HTTP/1.1 413 "), declared + " bytes: " + answer);
          JsonNode error = JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4));
          assertEquals("REQUEST_TOO_LARGE", error.path("error").asText());
          assertLimitsNamed(error.path("message").asText());
        }
      }
    }
  }

  private static void assertLimitsNamed(String message) {
    assertTrue(message.contains(MAX_REQUEST + " bytes (certmail.http.max-request-size)"), message);
    assertTrue(message.contains(MAX_CONTENT + " bytes (certmail.engine.max-content-size)"), message);
  }

  // ---- mails as large as the limits ----

  static final int MIB = 1024 * 1024;
  /** The node's shipped limits: certmail.engine.max-content-size, certmail.http.max-request-size. */
  static final long MAX_CONTENT = 1024 * 1024;
  static final long MAX_REQUEST = 2 * 1024 * 1024;

  @Test
  void theNodeRunsWithTheShippedLimits() {
    com.typesafe.config.Config config = network.node.system().settings().config();
    assertEquals(MAX_CONTENT, config.getBytes("certmail.engine.max-content-size"));
    assertEquals(MAX_REQUEST, config.getBytes("certmail.http.max-request-size"));
  }

  /**
   * A mail of exactly max-content-size whose JSON is larger than the content: quotes, backslashes,
   * tabs and line breaks are escaped (non-ASCII goes as UTF-8). The limit before this test was
   * 1100 KiB, which refused it.
   */
  @Test
  void mailOfMaxContentSizeIsAdmittedWithItsJsonEscapesAndDelivered() throws Exception {
    MailItem item = mailOfSize(MAX_CONTENT, "Line \"quoted\" with a \\ backslash,\tété, 1 €\n");
    String key = "large-" + UUID.randomUUID();
    String json = JSON.writeValueAsString(Map.of("recipient", "bob@beta.example", "subject", item.getSubject(),
        "body", item.getBody(), "contentType", item.getContentType(), "flavour", "CEM", "leadSeconds", 600,
        "idempotencyKey", key));
    int jsonBytes = json.getBytes(StandardCharsets.UTF_8).length;
    assertTrue(jsonBytes > 1100 * 1024 && jsonBytes < MAX_REQUEST, "JSON of " + jsonBytes + " bytes");

    Answer submitted = call("POST", "/v1/mailboxes/alice@alpha.example/outbox", alice, json);
    assertEquals(202, submitted.status(), String.valueOf(submitted.json()));
    Answer delivered = awaitStatus("alice@alpha.example", "/outbox/" + key, alice,
        HttpApiTest::isFinal);
    assertEquals("DELIVERED", delivered.json().path("status").asText(), delivered.json().toString());
    String label = delivered.json().path("label").asText();
    Answer content = awaitStatus("bob@beta.example", "/inbox/" + label + "/content", bob,
        answer -> answer.status() == 200);
    assertEquals(item.getBody(), content.json().path("body").asText());
  }

  /**
   * Content over max-content-size but within the HTTP limit reaches alpha.example's server, which
   * refuses it with a signed rejection: one byte over, and as much as the HTTP limit lets through.
   */
  @Test
  void contentOverMaxContentSizeBelowTheHttpLimitGetsASignedMessageTooLarge() throws Exception {
    EvidenceVerifier verifier = new EvidenceVerifier(network.node.keys().trustStore());
    for (long size : new long[] {MAX_CONTENT + 1, MAX_REQUEST - 1024}) {
      MailItem item = mailOfSize(size, "a");
      String key = "too-large-" + UUID.randomUUID();
      String json = JSON.writeValueAsString(Map.of("recipient", "bob@beta.example", "subject", item.getSubject(),
          "body", item.getBody(), "contentType", item.getContentType(), "idempotencyKey", key));
      assertTrue(json.length() < MAX_REQUEST, json.length() + " bytes");
      Answer submitted = call("POST", "/v1/mailboxes/alice@alpha.example/outbox", alice, json);
      assertEquals(202, submitted.status(), String.valueOf(submitted.json()));
      Answer refused = awaitStatus("alice@alpha.example", "/outbox/" + key, alice, HttpApiTest::isFinal);
      assertEquals("NOT_DELIVERED", refused.json().path("status").asText(), size + " bytes");
      assertEquals("MESSAGE_TOO_LARGE", refused.json().path("reason").asText(), size + " bytes");
      byte[] rejection = java.util.Base64.getDecoder().decode(refused.json().path("evidence").get(0).path("base64").asText());
      EvidenceStatement statement = verifier.verify(SignedEvidence.parseFrom(rejection)).statement();
      assertEquals(EvidenceKind.SUBMISSION_REJECTION, statement.getKind());
      assertEquals("alpha.example", statement.getIssuer());
      assertEquals(key, statement.getSubmissionId());
    }
  }

  static boolean isFinal(Answer answer) {
    return List.of("DELIVERED", "NOT_DELIVERED", "LOST", "NOT_POSTED").contains(answer.json().path("status").asText());
  }

  private static Answer submitAndAwaitTheEnd(String outbox, String deadline) throws Exception {
    String key = "far-" + UUID.randomUUID();
    Answer submitted = call("POST", outbox, alice, "{\"recipient\": \"bob@beta.example\", \"idempotencyKey\": \""
        + key + "\", " + deadline + "}");
    assertEquals(202, submitted.status(), deadline + ": " + submitted.json());
    return awaitStatus("alice@alpha.example", "/outbox/" + key, alice, HttpApiTest::isFinal);
  }

  /** A mail whose protobuf encoding (what max-content-size limits) is exactly {@code bytes} long. */
  static MailItem mailOfSize(long bytes, String unit) {
    MailItem.Builder builder = MailItem.newBuilder().setSubject("Large").setContentType("text/plain; charset=utf-8");
    // Room for the body's tag and length prefix (at most 5 bytes); ASCII padding fills the rest.
    long units = (bytes - builder.build().getSerializedSize() - 6) / unit.getBytes(StandardCharsets.UTF_8).length;
    StringBuilder body = new StringBuilder(unit.repeat((int) units));
    // Pad with ASCII; the body's length prefix may grow by a byte meanwhile, hence the loop.
    for (int size; (size = builder.setBody(body.toString()).build().getSerializedSize()) < bytes; ) {
      body.append("x".repeat((int) (bytes - size)));
    }
    MailItem item = builder.build();
    assertEquals(bytes, item.getSerializedSize());
    return item;
  }

  // ---- deadlines ----

  /**
   * What cannot be a deadline is a 400 that says what is accepted, never a 500 or a deadline in
   * the past: instants outside epoch milliseconds (or beyond year 9999), leads that overflow or
   * are negative. A representable deadline outside the policy is the server's to refuse, signed.
   */
  @Test
  void deadlinesThatCannotBeAreRefusedWithTheAcceptedRange() throws Exception {
    String outbox = "/v1/mailboxes/alice@alpha.example/outbox";
    com.typesafe.config.Config engine = network.node.system().settings().config().getConfig("certmail.engine");
    long maxLeadSeconds = engine.getDuration("max-lead-time").toSeconds();
    String window = "between " + engine.getDuration("min-lead-time").toSeconds() + " s and " + maxLeadSeconds
        + " s (" + engine.getDuration("max-lead-time").toDays() + " days) ahead";
    List<String> impossible = List.of(
        "\"deadline\": \"+1000000000-12-31T23:59:59Z\"",   // Instant.MAX: no epoch millis
        "\"deadline\": \"-1000000000-01-01T00:00:00Z\"",   // Instant.MIN
        "\"deadline\": \"+10000-01-01T00:00:00Z\"",        // epoch millis, but not a four-digit year
        "\"deadline\": \"+1000000001-01-01T00:00:00Z\"",   // beyond Instant
        "\"leadSeconds\": 9223372036854775807",             // Long.MAX_VALUE: seconds to millis overflows
        "\"leadSeconds\": 9223372036854775",                // to millis fits, plus now overflows: wrapped into the past
        "\"leadSeconds\": 9000000000000000",                // no overflow, year 287,000,000
        "\"leadSeconds\": -1",
        "\"leadSeconds\": 99999999999999999999",            // not a 64-bit integer
        "\"leadSeconds\": 1e30");
    for (String deadline : impossible) {
      Answer answer = call("POST", outbox, alice, "{\"recipient\": \"bob@beta.example\", " + deadline + "}");
      assertEquals(400, answer.status(), deadline + ": " + answer.json());
      assertEquals("BAD_DEADLINE", answer.error(), deadline);
      String message = answer.json().path("message").asText();
      assertTrue(message.contains(window) && message.contains("max-lead-time"), deadline + ": " + message);
    }

    // Representable but outside the policy: accepted by the API, refused by the origin server, signed.
    for (String deadline : List.of("\"leadSeconds\": " + (maxLeadSeconds + 3600),
        "\"deadline\": \"9999-12-31T23:59:59.999Z\"")) {
      Answer refused = submitAndAwaitTheEnd(outbox, deadline);
      assertEquals("DEADLINE_NOT_ACCEPTABLE", refused.json().path("reason").asText(), deadline);
      assertEquals("SUBMISSION_REJECTION", refused.json().path("evidence").get(0).path("kind").asText(), deadline);
    }
    // Long past: the sender's own entity ends it without a COP (its T + grace has passed).
    Answer past = submitAndAwaitTheEnd(outbox, "\"deadline\": \"0000-01-01T00:00:00Z\"");
    assertEquals("", past.json().path("label").asText(), past.json().toString());
  }

  @Test
  void aMailboxOverItsRateIs429WhileOthersGoOn() throws Exception {
    String anna = network.token("anna@alpha.example");
    int limited = 0;
    Answer last = null;
    for (int i = 0; i < 120 && limited == 0; i++) {
      last = call("GET", "/v1/mailboxes/anna@alpha.example/outbox/none", anna, null);
      limited += last.status() == 429 ? 1 : 0;
    }
    assertEquals(429, last.status(), "no 429 after 120 requests at once");
    assertEquals("RATE_LIMITED", last.error());
    assertTrue(last.raw().headers().firstValue("Retry-After").isPresent());
    // Anna's budget is hers: alice is not limited by it.
    assertEquals(404, call("GET", "/v1/mailboxes/alice@alpha.example/outbox/none", alice, null).status());
  }

  @Test
  void readinessSaysReadyOnceTheNodeIsUpAndItsEngineStarted() throws Exception {
    HttpResponse<String> ready = CLIENT.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + network.managementPort + "/ready")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, ready.statusCode(), ready.body());
  }

  /** The OpenAPI description and the server agree: every described route answers, every route is described. */
  @Test
  void openApiDescribesExactlyTheRoutesTheServerHas() throws Exception {
    String yaml;
    try (InputStream in = HttpApi.class.getResourceAsStream("openapi.yaml")) {
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    SwaggerParseResult parsed = new OpenAPIV3Parser().readContents(yaml, null, null);
    assertTrue(parsed.getMessages() == null || parsed.getMessages().isEmpty(), String.valueOf(parsed.getMessages()));
    OpenAPI api = parsed.getOpenAPI();
    TreeSet<String> described = new TreeSet<>();
    for (Map.Entry<String, PathItem> path : api.getPaths().entrySet()) {
      path.getValue().readOperationsMap().keySet().forEach(method -> described.add(method.name() + " " + path.getKey()));
    }
    assertEquals(new TreeSet<>(HttpApi.ROUTES), described);

    // The document the node serves is this one.
    Answer served = call("GET", "/v1/openapi.yaml", null, null);
    assertEquals(200, served.status());
    assertEquals(yaml, new String(served.bytes(), StandardCharsets.UTF_8));

    // Every described route exists on the server: it answers something other than "no such route".
    for (String route : described) {
      String method = route.substring(0, route.indexOf(' '));
      String path = route.substring(route.indexOf(' ') + 1).replace("{mailbox}", "alice@alpha.example")
          .replace("{submissionId}", "probe").replace("{labelServer}", "alpha.example").replace("{labelId}", "0");
      Answer answer = call(method, path, alice, method.equals("POST") ? "{}" : null);
      assertNotEquals("NOT_FOUND", answer.error(), route);
      assertNotEquals(405, answer.status(), route);
    }
    // And a path that is not described does not exist.
    assertEquals("NOT_FOUND", call("GET", "/v1/mailboxes/alice@alpha.example/drafts", alice, null).error());
    assertEquals(described.stream().map(route -> route.split(" ")[1]).collect(Collectors.toSet()), api.getPaths().keySet());
  }
}
