package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.ALPHA;
import static net.certmail.actors.TestNetwork.BETA;
import static net.certmail.actors.TestNetwork.BOB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
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
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.StatusAnswer;
import net.certmail.protocol.Labels;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.SubmissionId;
import net.certmail.protocol.sender.SenderStage;
import net.certmail.protocol.sender.SenderStage.Concluded;
import net.certmail.protocol.sender.SenderStage.InDelivery;
import net.certmail.protocol.sender.SenderStage.Outcome;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The outbox entry as a shell, on Pekko's EventSourcedBehaviorTestKit with a clock the test sets
 * and a transport that records what it sends: what it persists, what it sends and when, how it
 * recovers and when it passivates. The rules themselves are tested without actors in
 * SenderMachineTest.
 */
@ExtendWith(LogCapturingExtension.class)
class OutboxEntryTest {
  static final Duration WAIT = Duration.ofSeconds(5);

  static final TestNetwork NETWORK = new TestNetwork();
  static final ActorTestKit KIT = ActorTestKit.create("outbox-entry-test",
      EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
  /** Everything any entry of this class sent, with its addressee: alpha.example's entities, here. */
  static final BlockingQueue<Outgoing> SENT = new LinkedBlockingQueue<>();
  static final SettableClock CLOCK = new SettableClock(Instant.now().toEpochMilli());
  static final ProtocolServices SERVICES = services();

  final String id = UUID.randomUUID().toString();
  final String label = Labels.forSubmission(ALPHA, ALICE, id);
  final byte[] content = ProtocolTest.mail("shell").toByteArray();
  TestProbe<ClusterSharding.ShardCommand> shard;
  EventSourcedBehaviorTestKit<OutboxEntry.Command, OutboxEvent, SenderStage> entry;
  long t0;
  long deadline;

  static ProtocolServices services() {
    EngineSettings settings = EngineSettings.fromConfig(ConfigFactory.parseString(TestNetwork.engineConfig())
        .withFallback(ConfigFactory.defaultReference()));
    return new ProtocolServices(CLOCK, settings.timings(), settings.submissionPolicy(),
        TestNetwork.serverRules().routing(), NETWORK.trustStore(),
        new EnvelopeOpener(NETWORK.trustStore(), new ReplayGuard(CLOCK, settings.freshnessWindow())),
        (from, outgoing) -> {
          assertEquals(ALICE, from, "an outbox entry speaks for its mailbox");
          SENT.add(outgoing);
        },
        new EnvelopeMetrics(new SimpleMeterRegistry()), settings.mailboxPolicies(),
        NETWORK.keysOf(List.of(ALPHA)), TestReminders.store(), TestReminders.metrics(), TestReminders.STAY_AWAKE, TestReminders.LINGER,
        TestReminders.inboxIndex());
  }

  @AfterAll
  static void stopSystem() {
    KIT.shutdownTestKit();
  }

  @BeforeEach
  void newEntry() {
    CLOCK.set(CLOCK.millis() + 3_600_000); // each test an hour after the last: its entries conclude when woken
    t0 = CLOCK.millis();
    deadline = t0 + Duration.ofMinutes(10).toMillis();
    shard = KIT.createTestProbe();
    EntityContext<OutboxEntry.Command> context = new EntityContext<>(OutboxEntry.typeKey(ALICE),
        EntityKind.entityId(ALICE, id), shard.ref());
    entry = EventSourcedBehaviorTestKit.create(KIT.system(), OutboxEntry.create(context, SERVICES),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false));
  }

  @Test
  void submissionIsPersistedSentAndAnsweredSubmitted() {
    var result = entry.<MailStatus>runCommand(replyTo -> submit(replyTo));
    assertEquals(OutboxEvent.EventCase.MAIL_SUBMITTED, Journaled.event(result, OutboxEvent.class).getEventCase());
    assertEquals(DeliveryStatus.SUBMITTED, result.reply().status());
    assertNull(result.reply().problem());
    assertEquals(id, expectSent(ProtocolMessage.MessageCase.SUBMISSION).getSubmission().getSubmissionId());
  }

  @Test
  void recoveryReArmsTheTimer() {
    certify();
    assertInstanceOf(InDelivery.class, entry.getState());

    // The node was down over T: the recovered entry asks the origin at once and keeps its timer.
    CLOCK.set(deadline + 50);
    assertInstanceOf(InDelivery.class, entry.restart().state());
    assertEquals(label, expectSent(ProtocolMessage.MessageCase.STATUS_QUERY).getStatusQuery().getLabel());

    // It goes on asking every retry-max (awake: the next ask is within stay-awake). T plus grace
    // comes: its timer or, had it slept, its reminder wakes it, and it declares the mail lost.
    CLOCK.set(deadline + Duration.ofMinutes(2).toMillis());
    entry.runCommand(new OutboxEntry.ReminderDue(CLOCK.millis()));
    shard.expectMessageClass(ClusterSharding.Passivate.class, WAIT);
    Concluded lost = assertInstanceOf(Concluded.class, entry.getState());
    assertEquals(Outcome.LOST, lost.status());
  }

