package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.ALPHA;
import static net.certmail.actors.TestNetwork.BETA;
import static net.certmail.actors.TestNetwork.BOB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EnvelopeOpener;
import net.certmail.crypto.EnvelopeSealer;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.crypto.ReplayGuard;
import net.certmail.proto.v1.CopReply;
import net.certmail.proto.v1.DeliveryReport;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.SignedEnvelope;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.StatusAnswer;
import net.certmail.protocol.Labels;
import net.certmail.protocol.Routing;
import net.certmail.protocol.sender.SenderStage;
import net.certmail.protocol.sender.SenderStage.AwaitingCop;
import net.certmail.protocol.sender.SenderStage.Concluded;
import net.certmail.protocol.sender.SenderStage.InDelivery;
import net.certmail.protocol.sender.SenderStage.Outcome;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The outbox entry as a shell, on Pekko's EventSourcedBehaviorTestKit with a clock the test sets:
 * what it persists, what it sends (to alpha.example's server entities, played by a probe behind
 * real sharding), how it recovers and when it passivates. The rules themselves are tested
 * without actors in SenderMachineTest.
 */
@ExtendWith(LogCapturingExtension.class)
class OutboxEntryTest {
  static final Duration WAIT = Duration.ofSeconds(5);

  static TestNetwork network;
  static ActorTestKit testKit;
  static TestProbe<MailServer.Command> alpha;
  static SettableClock clock;
  static ProtocolServices services;

  final String id = UUID.randomUUID().toString();
  final String label = Labels.forSubmission(ALPHA, ALICE, id);
  final byte[] content = ProtocolTest.mail("shell").toByteArray();
  TestProbe<ClusterSharding.ShardCommand> shard;
  EventSourcedBehaviorTestKit<OutboxEntry.Command, OutboxEvent, SenderStage> entry;
  long t0;
  long deadline;

  @BeforeAll
  static void startSystem() {
    network = new TestNetwork();
    Config config = ConfigFactory.parseString("""
            pekko.actor.provider = cluster
            pekko.remote.artery.canonical.hostname = "127.0.0.1"
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
            pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
            """)
        .withFallback(ConfigFactory.parseString(TestNetwork.engineConfig()))
        .withFallback(EventSourcedBehaviorTestKit.config())
        .withFallback(ConfigFactory.load())
        .resolve();
    testKit = ActorTestKit.create("outbox-entry", config);
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    EngineNode.awaitCondition(() -> cluster.selfMember().status() == org.apache.pekko.cluster.MemberStatus.up(),
        Duration.ofSeconds(30), "the test system joined itself");

    // alpha.example's server entities: every envelope for them lands in one probe.
    alpha = testKit.createTestProbe();
    ClusterSharding.get(testKit.system()).init(Entity.of(MailServer.typeKey(ALPHA),
        context -> Behaviors.<MailServer.Command>receiveMessage(message -> {
          alpha.ref().tell(message);
          return Behaviors.same();
        })));

    clock = new SettableClock(Instant.now().toEpochMilli());
    EngineSettings settings = EngineSettings.fromConfig(config);
    Map<String, net.certmail.crypto.PrincipalKeys> hosted = network.keysOf(List.of(ALPHA));
    services = new ProtocolServices(clock, settings.timings(), settings.submissionPolicy(),
        new Routing(java.util.Set.of(ALPHA, TestNetwork.RELAY, BETA), settings.routes()), network.trustStore(),
        new EnvelopeOpener(network.trustStore(), new ReplayGuard(clock, settings.freshnessWindow())),
        new Postman(ClusterSharding.get(testKit.system()), hosted, clock),
        new EnvelopeMetrics(new SimpleMeterRegistry()), settings.mailboxPolicies(), settings.maxFetchAttempts(),
        hosted);
  }

