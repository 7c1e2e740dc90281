package net.certmail.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web pages as HTTP answers (the browser tests are WebUiBrowserTest): what is served under
 * /ui and /v1/docs, with which headers, what is not, and the two API answers the pages need
 * (a sender's outbox listing, an inbox entry's last moment to accept).
 */
class WebUiTest {
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path dir;
  static TestNode network;
  static String base;

  @BeforeAll
  static void start() throws Exception {
    // Carol's mailbox holds mails: she has minutes, not the demo's 12 s, to decide.
    network = TestNode.start(dir, "certmail.engine.delivery-timeout = 5m");
    base = network.endpoints.apiUri();
  }

  @AfterAll
  static void stop() {
    if (network != null) {
      network.close();
    }
  }

  static HttpResponse<String> get(String path) throws Exception {
    return CLIENT.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
        .header("Authorization", "Bearer " + token)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void everyPageIsHtmlUnderAStrictContentSecurityPolicy() throws Exception {
    for (String page : List.of("/ui/", "/ui/outbox", "/ui/inbox", "/ui/verify")) {
      HttpResponse<String> answer = get(page);
      assertEquals(200, answer.statusCode(), page);
      assertTrue(answer.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), page);
      assertEquals(WebUi.CONTENT_SECURITY_POLICY, answer.headers().firstValue("Content-Security-Policy").orElse(""), page);
      assertEquals("nosniff", answer.headers().firstValue("X-Content-Type-Options").orElse(""), page);
      assertFalse(answer.body().contains("<script>"), page + " has an inline script");
      assertFalse(answer.body().contains("style=\""), page + " has an inline style");
    }
    assertFalse(WebUi.CONTENT_SECURITY_POLICY.contains("unsafe"));
  }

  @Test
  void scriptsAreServedAsJavaScriptModulesFromTheJar() throws Exception {
    HttpResponse<String> script = get("/ui/assets/verifier.js");
    assertEquals(200, script.statusCode());
    assertTrue(script.headers().firstValue("Content-Type").orElse("").startsWith("application/javascript"));
    assertTrue(script.body().contains("export async function verifyBundle"));
    assertTrue(get("/ui/assets/app.css").headers().firstValue("Content-Type").orElse("").startsWith("text/css"));
  }

  @Test
  void theNetworkCaIsServedForTheVerifyPage() throws Exception {
    HttpResponse<String> ca = get("/ui/ca.pem");
    assertEquals(200, ca.statusCode());
    assertEquals(Files.readString(network.keys.resolve("ca.pem")).strip(), ca.body().strip());
  }

  @Test
  void unknownPagesAndPathsOutsideTheAssetsAreHtml404s() throws Exception {
    for (String path : List.of("/ui/nothing", "/ui/assets/nothing.js", "/ui/assets/..%2Findex.html",
        "/ui/assets/../outbox.html", "/ui/assets/sub/app.js", "/ui/index.html", "/ui/assets/app.js.map")) {
      HttpResponse<String> answer = get(path);
      assertEquals(404, answer.statusCode(), path);
      assertTrue(answer.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), path);
      assertFalse(answer.body().contains("<script"), path);
    }
    assertEquals(301, get("/ui").statusCode());
    assertEquals("/ui/", get("/ui").headers().firstValue("Location").orElse(""));
  }

  @Test
  void aRequestNameIsEscapedOnTheErrorPage() throws Exception {
    HttpResponse<String> answer = get("/ui/%3Cimg%20src=x%20onerror=alert(1)%3E");
    assertEquals(404, answer.statusCode());
    assertFalse(answer.body().contains("<img"), answer.body());
    assertTrue(answer.body().contains("&lt;img"), answer.body());
  }

  @Test
  void onlyGetReachesThePages() throws Exception {
    HttpResponse<String> answer = call("POST", "/ui/", "x", "{}");
    assertEquals(405, answer.statusCode());
    assertTrue(answer.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
  }

  @Test
  void theApiStillAnswersJsonBesideThePages() throws Exception {
    HttpResponse<String> answer = get("/v1/no-such-thing");
    assertEquals(404, answer.statusCode());
    assertEquals("NOT_FOUND", JSON.readTree(answer.body()).path("error").asText());
    assertEquals(404, get("/uinothing").statusCode());
  }

  @Test
  void swaggerUiDescribesTheApiFromItsWebJar() throws Exception {
    HttpResponse<String> page = get("/v1/docs");
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("/v1/docs/swagger-ui-bundle.js"));
    assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("script-src 'self'"));
    HttpResponse<String> bundle = get("/v1/docs/swagger-ui-bundle.js");
    assertEquals(200, bundle.statusCode());
    assertTrue(bundle.body().length() > 100_000, "Swagger UI's bundle from org.webjars:swagger-ui");
    assertEquals(404, get("/v1/docs/index.html").statusCode());
  }

  @Test
  void theOutboxListsTheSendersSubmissionsAndTheInboxWhenToDecide() throws Exception {
    String alice = network.token("alice@alpha.example");
    String carol = network.token("carol@beta.example");
    Instant deadline = Instant.now().plus(Duration.ofHours(1)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    Set<String> sent = new TreeSet<>();
    for (String id : List.of("web-list-1", "web-list-2")) {
      HttpResponse<String> submitted = call("POST", "/v1/mailboxes/alice@alpha.example/outbox", alice,
          "{\"recipient\":\"carol@beta.example\",\"subject\":\"s\",\"body\":\"b\",\"flavour\":\"NSR\",\"deadline\":\""
              + deadline + "\",\"idempotencyKey\":\"" + id + "\"}");
      assertEquals(202, submitted.statusCode(), submitted.body());
      sent.add(id);
    }
    JsonNode listing = JSON.readTree(call("GET", "/v1/mailboxes/alice@alpha.example/outbox", alice, null).body());
    Set<String> listed = new TreeSet<>();
    listing.path("entries").forEach(entry -> listed.add(entry.path("submissionId").asText()));
    assertTrue(listed.containsAll(sent), listing.toString());
    assertFalse(listing.path("truncated").asBoolean());
    // Another mailbox's token lists nothing of alice's.
    assertEquals(403, call("GET", "/v1/mailboxes/alice@alpha.example/outbox", carol, null).statusCode());

    JsonNode awaiting = awaitInboxEntry(carol);
    Instant acceptUntil = Instant.parse(awaiting.path("acceptUntil").asText());
    assertTrue(acceptUntil.isBefore(deadline), acceptUntil + " is not before T " + deadline);
    assertTrue(acceptUntil.isAfter(Instant.now()), acceptUntil.toString());
  }

  /** Polls carol's inbox until one of alice's mails awaits her decision (delivery takes a few hops). */
  private static JsonNode awaitInboxEntry(String carol) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < until) {
      JsonNode inbox = JSON.readTree(call("GET", "/v1/mailboxes/carol@beta.example/inbox", carol, null).body());
      for (JsonNode entry : inbox.path("entries")) {
        if (entry.path("status").asText().equals("AWAITING_DECISION")) {
          return entry;
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no mail reached carol's inbox within 60 s");
  }
}
