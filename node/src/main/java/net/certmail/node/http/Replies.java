package net.certmail.node.http;

import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;

/** How every resource completes a request with what the engine answered. */
final class Replies {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HttpApi.class);

  private Replies() {}

  /** Completes with the engine's answer; an engine that does not answer in time is 503 (retry). */
  static Route answer(CompletionStage<HttpResponse> response) {
    return Directives.completeWithFuture(response.handle((ok, failure) -> {
      if (failure == null) {
        return ok;
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      if (cause instanceof TimeoutException) {
        return Json.error(StatusCodes.SERVICE_UNAVAILABLE, "ENGINE_UNAVAILABLE", "the engine did not answer in time"
            + " (the cluster may be rebalancing): retry in a few seconds");
      }
      // The cause stays in the node's log: its message may name classes, files or other mailboxes.
      String incident = UUID.randomUUID().toString();
      LOG.error("request failed (incident {})", incident, cause);
      return Json.error(StatusCodes.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "the node could not answer;"
          + " its log has the details under incident " + incident);
    }));
  }

  static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }
}
