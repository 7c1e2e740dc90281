package net.certmail.node.chaos;

import com.typesafe.config.Config;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import net.certmail.actors.CertmailEngine;
import net.certmail.actors.FaultyTransport;
import net.certmail.actors.Transport;
import net.certmail.node.runtime.ShiftedClock;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.remote.RARP;
import org.apache.pekko.remote.transport.ThrottlerTransportAdapter;
import scala.concurrent.Await;

/**
 * The faults a chaos run may inject into one node, held by the node and driven over the chaos
 * route of its management port. Exists only on a node whose configuration turns
 * {@code certmail.chaos.enabled} on ({@link #configure}); nowhere else is any of it reachable.
 *
 * <ul>
 *   <li>clock offset: the engine's and the API's clock, within the stated clock-skew;</li>
 *   <li>envelope faults: a {@link FaultyTransport} in front of the cluster's, delays within
 *       half of max-transit (the other half is the honest transit's);</li>
 *   <li>partitions: Artery's test-mode blackhole towards another node, one-way or both ways;</li>
 *   <li>where entities live: the ids cluster sharding runs on this node.</li>
 * </ul>
 */
public final class ChaosSwitch implements Extension {
  public static final Id ID = new Id();

  /** The setting that turns chaos on for a node (off in certmail-node.conf). */
  public static final String ENABLED = "certmail.chaos.enabled";

  private final ExtendedActorSystem system;
  private final Set<String> blackholed = new TreeSet<>();
  private volatile ShiftedClock clock;
  private volatile FaultyTransport transport;
  private volatile CertmailEngine engine;
  private volatile Duration clockSkew = Duration.ZERO;
  private volatile Duration maxTransit = Duration.ZERO;

  private ChaosSwitch(ExtendedActorSystem system) {
    this.system = system;
  }

  public static boolean enabled(Config config) {
    return config.hasPath(ENABLED) && config.getBoolean(ENABLED);
  }

  /**
   * The settings a chaos node runs with on top of its own: Artery's test transport (for the
   * blackhole) and the chaos route on the management port.
   */
  public static Config configure(Config config) {
    return com.typesafe.config.ConfigFactory.parseString("""
        pekko.remote.artery.advanced.test-mode = on
        pekko.management.http.routes.certmail-chaos = "net.certmail.node.chaos.ChaosRoute"
        """).withFallback(config);
  }

  /** Wires the switch into a starting node: its clock and the bounds it must respect. */
  public Clock clock(Clock base, Duration clockSkew, Duration maxTransit) {
    this.clockSkew = clockSkew;
    this.maxTransit = maxTransit;
    this.clock = new ShiftedClock(base);
    return clock;
  }

  public Transport transport(Transport next, long seed) {
    this.transport = new FaultyTransport(next, org.apache.pekko.actor.typed.javadsl.Adapter.toTyped(system), seed);
    return transport;
  }

  public void engine(CertmailEngine engine) {
    this.engine = engine;
  }

  public void clockOffset(long offsetMillis) {
    if (Math.abs(offsetMillis) > clockSkew.toMillis()) {
      throw new IllegalArgumentException("clock offset " + offsetMillis + " ms exceeds the network's clock-skew of "
          + clockSkew.toMillis() + " ms");
    }
    clock.setOffsetMillis(offsetMillis);
  }

  public long clockOffset() {
    return clock.offsetMillis();
  }

  public void faults(FaultyTransport.Faults faults) {
    if (faults.maxDelay().toMillis() * 2 > maxTransit.toMillis()) {
      throw new IllegalArgumentException("a delay of " + faults.maxDelay().toMillis() + " ms exceeds half of the"
          + " network's max-transit (" + maxTransit.toMillis() + " ms)");
    }
    transport.set(faults);
  }

  public FaultyTransport.Counts faultCounts() {
    return transport.counts();
  }

  /**
   * Cuts Artery traffic with another node: {@code send} drops what this node sends it,
   * {@code receive} what it receives from it, {@code both} both.
   */
  public synchronized void partition(String address, String direction) throws Exception {
    throttle(address, direction(direction), ThrottlerTransportAdapter.blackholeThrottleMode());
    blackholed.add(address);
  }

  /** Lifts every cut this node made. */
  public synchronized Set<String> heal() throws Exception {
    Set<String> healed = new TreeSet<>(blackholed);
    for (String address : healed) {
      throttle(address, ThrottlerTransportAdapter.bothDirection(), ThrottlerTransportAdapter.unthrottledThrottleMode());
    }
    blackholed.clear();
    return healed;
  }

  public CompletionStage<Set<String>> entities() {
    return engine.localEntityIds();
  }

  private void throttle(String address, ThrottlerTransportAdapter.Direction direction,
                        ThrottlerTransportAdapter.ThrottleMode mode) throws Exception {
    Address target = AddressFromURIString.parse(address);
    RARP rarp = (RARP) RARP.get((ActorSystem) system);
    Await.result(rarp.provider().transport().managementCommand(
        new ThrottlerTransportAdapter.SetThrottle(target, direction, mode)),
        scala.concurrent.duration.Duration.create(10, TimeUnit.SECONDS));
  }

  private static ThrottlerTransportAdapter.Direction direction(String name) {
    return switch (name) {
      case "send" -> ThrottlerTransportAdapter.sendDirection();
      case "receive" -> ThrottlerTransportAdapter.receiveDirection();
      case "both" -> ThrottlerTransportAdapter.bothDirection();
      default -> throw new IllegalArgumentException("direction is send, receive or both, not " + name);
    };
  }

  public static final class Id extends AbstractExtensionId<ChaosSwitch> {
    @Override
    public ChaosSwitch createExtension(ExtendedActorSystem system) {
      return new ChaosSwitch(system);
    }
  }
}
