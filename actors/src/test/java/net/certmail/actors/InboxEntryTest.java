package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.ALPHA;
import static net.certmail.actors.TestNetwork.BETA;
import static net.certmail.actors.TestNetwork.BOB;
import static net.certmail.actors.TestNetwork.CAROL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EnvelopeOpener;
import net.certmail.crypto.EnvelopeSealer;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.crypto.PrincipalNames;
import net.certmail.crypto.ReplayGuard;
import net.certmail.crypto.TrustStore;
import net.certmail.proto.v1.Content;
import net.certmail.proto.v1.Delivery;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.Notification;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ProtocolMessage.MessageCase;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Labels;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.Routing;
import net.certmail.protocol.recipient.RecipientStage;
import net.certmail.protocol.recipient.RecipientView;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The inbox entry as a shell: what it persists, sends, answers and when it wakes or passivates,
 * with a clock that stands still. What it sends goes to a probe per mail (the transport seam);
 * envelopes, signatures and the journal's serialization are the real thing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
class InboxEntryTest {
  static final TestNetwork NETWORK = new TestNetwork();
  static final ManualClock CLOCK = new ManualClock(Instant.now());

  /**
   * The test network's engine, but a first resend only after 5 s: while the clock stands still,
   * every fetch a test sees within a second comes from what the entity just did, not from a timer
   * armed earlier.
   */
  static final Config CONFIG = ConfigFactory.parseString("""
          pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
          pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
          certmail.engine.retry-min = 5s
          certmail.engine.retry-max = 10s
          """)
      .withFallback(ConfigFactory.parseString(TestNetwork.engineConfig()))
      .withFallback(EventSourcedBehaviorTestKit.config())
      .withFallback(ConfigFactory.load())
      .resolve();
  static final EngineSettings SETTINGS = EngineSettings.fromConfig(CONFIG);

  @JUnit5TestKit
  final ActorTestKit testKit = new JUnit5TestKitBuilder().withName("inbox-entry-test").withCustomConfig(CONFIG).build();

  /** What the entries send, to the probe of the test of that mail. */
  final Map<String, ActorRef<Outgoing>> sentAbout = new ConcurrentHashMap<>();
  ProtocolServices services;

  /** What this test's entry sends. */
  TestProbe<Outgoing> toBeta;
  TestProbe<ClusterSharding.ShardCommand> shard;
  String label;
  long deadline;
  long codDeadline;
  final EnvelopeSealer beta = new EnvelopeSealer(NETWORK.keys.get(BETA), CLOCK);

  @BeforeAll
  void services() {
    TrustStore trustStore = NETWORK.trustStore();
    Set<String> servers = new HashSet<>();
    trustStore.certificates().stream().map(PrincipalNames::principalOf).filter(p -> !Routing.isMailbox(p))
        .forEach(servers::add);
    var hosted = NETWORK.keysOf(List.of(BETA));
    services = new ProtocolServices(CLOCK, SETTINGS.timings(), SETTINGS.submissionPolicy(),
        new Routing(servers, SETTINGS.routes()), trustStore,
        new EnvelopeOpener(trustStore, new ReplayGuard(CLOCK, SETTINGS.freshnessWindow())),
        (from, outgoing) -> sentAbout.get(outgoing.to().key()).tell(outgoing),
        new EnvelopeMetrics(new SimpleMeterRegistry()),
        SETTINGS.mailboxPolicies(), hosted, TestReminders.store(), TestReminders.metrics(), TestReminders.STAY_AWAKE, TestReminders.LINGER,
        TestReminders.inboxIndex());
  }

  @BeforeEach
  void freshMail() {
    toBeta = testKit.createTestProbe();
    shard = testKit.createTestProbe();
    label = Labels.forSubmission(ALPHA, ALICE, UUID.randomUUID().toString());
    sentAbout.put(label, toBeta.getRef());
    deadline = CLOCK.millis() + Duration.ofHours(1).toMillis();
    codDeadline = SETTINGS.timings().recipientDeadline(CLOCK.millis(), deadline);
  }

  private EventSourcedBehaviorTestKit<InboxEntry.Command, InboxEvent, RecipientStage> entry(String mailbox) {
    EntityContext<InboxEntry.Command> context = new EntityContext<>(InboxEntry.typeKey(mailbox),
        EntityKind.entityId(mailbox, label), shard.getRef());
    return EventSourcedBehaviorTestKit.create(testKit.system(), InboxEntry.create(context, services),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyState(false).withVerifyEquality(false));
  }

  // ---- B's server speaking ----

  private Inbound fromBeta(String mailbox, ProtocolMessage message) {
    return new Inbound(beta.seal(mailbox, message).toByteArray());
  }

  private ProtocolMessage notification(Flavour flavour) {
    return ProtocolMessage.newBuilder().setNotification(Notification.newBuilder().setLabel(label).setSender(ALICE)
        .setFlavour(flavour).setContentSize(MAIL.length).setDeadlineMillis(deadline)
        .setLabelledContentHash(flavour == Flavour.IP ? ByteString.copyFrom(ContentHash.labelled(label, MAIL))
            : ByteString.EMPTY)
        .setCodDeadlineMillis(codDeadline)).build();
  }

  private ProtocolMessage delivery() {
    return ProtocolMessage.newBuilder().setDelivery(Delivery.newBuilder().setLabel(label).setSender(ALICE)
        .setContent(ByteString.copyFrom(MAIL)).setDeadlineMillis(deadline).setCodDeadlineMillis(codDeadline)).build();
  }

  private ProtocolMessage content(String mailbox) {
    return ProtocolMessage.newBuilder().setContent(Content.newBuilder().setLabel(label)
        .setContent(ByteString.copyFrom(MAIL)).setHandover(new EvidenceSigner(NETWORK.keys.get(BETA))
            .sign(EvidenceStatements.contentHandover(BETA, mailbox, label, ALICE, Flavour.NSR, ContentHash.of(MAIL),
                CLOCK.millis())))).build();
  }

