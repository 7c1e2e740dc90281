package net.certmail.node.metrics;

import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /metrics} on pekko-management's port, for Prometheus: registered in certmail-node.conf
 * under {@code pekko.management.http.routes}, beside /alive and /ready.
 */
public final class MetricsRoute extends AllDirectives implements ManagementRouteProvider {
  /** Prometheus' text exposition format 0.0.4, which every Prometheus version reads. */
  static final ContentType PROMETHEUS_TEXT = ContentTypes.parse("text/plain; version=0.0.4; charset=utf-8");

  private final NodeMetrics metrics;

  /** pekko-management creates route providers with the classic ActorSystem. */
  public MetricsRoute(ExtendedActorSystem system) {
    this.metrics = NodeMetrics.get(system);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return path("metrics", () -> get(() -> completeWithFuture(metrics.scrape().thenApply(text ->
        HttpResponse.create().withEntity(HttpEntities.create(PROMETHEUS_TEXT,
            text.getBytes(java.nio.charset.StandardCharsets.UTF_8)))))));
  }
}
