package net.certmail.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.certmail.node.runtime.CertmailNode;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * The network faces of a started node: its HTTP API and pekko-management's /alive and /ready.
 * Both are unbound by coordinated shutdown (the API first, so no request reaches a stopping engine).
 */
public final class NodeEndpoints {
  private final ServerBinding api;
  private final String managementUri;

  private NodeEndpoints(ServerBinding api, String managementUri) {
    this.api = api;
    this.managementUri = managementUri;
  }

  public static NodeEndpoints start(CertmailNode node, Clock clock) throws IOException {
    HttpSettings settings = HttpSettings.fromConfig(node.system().settings().config());
    org.apache.pekko.actor.ActorSystem classic = Adapter.toClassic(node.system());
    String management;
    try {
      management = PekkoManagement.get(classic).start().toCompletableFuture()
          .thenApply(Object::toString).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IOException("cannot start the health endpoints (is another node using port "
          + node.system().settings().config().getInt("pekko.management.http.port")
          + "? set pekko.management.http.port): " + e.getMessage(), e);
    }
    HttpApi api = new HttpApi(node.engine(), node.organisations(), node.hostedMailboxes(), node.keys().trustStore(),
        TokenStore.open(node.keyDirectory()), settings, clock, node.mailboxIndex());
    ServerBinding binding;
    try {
      // Requests refused before routing (431, 414, 400) answer in the JSON error shape too.
      ServerSettings server = ServerSettings.create(classic).withParsingErrorHandler(JsonParsingErrorHandler.class.getName());
      binding = Http.get(node.system()).newServerAt(settings.host(), settings.port()).withSettings(server)
          .bind(new RequestMetrics(node.meters()).measured(
              concat(new WebUi(node.keys().trustStore().caCertificate()).routes(), api.routes())))
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IOException("cannot listen on " + settings.host() + ":" + settings.port()
          + " for the HTTP API (is another node using that port? set certmail.http.port): " + e.getMessage(), e);
    }
    // In-flight requests get this long to finish when the node stops.
    binding.addToCoordinatedShutdown(Duration.ofSeconds(5), node.system());
    EngineReadiness.markStarted(classic);
    return new NodeEndpoints(binding, management);
  }

  /** The API's base URL, e.g. http://127.0.0.1:8081 (the actual port when 0 was configured). */
  public String apiUri() {
    return "http://" + api.localAddress().getHostString() + ":" + api.localAddress().getPort();
  }

  public String managementUri() {
    return managementUri;
  }
}
