package net.certmail.actors;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import net.certmail.protocol.Outgoing;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Chaos runs only: a transport in front of the {@link Postman} that drops, duplicates, delays and
 * so reorders messages between principals, within the network's stated bounds, so that honest
 * faults never become violations:
 * <ul>
 *   <li>a message is never dropped twice in a row for one kind of message between two entities
 *       (a message lost once is resent and arrives: the time model's handshake);</li>
 *   <li>a delay never exceeds {@link Faults#maxDelay}, which the node sets below max-transit;</li>
 *   <li>a duplicate is a second send of the same decision (sealed afresh, as a resend would be).</li>
 * </ul>
 * Installed only when a node's configuration turns {@code certmail.chaos.enabled} on; it does
 * nothing until {@link #set} gives it non-zero rates. Draws come from one seeded generator.
 */
public final class FaultyTransport implements Transport {
  /** Rates in [0, 1] per message; delays uniform in [0, maxDelay]. */
  public record Faults(double drop, double duplicate, double delay, Duration maxDelay) {
    public static final Faults NONE = new Faults(0, 0, 0, Duration.ZERO);

    public Faults {
      for (double rate : new double[] {drop, duplicate, delay}) {
        if (rate < 0 || rate > 1 || Double.isNaN(rate)) {
          throw new IllegalArgumentException("fault rates lie between 0 and 1, got " + rate);
        }
      }
      if (maxDelay.isNegative()) {
        throw new IllegalArgumentException("maxDelay must not be negative");
      }
    }

    boolean none() {
      return drop == 0 && duplicate == 0 && delay == 0;
    }
  }

  /** What the transport did so far: messages passed on, dropped, duplicated and delayed. */
  public record Counts(long sent, long dropped, long duplicated, long delayed) {}

  /** Keys remembered for the drop bound; older ones are forgotten (a forgotten key only allows one drop more). */
  private static final int REMEMBERED_DROPS = 100_000;

  private final Transport next;
  private final ActorSystem<?> system;
  private final Random random;
  private final Map<String, Boolean> droppedLast = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > REMEMBERED_DROPS;
    }
  };
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong duplicated = new AtomicLong();
  private final AtomicLong delayed = new AtomicLong();
  private volatile Faults faults = Faults.NONE;

  public FaultyTransport(Transport next, ActorSystem<?> system, long seed) {
    this.next = next;
    this.system = system;
    this.random = new Random(seed);
  }

  public void set(Faults faults) {
    this.faults = faults;
  }

  public Faults faults() {
    return faults;
  }

  public Counts counts() {
    return new Counts(sent.get(), dropped.get(), duplicated.get(), delayed.get());
  }

  @Override
  public void send(String from, Outgoing outgoing) {
    Faults now = faults;
    if (now.none()) {
      pass(from, outgoing);
      return;
    }
    String kind = from + ">" + outgoing.to() + ":" + outgoing.message().getMessageCase();
    int copies;
    long[] delays;
    synchronized (this) {
      boolean droppedBefore = droppedLast.containsKey(kind);
      if (!droppedBefore && random.nextDouble() < now.drop()) {
        droppedLast.put(kind, Boolean.TRUE);
        dropped.incrementAndGet();
        return;
      }
      droppedLast.remove(kind);
      copies = random.nextDouble() < now.duplicate() ? 2 : 1;
      delays = new long[copies];
      for (int i = 0; i < copies; i++) {
        delays[i] = random.nextDouble() < now.delay() ? (long) (random.nextDouble() * now.maxDelay().toMillis()) : 0;
      }
    }
    if (copies == 2) {
      duplicated.incrementAndGet();
    }
    for (long delay : delays) {
      if (delay == 0) {
        pass(from, outgoing);
      } else {
        // Later messages to the same entity overtake this one: delay is also reordering.
        delayed.incrementAndGet();
        system.scheduler().scheduleOnce(Duration.ofMillis(delay), () -> pass(from, outgoing), system.executionContext());
      }
    }
  }

  private void pass(String from, Outgoing outgoing) {
    sent.incrementAndGet();
    next.send(from, outgoing);
  }
}