  @Test
  void duplicateVerdictIsAnsweredWithAReceiptAndNotPersistedTwice() {
    certify();
    ProtocolMessage report = deliveryReport();
    List<OutboxEvent> first = run(fromAlpha(report));
    assertEquals(1, first.size(), "one event: " + first);
    assertEquals(OutboxEvent.EventCase.DELIVERY_CONFIRMED, first.get(0).getEventCase());
    assertEquals("delivery_report", expectSent(ProtocolMessage.MessageCase.RECEIPT).getReceipt().getAcknowledged());
    shard.expectMessageClass(ClusterSharding.Passivate.class, WAIT);

    List<OutboxEvent> again = run(fromAlpha(report)); // P1 did not get the receipt and resends
    assertTrue(again.isEmpty(), "no event: " + again);
    assertEquals("delivery_report", expectSent(ProtocolMessage.MessageCase.RECEIPT).getReceipt().getAcknowledged());
    Concluded delivered = assertInstanceOf(Concluded.class, entry.getState());
    assertEquals(Outcome.DELIVERED, delivered.status());
    assertTrue(delivered.late().isEmpty());

    MailStatus status = entry.<MailStatus>runCommand(OutboxEntry.GetStatus::new).reply();
    assertEquals(DeliveryStatus.DELIVERED, status.status());
    assertEquals(4, status.evidence().size());
  }

  @Test
  void statusAskedAfterADeadlineIsTheStatusAtThatInstant() {
    certify();
    CLOCK.set(deadline + Duration.ofMinutes(2).toMillis()); // past T plus grace; the timer has not fired yet
    var result = entry.<MailStatus>runCommand(OutboxEntry.GetStatus::new);
    assertEquals(OutboxEvent.EventCase.MAIL_DECLARED_LOST, Journaled.event(result, OutboxEvent.class).getEventCase());
    assertEquals(DeliveryStatus.LOST, result.reply().status());
  }

  @Test
  void originsNoteThatTheRecipientWasNotifiedIsRecordedAndTheEntrySleepsWithIt() {
    certify();
    shard.expectMessageClass(ClusterSharding.Passivate.class, WAIT); // T is far: the certified entry sleeps
    ProtocolMessage note = ProtocolMessage.newBuilder().setStatusAnswer(StatusAnswer.newBuilder()
        .setLabel(label).setStatus(DeliveryStatus.AWAITING_COLLECTION)).build();
    var noted = entry.runCommand(fromAlpha(note));
    assertEquals(OutboxEvent.EventCase.RECIPIENT_NOTIFIED, Journaled.event(noted, OutboxEvent.class).getEventCase());
    shard.expectMessageClass(ClusterSharding.Passivate.class, WAIT); // and sleeps again: nothing is held in memory only
    entry.restart();
    assertEquals(DeliveryStatus.AWAITING_COLLECTION, entry.<MailStatus>runCommand(OutboxEntry.GetStatus::new).reply().status());
    assertTrue(entry.runCommand(fromAlpha(note)).hasNoEvents(), "a repeated note is recorded once");
  }

  /** A long poll is held until the status changes, or its wait is over, or the entry stops; never lost. */
  @Test
  void aStatusWaitIsAnsweredWhenTheStatusChangesItsWaitEndsOrTheEntryStops() {
    entry.<MailStatus>runCommand(replyTo -> submit(replyTo));
    TestProbe<MailStatus> client = KIT.createTestProbe();
    entry.runCommand(new OutboxEntry.AwaitChange(DeliveryStatus.IN_DELIVERY, 60_000, client.ref()));
    assertEquals(DeliveryStatus.SUBMITTED, client.receiveMessage(WAIT).status(), "not the status waited on: at once");

    entry.runCommand(new OutboxEntry.AwaitChange(DeliveryStatus.SUBMITTED, 60_000, client.ref()));
    client.expectNoMessage(Duration.ofMillis(200));
    certify();
    MailStatus certified = client.receiveMessage(WAIT);
    assertEquals(DeliveryStatus.IN_DELIVERY, certified.status(), "answered by the COP");
    assertEquals(1, certified.evidence().size());

    entry.runCommand(new OutboxEntry.AwaitChange(DeliveryStatus.IN_DELIVERY, 300, client.ref()));
    assertEquals(DeliveryStatus.IN_DELIVERY, client.receiveMessage(WAIT).status(), "its wait over: as it is");

  }

