package net.certmail.node.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import net.certmail.actors.FaultyTransport;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * The chaos controls of one node on its management port (loopback), registered only when the
 * node runs with {@code certmail.chaos.enabled = on} ({@link ChaosSwitch#configure}):
 *
 * <pre>
 *   GET  /chaos/entities                                   entity ids sharding runs here
 *   POST /chaos/clock?offsetMillis=N                       skew this node's clock (|N| within clock-skew)
 *   POST /chaos/faults?drop=&duplicate=&delay=&maxDelayMillis=   envelope faults (0 turns them off)
 *   GET  /chaos/faults                                     what the faulty transport did so far
 *   POST /chaos/partition?address=pekko://...&direction=send|receive|both
 *   POST /chaos/heal                                       lift every partition this node made
 * </pre>
 */
public final class ChaosRoute extends AllDirectives implements ManagementRouteProvider {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ChaosSwitch chaos;

  public ChaosRoute(ExtendedActorSystem system) {
    this.chaos = ChaosSwitch.ID.get(system);
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return pathPrefix("chaos", () -> concat(
        path("entities", () -> get(() -> completeWithFuture(entities()))),
        path("clock", () -> post(() -> parameter("offsetMillis", offset -> act(() -> {
          chaos.clockOffset(Long.parseLong(offset));
          return Map.of("offsetMillis", chaos.clockOffset());
        })))),
        path("faults", () -> concat(
            get(() -> act(this::counts)),
            post(() -> parameterMap(params -> act(() -> {
              chaos.faults(new FaultyTransport.Faults(number(params, "drop"), number(params, "duplicate"),
                  number(params, "delay"), Duration.ofMillis((long) number(params, "maxDelayMillis"))));
              return counts();
            }))))),
        path("partition", () -> post(() -> parameter("address", address -> parameter("direction", direction ->
            act(() -> {
              chaos.partition(address, direction);
              return Map.of("partitioned", address, "direction", direction);
            }))))),
        path("heal", () -> post(() -> act(() -> Map.of("healed", chaos.heal()))))));
  }

  private CompletionStage<HttpResponse> entities() {
    return chaos.entities().thenApply(ids -> json(200, Map.of("entities", ids)));
  }

  private static double number(Map<String, String> params, String name) {
    String value = params.get(name);
    if (value == null) {
      throw new IllegalArgumentException("missing parameter " + name);
    }
    try {
      return Double.parseDouble(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " is not a number: " + value);
    }
  }

  private Map<String, Object> counts() {
    FaultyTransport.Counts counts = chaos.faultCounts();
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("sent", counts.sent());
    json.put("dropped", counts.dropped());
    json.put("duplicated", counts.duplicated());
    json.put("delayed", counts.delayed());
    return json;
  }

  private interface Action {
    Object run() throws Exception;
  }

  private Route act(Action action) {
    Supplier<HttpResponse> answer = () -> {
      try {
        return json(200, action.run());
      } catch (IllegalArgumentException e) {
        return json(400, Map.of("error", String.valueOf(e.getMessage())));
      } catch (Exception e) {
        return json(500, Map.of("error", String.valueOf(e)));
      }
    };
    return extractRequest(request -> complete(answer.get()));
  }

  private static HttpResponse json(int status, Object body) {
    try {
      return HttpResponse.create().withStatus(StatusCodes.get(status))
          .withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
