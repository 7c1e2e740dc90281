package net.certmail.node.chaos;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import net.certmail.node.cluster.LocalCluster;

/**
 * The workload's HTTP client: one request is one operation of the history. It asks the nodes of
 * the mailbox's organisation in turn until one gives a definite answer; every attempt is recorded.
 * A 2xx is {@code ok}; a 4xx, or a node that cannot be reached, is {@code fail} (nothing was done);
 * a 5xx or a timeout is {@code info} (it may have been done).
 */
final class ChaosClient {
  /** A definite answer (or the last attempt's outcome when none was). */
  record Answer(String type, int status, JsonNode body, long invokedAt, long completedAt) {
    boolean ok() {
      return "ok".equals(type);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
  private final History history;
  private final Function<LocalCluster.Node, Map<String, String>> tokens;

  ChaosClient(History history, Function<LocalCluster.Node, Map<String, String>> tokens) {
    this.history = history;
    this.tokens = tokens;
  }

  Answer call(String process, String f, String mail, String mailbox, List<LocalCluster.Node> nodes, String method,
              String path, String body, String idempotencyKey) {
    return call(process, f, mail, mailbox, nodes, method, path, body, idempotencyKey, Map.of());
  }

  /** As above; {@code about} goes into each invoke (what the mail is, for reading the history). */
  Answer call(String process, String f, String mail, String mailbox, List<LocalCluster.Node> nodes, String method,
              String path, String body, String idempotencyKey, Map<String, Object> about) {
    Answer last = new Answer("fail", 0, null, history.now(), history.now());
    for (LocalCluster.Node node : nodes) {
      if (!node.alive() || node.paused()) {
        continue;
      }
      last = once(process, f, mail, mailbox, node, method, path, body, idempotencyKey, about);
      if (last.ok() || (last.status >= 400 && last.status < 500)) {
        return last;
      }
    }
    return last;
  }

  private Answer once(String process, String f, String mail, String mailbox, LocalCluster.Node node, String method,
                      String path, String body, String idempotencyKey, Map<String, Object> about) {
    Map<String, Object> invoke = new LinkedHashMap<>(about);
    invoke.put("node", node.name());
    invoke.put("request", method + " " + path);
    long invokedAt = history.add(process, "invoke", f, mail, invoke).wall();
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(node.apiUri() + path))
        .timeout(Duration.ofSeconds(15))
        .header("Authorization", "Bearer " + tokens.apply(node).get(mailbox));
    if (idempotencyKey != null) {
      request.header("Idempotency-Key", idempotencyKey);
    }
    if (body != null) {
      request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("node", node.name());
    String type;
    int status = 0;
    JsonNode json = null;
    try {
      HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      status = response.statusCode();
      value.put("status", status);
      try {
        json = JSON.readTree(response.body());
      } catch (IOException notJson) {
        value.put("body", response.body().length() > 200 ? response.body().substring(0, 200) : response.body());
      }
      type = status < 300 ? "ok" : status < 500 ? "fail" : "info";
      if (json != null) {
        summarise(json, value);
      }
    } catch (ConnectException refused) {
      type = "fail";
      value.put("error", "connection refused");
    } catch (HttpTimeoutException timeout) {
      type = "info";
      value.put("error", "timeout");
    } catch (IOException e) {
      type = "info";
      value.put("error", String.valueOf(e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      type = "info";
      value.put("error", "interrupted");
    }
    long completedAt = history.add(process, type, f, mail, value).wall();
    return new Answer(type, status, json, invokedAt, completedAt);
  }

  /** What the history keeps of an answer: the fields that say where the mail stands, not the evidence bytes. */
  private static void summarise(JsonNode json, Map<String, Object> value) {
    for (String field : List.of("status", "reason", "label", "error", "contentAvailable")) {
      JsonNode node = json.get(field);
      if (node != null && !node.isNull()) {
        value.put(field.equals("status") ? "mailStatus" : field, node.asText());
      }
    }
    JsonNode evidence = json.get("evidence");
    if (evidence != null && evidence.isArray()) {
      StringBuilder kinds = new StringBuilder();
      evidence.forEach(item -> kinds.append(kinds.isEmpty() ? "" : ",").append(item.path("kind").asText()));
      value.put("evidence", kinds.toString());
    }
  }
}