  static final byte[] MAIL = "Dear recipient, the contract.".getBytes();

  /** The next message this test's entry sends: always to B's server. */
  private ProtocolMessage received(Duration within) {
    Outgoing outgoing = toBeta.receiveMessage(within);
    assertEquals(Addressee.server(BETA, label), outgoing.to());
    return outgoing.message();
  }

  private ProtocolMessage received() {
    return received(Duration.ofSeconds(3));
  }

  // ---- the tests ----

  @Test
  void duplicateNotificationIsAnsweredNotPersistedTwice() throws Exception {
    var bob = entry(BOB); // auto-accept
    bob.runCommand(fromBeta(BOB, delivery())); // stored once its label is in the inbox index (CoreShell)
    bob.<InboxView>runCommand(InboxEntry.GetEntry::new); // answered once the delivery is carried out
    assertEquals(2, bob.persistenceTestKit().persistedInStorage(EntityKind.entityId(BOB, label)).size(),
        "notified and signed");
    assertInstanceOf(RecipientStage.Acknowledged.class, bob.getState());
    ProtocolMessage cod = received();
    assertEquals(MessageCase.COD_REPLY, cod.getMessageCase());
    shard.expectMessageClass(ClusterSharding.Passivate.class); // CEM: B holds M, nothing is due

    var again = bob.runCommand(fromBeta(BOB, delivery()));
    assertTrue(again.hasNoEvents(), "the repeated delivery is not persisted again");
    assertEquals(cod, received(), "but answered again with the same COD");
  }

  @Test
  void recoveryReArmsTheFetch() throws Exception {
    var bob = entry(BOB);
    // An entry that recovers with nothing due and hears nothing (a stale reminder woke it) passivates.
    shard.expectMessageClass(ClusterSharding.Passivate.class, Duration.ofSeconds(3));
    bob.runCommand(fromBeta(BOB, notification(Flavour.NSR)));
    long signedAt = CLOCK.millis();
    assertEquals(MessageCase.COD_REPLY, received().getMessageCase());
    toBeta.expectNoMessage(Duration.ofMillis(300)); // no fetch with the COD: beta pushes M when it takes it

    // The node goes down; it comes back just before the next fetch is due.
    long nextFetch = SETTINGS.timings().nextResend(signedAt, signedAt);
    CLOCK.set(nextFetch - 100);
    var restarted = bob.restart();
    assertInstanceOf(RecipientStage.Acknowledged.class, restarted.state());
    assertEquals(MessageCase.CONTENT_FETCH, received().getMessageCase(), "what was due is done on recovery");
    // The timer is armed for the next fetch, 100 ms ahead. While the clock stands still its firing
    // is early by the entry's clock: no fetch (a resend before the schedule). Once the clock
    // reaches the instant, it fetches.
    toBeta.expectNoMessage(Duration.ofMillis(400));
    CLOCK.set(nextFetch);
    assertEquals(MessageCase.CONTENT_FETCH, received(Duration.ofSeconds(3)).getMessageCase(),
        "and the timer is armed again for the next fetch");
    shard.expectNoMessage(Duration.ofMillis(100)); // M is owed: the entry stays

    bob.runCommand(fromBeta(BOB, content(BOB)));
    InboxView view = bob.<InboxView>runCommand(InboxEntry.GetEntry::new).reply();
    assertEquals(RecipientView.Status.RETRIEVED, view.status());
    assertArrayEquals(MAIL, view.content());
    shard.expectMessageClass(ClusterSharding.Passivate.class);
  }

  @Test
  void recoveryAfterTheLostInstantGivesUpFetchingAndPassivates() throws Exception {
    var bob = entry(BOB);
    bob.runCommand(fromBeta(BOB, notification(Flavour.NSR)));
    assertEquals(MessageCase.COD_REPLY, received().getMessageCase());
    CLOCK.set(SETTINGS.timings().lostAfter(deadline));
    bob.restart();
    shard.expectMessageClass(ClusterSharding.Passivate.class);
    toBeta.expectNoMessage(Duration.ofMillis(300));
    assertTrue(services.metrics.ignoredCount("TOO_LATE") > 0, "giving up is counted");
  }

  @Test
  void acceptAfterTheToldDeadlineIsTurnedDownWithIt() {
    var carol = entry(CAROL); // hold
    carol.runCommand(fromBeta(CAROL, notification(Flavour.IP))); // stored once its label is in the inbox index
    carol.<InboxView>runCommand(InboxEntry.GetEntry::new);
    assertInstanceOf(RecipientStage.Held.class, carol.getState());
    assertTrue(toBeta.receiveMessage().message().hasNotificationHeld(), "carol tells beta she holds it: beta sleeps");
    shard.expectMessageClass(ClusterSharding.Passivate.class); // held: it waits in the journal, not in memory
    assertEquals(RecipientView.Status.AWAITING_DECISION, carol.<InboxView>runCommand(InboxEntry.GetEntry::new).reply().status());

    CLOCK.set(codDeadline + 1);
    CommandResultWithReply<InboxEntry.Command, InboxEvent, RecipientStage, InboxView> late =
        carol.runCommand(InboxEntry.Accept::new);
    assertTrue(late.hasNoEvents(), "no COD after the deadline the agent keeps");
    assertEquals(RecipientView.Status.EXPIRED, late.reply().status());
    assertTrue(late.reply().problem().contains(Instant.ofEpochMilli(codDeadline).toString()), late.reply().problem());
    assertNull(late.reply().content());
    toBeta.expectNoMessage(Duration.ofMillis(200));
  }
}
