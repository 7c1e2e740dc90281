package net.certmail.node.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Every answer of the HTTP API as one timer, {@value #REQUESTS}, tagged with the method, the
 * resource (a fixed set: never the mailbox or label of the path, so that a client cannot grow the
 * series) and the status code. In Prometheus: certmail_http_requests_seconds_{count,sum,bucket}.
 * The time is until the answer's headers are ready; streamed bodies are not included.
 */
public final class RequestMetrics extends AllDirectives {
  public static final String REQUESTS = "certmail.http.requests";
  private static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH");

  private final MeterRegistry registry;

  public RequestMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** The route, with each of its answers (errors and rejections included) counted and timed. */
  public Route measured(Route inner) {
    return extractRequest(request -> {
      long started = System.nanoTime();
      return mapResponse(response -> {
        timer(request, response.status().intValue()).record(Duration.ofNanos(System.nanoTime() - started));
        return response;
      }, () -> inner);
    });
  }

  private Timer timer(HttpRequest request, int status) {
    String method = request.method().value();
    return Timer.builder(REQUESTS)
        .description("HTTP API answers by method, resource and status")
        .tag("method", METHODS.contains(method) ? method : "OTHER")
        .tag("resource", resource(request.getUri().path()))
        .tag("status", Integer.toString(status))
        .publishPercentileHistogram()
        .maximumExpectedValue(Duration.ofSeconds(30))
        .register(registry);
  }

  /** The resource a path addresses, from a fixed set. */
  static String resource(String path) {
    String[] segments = path.split("/", -1);
    // "", "v1", "mailboxes", "{mailbox}", "outbox"|"inbox", ...
    if (segments.length >= 3 && segments[1].equals("v1")) {
      switch (segments[2]) {
        case "openapi.yaml":
          return "openapi";
        case "directory":
          return "directory";
        case "docs":
          return "docs";
        case "mailboxes":
          if (segments.length >= 5 && (segments[4].equals("outbox") || segments[4].equals("inbox"))) {
            return segments[4];
          }
          return "mailbox";
        default:
          return "other";
      }
    }
    if (segments.length >= 2 && segments[1].equals("ui")) {
      return "ui";
    }
    return "other";
  }
}
