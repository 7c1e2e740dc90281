package net.certmail.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The HTTP client side of the commands that talk to a node (send, status, inbox, accept, refuse,
 * fetch, evidence export): a picocli mixin for --node, --mailbox and --token, and the mapping of
 * the node's answers to exit codes (4xx: 2, the request must change; otherwise 3).
 */
final class NodeClient {
  static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--node", paramLabel = "URL", defaultValue = "${env:CERTMAIL_NODE:-http://127.0.0.1:8081}",
      description = "The node's HTTP API (default ${DEFAULT-VALUE}; env CERTMAIL_NODE).")
  String node;

  @Option(names = "--mailbox", paramLabel = "MAILBOX", defaultValue = "${env:CERTMAIL_MAILBOX}",
      description = "Your mailbox, e.g. alice@alpha.example (env CERTMAIL_MAILBOX).")
  String mailbox;

  @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:CERTMAIL_TOKEN}",
      description = "Your bearer token from `certmail keys token` (env CERTMAIL_TOKEN; prefer the env: options show in ps).")
  String token;

  /** A successful answer: its status, body and content type. */
  record Answer(int status, byte[] body, String contentType) {
    JsonNode json() throws IOException {
      return JSON.readTree(body);
    }
  }

  /** Calls {@code /v1/mailboxes/<mailbox><path>}; throws with the node's reason and advice on any error. */
  Answer call(String method, String path, Object body) throws IOException, InterruptedException {
    if (mailbox == null || mailbox.isBlank()) {
      throw new UserInputException("give --mailbox (or set CERTMAIL_MAILBOX), e.g. --mailbox alice@alpha.example");
    }
    if (token == null || token.isBlank()) {
      throw new UserInputException("give --token or set CERTMAIL_TOKEN; issue one on the node's host with:"
          + " certmail keys token --mailbox " + mailbox + " --keys <node key directory>");
    }
    URI uri = uri(node, mailbox, path);
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + token)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    HttpResponse<byte[]> response;
    try {
      response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
          .send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (ConnectException e) {
      throw new IllegalStateException("cannot connect to " + node + ": is the node running? start it with"
          + " ./certmail node --config cluster-config/local/<node>.conf (or pass --node URL)", e);
    } catch (HttpTimeoutException e) {
      throw new IllegalStateException("the node at " + node + " did not answer within 30 s: check its log, then retry", e);
    }
    String contentType = response.headers().firstValue("Content-Type").orElse("");
    if (response.statusCode() / 100 == 2) {
      return new Answer(response.statusCode(), response.body(), contentType);
    }
    String reason = "HTTP_" + response.statusCode();
    String message = new String(response.body(), java.nio.charset.StandardCharsets.UTF_8);
    if (contentType.startsWith("application/json")) {
      JsonNode error = JSON.readTree(response.body());
      reason = error.path("error").asText(reason);
      message = error.path("message").asText(message);
    }
    String text = "the node answered " + response.statusCode() + " " + reason + ": " + message;
    if (response.statusCode() / 100 == 4) {
      throw new UserInputException(text);
    }
    throw new IllegalStateException(text);
  }

  /** The request URI on the node's API; an empty or scheme-less node URL says what to set. */
  static URI uri(String node, String mailbox, String path) {
    String base = node == null ? "" : node.strip().replaceAll("/+$", "");
    if (base.isEmpty()) {
      boolean fromEnvironment = "".equals(System.getenv("CERTMAIL_NODE"));
      throw new UserInputException((fromEnvironment ? "CERTMAIL_NODE is set but empty" : "--node is empty")
          + ": give the node's HTTP API, e.g. export CERTMAIL_NODE=http://127.0.0.1:8081 or --node http://127.0.0.1:8081"
          + (fromEnvironment ? " (or unset CERTMAIL_NODE for that default)" : ""));
    }
    URI uri;
    try {
      uri = URI.create(base + "/v1/mailboxes/" + mailbox + path);
    } catch (IllegalArgumentException e) {
      uri = null;
    }
    if (uri == null || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
      throw new UserInputException("the node URL \"" + node + "\" (--node or CERTMAIL_NODE) is not an http URL:"
          + " write it like http://127.0.0.1:8081");
    }
    return uri;
  }

  /** A label as the API takes it in paths: "server/id", both parts plain. */
  static String labelPath(String label) {
    if (!label.matches("[a-z0-9.-]+/[0-9a-f]{8,64}")) {
      throw new UserInputException("\"" + label + "\" is not a label: labels look like alpha.example/<32 hex digits>"
          + " (the sender's `certmail status` shows it)");
    }
    return label;
  }

  static Map<String, Object> refusal(String reason) {
    return reason == null ? null : Map.of("reason", reason);
  }
}
