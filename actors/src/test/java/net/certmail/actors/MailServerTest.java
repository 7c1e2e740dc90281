package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.ALPHA;
import static net.certmail.actors.TestNetwork.BETA;
import static net.certmail.actors.TestNetwork.RELAY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import net.certmail.crypto.EnvelopeOpener;
import net.certmail.crypto.EnvelopeSealer;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.crypto.ReplayGuard;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.RelayAck;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.proto.v1.Submission;
import net.certmail.protocol.Labels;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.server.ServerStage;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The MailServer shell on its own, with the in-memory journal, a fixed clock and a transport
 * that records what it sends: it persists what the machine decides, sends after persisting, and
 * wakes itself after recovery to resend what it owes.
 */
class MailServerTest {
  static final TestNetwork NETWORK = new TestNetwork();
  static final ActorTestKit KIT = ActorTestKit.create("mail-server-test",
      EventSourcedBehaviorTestKit.config().withFallback(com.typesafe.config.ConfigFactory.load()));
  static final Instant NOW = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
  static final String ID = "shell-1";
  static final String LABEL = Labels.forSubmission(ALPHA, ALICE, ID);

  final List<Outgoing> sent = new CopyOnWriteArrayList<>();
  EventSourcedBehaviorTestKit<MailServer.Command, ServerEvent, ServerStage> alpha;

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  @BeforeEach
  void start() {
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    EngineSettings settings = EngineSettings.fromConfig(com.typesafe.config.ConfigFactory
        .parseString(TestNetwork.engineConfig()).withFallback(com.typesafe.config.ConfigFactory.defaultReference()));
    ProtocolServices services = new ProtocolServices(clock, settings.timings(), settings.submissionPolicy(),
        TestNetwork.serverRules().routing(), NETWORK.trustStore(),
        new EnvelopeOpener(NETWORK.trustStore(), new ReplayGuard(clock, Duration.ofMinutes(5))),
        (from, outgoing) -> sent.add(outgoing), new EnvelopeMetrics(new io.micrometer.core.instrument.simple
            .SimpleMeterRegistry()), settings.mailboxPolicies(),
        NETWORK.keysOf(List.of(ALPHA)), TestReminders.store(), TestReminders.metrics(), TestReminders.STAY_AWAKE, TestReminders.LINGER,
        TestReminders.inboxIndex());
    TestProbe<org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand> shard =
        KIT.createTestProbe();
    EntityContext<MailServer.Command> context = new EntityContext<>(MailServer.typeKey(ALPHA),
        EntityKind.entityId(ALPHA, LABEL), shard.ref());
    alpha = EventSourcedBehaviorTestKit.create(KIT.system(), MailServer.create(context, services),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyCommands(false).withVerifyState(false));
    alpha.clear(); // every test starts from an empty journal for the label
    sent.clear();
  }

  Inbound envelope(String from, ProtocolMessage message) {
    return new Inbound(new EnvelopeSealer(NETWORK.keys.get(from), Clock.fixed(NOW, ZoneOffset.UTC))
        .seal(ALPHA, message).toByteArray());
  }

  Inbound submission() {
    return envelope(ALICE, ProtocolMessage.newBuilder().setSubmission(Submission.newBuilder().setSubmissionId(ID)
        .setSender(ALICE).setRecipient(TestNetwork.BOB).setContent(ByteString.copyFromUtf8("hello"))
        .setDeadlineMillis(NOW.plus(Duration.ofMinutes(10)).toEpochMilli()).setFlavour(Flavour.CEM)).build());
  }

  /**
   * Runs the command and waits until the entity has carried it out (it may store its reminder
   * first and handle the command again: CoreShell); the events it persisted.
   */
  List<ServerEvent> run(MailServer.Command command) {
    String id = EntityKind.entityId(ALPHA, LABEL);
    int before = alpha.persistenceTestKit().persistedInStorage(id).size();
    alpha.runCommand(command);
    alpha.runCommand(MailServer.GetPublicEvidence::new); // answered once what was queued before it is done
    List<Object> all = alpha.persistenceTestKit().persistedInStorage(id);
    return Journaled.events(all.subList(before, all.size()), ServerEvent.class);
  }

  long sentRelays() {
    return sent.stream().filter(o -> o.message().hasRelay()).count();
  }

  @Test
  void submissionIsPersistedBeforeTheCopAndTheRelayAreSent() {
    List<ServerEvent> events = run(submission());
    assertTrue(events.get(0).hasSubmissionAccepted());
    assertInstanceOf(ServerStage.Forwarding.class, alpha.getState());
    assertTrue(sent.stream().anyMatch(o -> o.message().hasCopReply() && o.to().principal().equals(ALICE)));
    assertEquals(1, sentRelays(), "the relay goes out once the COP is stored");
  }

  @Test
  void recoveryWakesTheEntityToResendWhatItOwes() {
    run(submission());
    sent.clear();
    alpha.restart();
    assertInstanceOf(ServerStage.Forwarding.class, alpha.getState(), "the stage is rebuilt from the journal");
    org.apache.pekko.actor.testkit.typed.javadsl.TestProbe<Object> wait = KIT.createTestProbe();
    wait.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(1, sentRelays(), "the relay is resent after recovery without any tick");
      return null;
    });
  }

  @Test
  void duplicateAckIsNotPersistedTwice() {
    run(submission());
    String relayHop = RELAY;
    ProtocolMessage ack = ProtocolMessage.newBuilder().setRelayAck(RelayAck.newBuilder().setLabel(LABEL)
        .setAck(new EvidenceSigner(NETWORK.keys.get(relayHop)).sign(EvidenceStatements.relayAck(relayHop, ALPHA, LABEL,
            ALICE, TestNetwork.BOB, NOW.toEpochMilli())))).build();
    List<ServerEvent> first = run(envelope(relayHop, ack));
    assertTrue(first.get(0).hasForwardAcknowledged());
    assertInstanceOf(ServerStage.AwaitingVerdict.class, alpha.getState());
    assertTrue(run(envelope(relayHop, ack)).isEmpty(), "the same ACK again changes nothing");
  }

  @Test
  void ackFromAServerThatIsNotTheNextHopChangesNothing() {
    run(submission());
    ProtocolMessage ack = ProtocolMessage.newBuilder().setRelayAck(RelayAck.newBuilder().setLabel(LABEL)
        .setAck(new EvidenceSigner(NETWORK.keys.get(BETA)).sign(EvidenceStatements.relayAck(BETA, ALPHA, LABEL,
            ALICE, TestNetwork.BOB, NOW.toEpochMilli())))).build();
    assertTrue(run(envelope(BETA, ack)).isEmpty());
    assertInstanceOf(ServerStage.Forwarding.class, alpha.getState());
  }
}