  @Test
  void aStatusWaitIsAnsweredWhenTheEntryStops() {
    // Spawned as it is (the behaviour test kit cannot run a command that stops its actor).
    EntityContext<OutboxEntry.Command> context = new EntityContext<>(OutboxEntry.typeKey(ALICE),
        EntityKind.entityId(ALICE, UUID.randomUUID().toString()), shard.ref());
    ActorRef<OutboxEntry.Command> spawned = KIT.spawn(OutboxEntry.create(context, SERVICES));
    TestProbe<MailStatus> owner = KIT.createTestProbe();
    spawned.tell(submit(owner.ref()));
    assertEquals(DeliveryStatus.SUBMITTED, owner.receiveMessage(WAIT).status());
    TestProbe<MailStatus> client = KIT.createTestProbe();
    spawned.tell(new OutboxEntry.AwaitChange(DeliveryStatus.SUBMITTED, 60_000, client.ref()));
    client.expectNoMessage(Duration.ofMillis(100));
    spawned.tell(OutboxEntry.Stop.INSTANCE);
    assertEquals(DeliveryStatus.SUBMITTED, client.receiveMessage(WAIT).status(), "the entry stops: answered, not dropped");
    owner.expectTerminated(spawned, WAIT);
  }

  @Test
  void queryForASubmissionNeverMadeIsAnsweredUnknownAndLeavesNoEntity() {
    var result = entry.<MailStatus>runCommand(OutboxEntry.GetStatus::new);
    assertTrue(result.hasNoEvents());
    assertEquals(DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED, result.reply().status());
    shard.expectMessageClass(ClusterSharding.Passivate.class, WAIT);
  }

  @Test
  void submissionIdShapedLikeALabelIsRefused() {
    EntityContext<OutboxEntry.Command> context = new EntityContext<>(OutboxEntry.typeKey(ALICE),
        EntityKind.entityId(ALICE, ALPHA + "/" + "0".repeat(32)), shard.ref());
    var labelLike = EventSourcedBehaviorTestKit.<OutboxEntry.Command, OutboxEvent, SenderStage>create(
        KIT.system(), OutboxEntry.create(context, SERVICES),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false));
    var result = labelLike.<MailStatus>runCommand(replyTo -> submit(replyTo));
    assertTrue(result.hasNoEvents());
    assertEquals(DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED, result.reply().status());
    assertEquals(SubmissionId.check(ALPHA + "/" + "0".repeat(32)).orElseThrow(), result.reply().problem());
  }

  // ---- fixtures ----

  private OutboxEntry.Submit submit(ActorRef<MailStatus> replyTo) {
    return new OutboxEntry.Submit(BOB, content, deadline, Flavour.CEM, null, replyTo);
  }

  /** Submitted and certified by alpha.example. */
  /**
   * The events a command persisted. The shell may store a reminder row before it persists (and
   * hold later commands meanwhile), so the events are read from the journal once a status query
   * sent after the command is answered, not from the command's own result.
   */
  private List<OutboxEvent> run(OutboxEntry.Command command) {
    String persistenceId = EntityKind.entityId(ALICE, id);
    int before = entry.persistenceTestKit().persistedInStorage(persistenceId).size();
    entry.runCommand(command);
    entry.<MailStatus>runCommand(OutboxEntry.GetStatus::new);
    List<Object> all = entry.persistenceTestKit().persistedInStorage(persistenceId);
    return Journaled.events(all.subList(before, all.size()), OutboxEvent.class);
  }

  private void certify() {
    entry.<MailStatus>runCommand(replyTo -> submit(replyTo));
    SignedEvidence cop = sign(ALPHA, EvidenceStatements.cop(ALPHA, label, ALICE, BOB, ContentHash.of(content), deadline,
        Flavour.CEM, id, List.of(ALPHA, TestNetwork.RELAY, BETA), t0));
    List<OutboxEvent> events = run(fromAlpha(ProtocolMessage.newBuilder().setCopReply(CopReply.newBuilder()
        .setSubmissionId(id).setLabel(label).setCop(cop)).build()));
    assertEquals(List.of(OutboxEvent.EventCase.POSTING_CERTIFIED), events.stream().map(OutboxEvent::getEventCase).toList());
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
    return new Inbound(new EnvelopeSealer(NETWORK.keys.get(ALPHA), CLOCK).seal(ALICE, message).toByteArray());
  }

  private static SignedEvidence sign(String principal, EvidenceStatement statement) {
    return new EvidenceSigner(NETWORK.keys.get(principal)).sign(statement);
  }

  /**
   * The next message of this kind about this test's mail that an entry sent to alpha.example,
   * skipping others (resent submissions, other tests' entries).
   */
  private ProtocolMessage expectSent(ProtocolMessage.MessageCase kind) {
    long until = System.nanoTime() + WAIT.toNanos();
    try {
      for (Outgoing sent = SENT.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS); sent != null && System.nanoTime() < until;
          sent = SENT.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        if (sent.message().getMessageCase() == kind && aboutThisMail(sent.message())) {
          assertEquals(ALPHA, sent.to().principal());
          return sent.message();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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