  @AfterAll
  static void stopSystem() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newEntry() {
    clock.set(clock.millis() + 3_600_000); // each test an hour after the last: no timer of theirs is due
    t0 = clock.millis();
    deadline = t0 + Duration.ofMinutes(10).toMillis();
    shard = testKit.createTestProbe();
    EntityContext<OutboxEntry.Command> context = new EntityContext<>(OutboxEntry.typeKey(ALICE),
        EntityKind.entityId(ALICE, id), shard.ref());
    entry = EventSourcedBehaviorTestKit.create(testKit.system(), OutboxEntry.create(context, services),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false));
  }

  @Test
  void submissionIsPersistedSentAndAnsweredSubmitted() {
    var result = entry.<MailStatus>runCommand(replyTo -> submit(replyTo));
    assertEquals(OutboxEvent.EventCase.MAIL_SUBMITTED, result.event().getEventCase());
    assertEquals("SUBMITTED", result.reply().status());
    assertNull(result.reply().problem());
    assertEquals(id, expectSent(ProtocolMessage.MessageCase.SUBMISSION).getSubmission().getSubmissionId());
  }

  @Test
  void recoveryReArmsTheTimer() {
    certify();
    assertInstanceOf(InDelivery.class, entry.getState());

    // The node was down over T: the recovered entry asks the origin at once and keeps its timer.
    clock.set(deadline + 50);
    assertInstanceOf(InDelivery.class, entry.restart().state());
    assertEquals(label, expectSent(ProtocolMessage.MessageCase.STATUS_QUERY).getStatusQuery().getLabel());

    // With no command at all, the re-armed timer declares the mail lost once T plus grace has passed.
    clock.set(deadline + Duration.ofMinutes(2).toMillis());
    shard.expectMessageClass(ClusterSharding.Passivate.class, WAIT);
    Concluded lost = assertInstanceOf(Concluded.class, entry.getState());
    assertEquals(Outcome.LOST, lost.status());
  }

  @Test
  void duplicateVerdictIsAnsweredWithAReceiptAndNotPersistedTwice() {
    certify();
    ProtocolMessage report = deliveryReport();
    var first = entry.runCommand(fromAlpha(report));
    assertEquals(OutboxEvent.EventCase.DELIVERY_CONFIRMED, first.event().getEventCase());
    assertEquals("delivery_report", expectSent(ProtocolMessage.MessageCase.RECEIPT).getReceipt().getAcknowledged());
    shard.expectMessageClass(ClusterSharding.Passivate.class, WAIT);

    var again = entry.runCommand(fromAlpha(report)); // P1 did not get the receipt and resends
    assertTrue(again.hasNoEvents());
    assertEquals("delivery_report", expectSent(ProtocolMessage.MessageCase.RECEIPT).getReceipt().getAcknowledged());
    Concluded delivered = assertInstanceOf(Concluded.class, again.state());
    assertEquals(Outcome.DELIVERED, delivered.status());
    assertTrue(delivered.late().isEmpty());

    MailStatus status = entry.<MailStatus>runCommand(OutboxEntry.GetStatus::new).reply();
    assertEquals("DELIVERED", status.status());
    assertEquals(4, status.evidence().size());
  }

  @Test
  void statusAskedAfterADeadlineIsTheStatusAtThatInstant() {
    certify();
    clock.set(deadline + Duration.ofMinutes(2).toMillis()); // past T plus grace; the timer has not fired yet
    var result = entry.<MailStatus>runCommand(OutboxEntry.GetStatus::new);
    assertEquals(OutboxEvent.EventCase.MAIL_DECLARED_LOST, result.event().getEventCase());
    assertEquals("LOST", result.reply().status());
  }

  @Test
  void originsNoteThatTheRecipientWasNotifiedShowsAsAwaitingCollection() {
    certify();
    entry.runCommand(fromAlpha(ProtocolMessage.newBuilder().setStatusAnswer(StatusAnswer.newBuilder()
        .setLabel(label).setStatus(DeliveryStatus.AWAITING_COLLECTION)).build()));
    assertEquals("AWAITING_COLLECTION", entry.<MailStatus>runCommand(OutboxEntry.GetStatus::new).reply().status());
  }

  @Test
  void queryForASubmissionNeverMadeIsAnsweredUnknownAndLeavesNoEntity() {
    var result = entry.<MailStatus>runCommand(OutboxEntry.GetStatus::new);
    assertTrue(result.hasNoEvents());
    assertEquals(MailStatus.UNKNOWN, result.reply().status());
    shard.expectMessageClass(ClusterSharding.Passivate.class, WAIT);
  }

  @Test
  void submissionIdShapedLikeALabelIsRefused() {
    EntityContext<OutboxEntry.Command> context = new EntityContext<>(OutboxEntry.typeKey(ALICE),
        EntityKind.entityId(ALICE, ALPHA + "/" + "0".repeat(32)), shard.ref());
    var labelLike = EventSourcedBehaviorTestKit.<OutboxEntry.Command, OutboxEvent, SenderStage>create(
        testKit.system(), OutboxEntry.create(context, services),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false));
    var result = labelLike.<MailStatus>runCommand(replyTo -> submit(replyTo));
    assertTrue(result.hasNoEvents());
    assertEquals(MailStatus.UNKNOWN, result.reply().status());
    assertTrue(result.reply().problem().contains("must not"), result.reply().problem());
  }

  // ---- fixtures ----

  private OutboxEntry.Submit submit(org.apache.pekko.actor.typed.ActorRef<MailStatus> replyTo) {
    return new OutboxEntry.Submit(BOB, content, deadline, Flavour.CEM, null, replyTo);
  }

  /** Submitted and certified by alpha.example. */
  private void certify() {
    entry.<MailStatus>runCommand(replyTo -> submit(replyTo));
    SignedEvidence cop = sign(ALPHA, EvidenceStatements.cop(ALPHA, label, ALICE, BOB, ContentHash.of(content), deadline,
        Flavour.CEM, id, List.of(ALPHA, TestNetwork.RELAY, BETA), t0));
    var result = entry.runCommand(fromAlpha(ProtocolMessage.newBuilder().setCopReply(CopReply.newBuilder()
        .setSubmissionId(id).setLabel(label).setCop(cop)).build()));
    assertEquals(OutboxEvent.EventCase.POSTING_CERTIFIED, result.event().getEventCase());
  }

  private ProtocolMessage deliveryReport() {
    SignedEvidence cod = sign(BOB, EvidenceStatements.cod(BOB, BETA, label, ALICE, Flavour.CEM, ContentHash.of(content),
        t0 + 1_000));
    byte[] codBytes = cod.getStatement().toByteArray();
    return ProtocolMessage.newBuilder().setDeliveryReport(DeliveryReport.newBuilder().setLabel(label)
        .setRodN(sign(BETA, EvidenceStatements.rodN(BETA, label, ALICE, BOB, codBytes, t0 + 1_100)))
        .setCod(cod)
        .setRod(sign(ALPHA, EvidenceStatements.rod(ALPHA, BETA, label, ALICE, BOB, codBytes, t0 + 1_200)))).build();
  }

  /** A fresh envelope from alpha.example to alice (a resend is a new envelope, not a replay). */
  private static Inbound fromAlpha(ProtocolMessage message) {
    return new Inbound(new EnvelopeSealer(network.keys.get(ALPHA), clock).seal(ALICE, message).toByteArray());
  }

  private static SignedEvidence sign(String principal, net.certmail.proto.v1.EvidenceStatement statement) {
    return new EvidenceSigner(network.keys.get(principal)).sign(statement);
  }

  /**
   * The next message of this kind about this test's mail that an entry sent to alpha.example,
   * skipping others (resent submissions, other tests' entries).
   */
  private ProtocolMessage expectSent(ProtocolMessage.MessageCase kind) {
    long until = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < until) {
      Inbound inbound = (Inbound) alpha.expectMessageClass(Inbound.class, WAIT);
      try {
        SignedEnvelope envelope = SignedEnvelope.parseFrom(inbound.envelope());
        ProtocolMessage message = ProtocolMessage.parseFrom(envelope.getPayload());
        if (message.getMessageCase() == kind && aboutThisMail(message)) {
          assertEquals(ALICE, envelope.getFrom());
          return message;
        }
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("no " + kind + " sent to " + ALPHA);
  }

  private boolean aboutThisMail(ProtocolMessage message) {
    return switch (message.getMessageCase()) {
      case SUBMISSION -> message.getSubmission().getSubmissionId().equals(id);
      case STATUS_QUERY -> message.getStatusQuery().getLabel().equals(label);
      case RECEIPT -> message.getReceipt().getLabel().equals(label);
      default -> false;
    };
  }

  /** A clock that stands still until the test moves it. */
  static final class SettableClock extends Clock {
    private final AtomicLong millis;

    SettableClock(long millis) {
      this.millis = new AtomicLong(millis);
    }

    void set(long value) {
      millis.set(value);
    }

    @Override
    public long millis() {
      return millis.get();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }
}
