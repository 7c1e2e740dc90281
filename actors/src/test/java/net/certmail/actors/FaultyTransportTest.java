package net.certmail.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.Relay;
import net.certmail.proto.v1.RelayAck;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Outgoing;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The chaos transport: faults only when switched on, and then within the network's stated bounds. */
class FaultyTransportTest {
  static final ActorTestKit KIT = ActorTestKit.create();
  static final Outgoing RELAY = new Outgoing(Addressee.server("relay.example", "alpha.example/1"),
      ProtocolMessage.newBuilder().setRelay(Relay.getDefaultInstance()).build());
  static final Outgoing ACK = new Outgoing(Addressee.server("alpha.example", "alpha.example/1"),
      ProtocolMessage.newBuilder().setRelayAck(RelayAck.getDefaultInstance()).build());

  final List<Outgoing> passed = Collections.synchronizedList(new ArrayList<>());
  final FaultyTransport transport = new FaultyTransport((from, outgoing) -> passed.add(outgoing), KIT.system(), 42);

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  @Test
  void passesEveryMessageUntilFaultsAreSwitchedOn() {
    for (int i = 0; i < 100; i++) {
      transport.send("alpha.example", RELAY);
    }
    assertEquals(100, passed.size());
    assertEquals(new FaultyTransport.Counts(100, 0, 0, 0), transport.counts());
  }

  @Test
  void neverDropsOneKindOfMessageBetweenTwoEntitiesTwiceInARow() {
    transport.set(new FaultyTransport.Faults(1.0, 0, 0, Duration.ZERO));
    for (int i = 0; i < 10; i++) {
      transport.send("alpha.example", RELAY);
    }
    // Every drop is followed by a pass of the same message: a resend always arrives.
    assertEquals(5, passed.size());
    assertEquals(5, transport.counts().dropped());
    // Another kind of message, or another pair, has its own allowance.
    transport.send("relay.example", ACK);
    assertEquals(5, passed.size());
    transport.send("relay.example", ACK);
    assertEquals(6, passed.size());
  }

  @Test
  void duplicatesAndDelaysWithinTheGivenBound() throws InterruptedException {
    transport.set(new FaultyTransport.Faults(0, 1.0, 1.0, Duration.ofMillis(200)));
    transport.send("alpha.example", RELAY);
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (passed.size() < 2 && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertEquals(2, passed.size());
    assertEquals(1, transport.counts().duplicated());
    assertEquals(2, transport.counts().delayed());
  }

  @Test
  void refusesRatesOutsideZeroToOne() {
    assertThrows(IllegalArgumentException.class, () -> new FaultyTransport.Faults(1.5, 0, 0, Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> new FaultyTransport.Faults(0, -0.1, 0, Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> new FaultyTransport.Faults(0, 0, 0, Duration.ofMillis(-1)));
    assertTrue(transport.faults().drop() == 0);
  }
}
