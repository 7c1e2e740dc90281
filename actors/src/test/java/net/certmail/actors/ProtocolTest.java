package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.ALPHA;
import static net.certmail.actors.TestNetwork.BETA;
import static net.certmail.actors.TestNetwork.BOB;
import static net.certmail.actors.TestNetwork.BOGUS;
import static net.certmail.actors.TestNetwork.CAROL;
import static net.certmail.actors.TestNetwork.DAN;
import static net.certmail.actors.TestNetwork.DAVE;
import static net.certmail.actors.TestNetwork.DEAD;
import static net.certmail.actors.TestNetwork.ERIN;
import static net.certmail.actors.TestNetwork.GINA;
import static net.certmail.actors.TestNetwork.RELAY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EnvelopeSealer;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.VerifiedEvidence;
import net.certmail.proto.v1.ContentFetch;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.EtsiEvent;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import net.certmail.proto.v1.NonDeliveryNotice;
import net.certmail.proto.v1.Notification;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.SignedEnvelope;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.SubmissionId;
import net.certmail.protocol.recipient.RecipientView;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The protocol on one node that runs every organisation of the test network, on the in-memory
 * journal: every flavour over routes of 1, 2 and 3 servers, every failure the paper names, and
 * forged or replayed input. Every evidence item is checked with crypto's verifier.
 */
@ExtendWith(LogCapturingExtension.class)
class ProtocolTest {
  static final Duration WAIT = Duration.ofSeconds(20);

  static TestNetwork network;
  static ManualClock clock;
  static EngineNode node;
  static CertmailEngine engine;
  static EvidenceVerifier verifier;

  @BeforeAll
  static void startNode() {
    network = new TestNetwork();
    clock = new ManualClock(Instant.now());
    node = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS, EngineNode.inMemoryJournal(), null);
    engine = node.engine;
    verifier = new EvidenceVerifier(network.trustStore());
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  @Test
  void directoryLookupOfAnUnknownLabelLeavesNoEntityAndNoReminder() throws Exception {
    String label = ALPHA + "/" + UUID.randomUUID().toString().replace("-", "");
    String entityId = EntityKind.entityId(ALPHA, label);
    assertFalse(engine.publicEvidence(ALPHA, label).toCompletableFuture().get().published());
    EngineNode.awaitCondition(() -> !node.runningEntities(MailServer.typeKey(ALPHA)).contains(entityId), WAIT,
        "the looked-up entity passivated");
    try (var reminders = net.certmail.persistence.reminders.JdbcReminderStore.open(network.reminderDatabase, "sa", "",
        60_000)) {
      assertTrue(reminders.dueBy(ALPHA, Long.MAX_VALUE, Integer.MAX_VALUE).toCompletableFuture().get().stream()
          .noneMatch(row -> row.entityId().equals(entityId)), "no reminder row for a lookup");
    }
  }

  static Stream<Arguments> flavoursAndRoutes() {
    List<Arguments> cases = new ArrayList<>();
    for (Flavour flavour : List.of(Flavour.CEM, Flavour.NSR, Flavour.IP)) {
      cases.add(Arguments.of(flavour, ERIN, 1));
      cases.add(Arguments.of(flavour, GINA, 2));
      cases.add(Arguments.of(flavour, BOB, 3));
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} over {2} server(s)")
  @MethodSource("flavoursAndRoutes")
  void deliveryYieldsCopRodAndCodThatVerify(Flavour flavour, String recipient, int servers) throws Exception {
    MailItem item = mail("contract " + flavour);
    String id = newId();
    engine.submit(ALICE, id, recipient, item, deadline(), flavour).toCompletableFuture().get(5, TimeUnit.SECONDS);
    MailStatus status = awaitFinal(ALICE, id);

    assertEquals(DeliveryStatus.DELIVERED, status.status());
    List<VerifiedEvidence> evidence = verified(status.evidence());
    assertEquals(List.of(EvidenceKind.COP, EvidenceKind.ROD_N, EvidenceKind.COD, EvidenceKind.ROD),
        evidence.stream().map(item1 -> item1.statement().getKind()).toList());
    EvidenceStatement cop = evidence.get(0).statement();
    assertEquals(servers, cop.getRouteCount());
    assertEquals(ALPHA, cop.getIssuer());
    EvidenceStatement cod = evidence.get(2).statement();
    assertEquals(recipient, cod.getIssuer());
    byte[] content = item.toByteArray();
    byte[] expectedHash = switch (flavour) {
      case CEM -> ContentHash.of(content);
      case IP -> ContentHash.labelled(status.label(), content);
      default -> new byte[0];
    };
    assertArrayEquals(expectedHash, cod.getContentHash().toByteArray());
    assertEquals(net.certmail.protocol.Routing.domainOf(recipient), evidence.get(1).statement().getIssuer());
    assertEquals(ALPHA, evidence.get(3).statement().getIssuer());

    InboxView inbox = EngineNode.await(() -> engine.inboxEntry(recipient, status.label()),
        view -> view.status() == RecipientView.Status.RETRIEVED, WAIT, "the recipient holding the content");
    assertArrayEquals(content, inbox.content());
  }

  @Test
  void originServerPublishesCopRodAndCodWhileRelayAndDestinationPublishNothing() throws Exception {
    String id = newId();
    engine.submit(ALICE, id, BOB, mail("published"), deadline(), Flavour.CEM).toCompletableFuture().get();
    MailStatus status = awaitFinal(ALICE, id);
    assertEquals(DeliveryStatus.DELIVERED, status.status());

    MailServer.PublicEvidence directory = engine.publicEvidence(ALPHA, status.label()).toCompletableFuture().get();
    assertTrue(directory.published());
    assertEquals(List.of(EvidenceKind.COP, EvidenceKind.ROD, EvidenceKind.COD),
        verified(directory.evidence()).stream().map(item -> item.statement().getKind()).toList());
    // The sender's COP, ROD and COD are the very items in the directory.
    assertArrayEquals(status.evidence().get(0), directory.evidence().get(0));

    for (String other : List.of(TestNetwork.RELAY, TestNetwork.BETA)) {
      MailServer.PublicEvidence none = engine.publicEvidence(other, status.label()).toCompletableFuture().get();
      assertFalse(none.published(), other);
      assertTrue(none.evidence().isEmpty(), other);
    }
    assertFalse(engine.publicEvidence(ALPHA, ALPHA + "/00000000000000000000000000000000").toCompletableFuture().get()
        .published());
  }

  @Test
  void originServerPublishesTheNonDeliveryNotice() throws Exception {
    String id = newId();
    engine.submit(ALICE, id, DAVE, mail("refused"), deadline(), Flavour.CEM).toCompletableFuture().get();
    MailStatus status = awaitFinal(ALICE, id);
    assertEquals(DeliveryStatus.NOT_DELIVERED, status.status());
    MailServer.PublicEvidence directory = engine.publicEvidence(ALPHA, status.label()).toCompletableFuture().get();
    assertEquals(List.of(EvidenceKind.COP, EvidenceKind.NDN),
        verified(directory.evidence()).stream().map(item -> item.statement().getKind()).toList());
  }

  @Test
  void resubmissionWithTheSameKeyReturnsTheSameLabelAndCop() throws Exception {
    String id = newId();
    engine.submit(ALICE, id, BOB, mail("twice"), deadline(), Flavour.CEM).toCompletableFuture().get();
    MailStatus first = awaitFinal(ALICE, id);
    MailStatus again = engine.submit(ALICE, id, BOB, mail("twice"), first.evidence().isEmpty() ? 0 : deadlineOf(first),
        Flavour.CEM).toCompletableFuture().get();
    assertEquals(first.label(), again.label());
    assertArrayEquals(first.evidence().get(0), again.evidence().get(0));
    MailStatus conflicting = engine.submit(ALICE, id, BOB, mail("other"), deadline(), Flavour.CEM)
        .toCompletableFuture().get();
    assertTrue(conflicting.problem().contains("already used"), conflicting.problem());
  }

  @Test
  void submissionIdsThatCouldCollideWithALabelAreRefused() throws Exception {
    MailStatus refused = engine.submit(ALICE, "alpha.example/0123", BOB, mail("collision"), deadline(), Flavour.CEM)
        .toCompletableFuture().get();
    assertEquals(SubmissionId.check("alpha.example/0123").orElseThrow(), refused.problem());
    assertEquals(DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED, refused.status());
  }

  @Test
  void cemRecipientThatNeverAcknowledgesYieldsNonDeliveryBeforeDeadline() throws Exception {
    String id = newId();
    long deadline = deadline();
    MailStatus submitted = submitAndAwaitCop(CAROL, id, Flavour.CEM, deadline);
    // Selective receipt: in CEM the recipient already holds M while it decides whether to sign.
    InboxView held = EngineNode.await(() -> engine.inboxEntry(CAROL, submitted.label()),
        view -> view.status() == RecipientView.Status.AWAITING_DECISION, WAIT, "carol notified");
    assertArrayEquals(mail("hello carol").toByteArray(), held.content());

    clock.advance(Duration.ofMinutes(6)); // past the delivery timeout
    MailStatus status = awaitFinal(ALICE, id);
    assertEquals(DeliveryStatus.NOT_DELIVERED, status.status());
    assertEquals(ReasonCode.RECIPIENT_DID_NOT_ACKNOWLEDGE, status.reason());
    EvidenceStatement ndn = verified(status.evidence()).get(1).statement();
    assertEquals(EvidenceKind.NDN, ndn.getKind());
    assertEquals(EtsiEvent.ACCEPTANCE_REJECTION_EXPIRY, ndn.getEtsiEvent());
    assertEquals(BETA, ndn.getIssuer());
    assertTrue(ndn.getIssuedAtMillis() < deadline, "the notice precedes the deadline");
  }

  @Test
  void nonDeliveryNoticesFromPrincipalsOffTheRouteDoNotBecomeTheVerdict() throws Exception {
    // erin (a mailbox) and gamma.example (a server not on alpha -> relay -> beta) hold valid certificates and
    // know the label: each signs an NDN for it and sends it to the origin while carol still decides.
    String id = newId();
    MailStatus submitted = submitAndAwaitCop(CAROL, id, Flavour.NSR, deadline());
    String label = submitted.label();
    EngineNode.await(() -> engine.inboxEntry(CAROL, label), view -> view.status() == RecipientView.Status.AWAITING_DECISION, WAIT,
        "carol notified");
    double refusedBefore = engine.metrics().ignoredCount("NOT_ENTITLED");
    for (String rogue : List.of(TestNetwork.ERIN, TestNetwork.GAMMA)) {
      SignedEvidence ndn = new EvidenceSigner(network.keys.get(rogue)).sign(EvidenceStatements.ndn(rogue, label, ALICE,
          CAROL, EtsiEvent.CONTENT_CONSIGNMENT_FAILURE, ReasonCode.RELAY_UNREACHABLE, "not mine to say",
          clock.millis()));
      send(rogue, ALPHA, EntityKind.SERVER, label, ProtocolMessage.newBuilder().setNonDeliveryNotice(
          NonDeliveryNotice.newBuilder().setLabel(label).setNdn(ndn)).build());
    }
    EngineNode.awaitCondition(() -> engine.metrics().ignoredCount("NOT_ENTITLED") >= refusedBefore + 2, WAIT,
        "both notices refused by the origin");

    engine.accept(CAROL, label).toCompletableFuture().get();
    assertEquals(DeliveryStatus.DELIVERED, awaitFinal(ALICE, id).status(), "the recipient's COD decides, not a stranger's notice");
    MailServer.PublicEvidence directory = engine.publicEvidence(ALPHA, label).toCompletableFuture().get();
    assertEquals(3, directory.evidence().size(), "COP, ROD and COD only: no NDN published");
  }

  @ParameterizedTest
  @MethodSource("noSelectiveReceiptFlavours")
  void recipientCannotObtainContentBeforeSigningCod(Flavour flavour) throws Exception {
    String id = newId();
    MailStatus submitted = submitAndAwaitCop(CAROL, id, flavour, deadline());
    String label = submitted.label();
    InboxView held = EngineNode.await(() -> engine.inboxEntry(CAROL, label),
        view -> view.status() == RecipientView.Status.AWAITING_DECISION, WAIT, "carol notified");
    assertNull(held.content(), "no content with the notification");
    EngineNode.await(() -> engine.status(ALICE, id), s -> s.status() == DeliveryStatus.AWAITING_COLLECTION, WAIT,
        "the sender told that the mail awaits collection");

    double refusedBefore = engine.metrics().ignoredCount("CONTENT_NOT_RELEASABLE");
    send(CAROL, BETA, EntityKind.SERVER, label,
        ProtocolMessage.newBuilder().setContentFetch(ContentFetch.newBuilder().setLabel(label)).build());
    EngineNode.awaitCondition(() -> engine.metrics().ignoredCount("CONTENT_NOT_RELEASABLE") > refusedBefore, WAIT,
        "the early fetch refused");
    assertNull(engine.inboxEntry(CAROL, label).toCompletableFuture().get().content());

    engine.accept(CAROL, label).toCompletableFuture().get();
    InboxView retrieved = EngineNode.await(() -> engine.inboxEntry(CAROL, label),
        view -> view.status() == RecipientView.Status.RETRIEVED, WAIT, "the content after the COD");
    assertArrayEquals(mail("hello carol").toByteArray(), retrieved.content());
    assertEquals(DeliveryStatus.DELIVERED, awaitFinal(ALICE, id).status());
  }

  static Stream<Flavour> noSelectiveReceiptFlavours() {
    return Stream.of(Flavour.NSR, Flavour.IP);
  }

  @Test
  void bogusAgentNotifyingTheSameLabelWithAnotherHashIsRefused() throws Exception {
    String id = newId();
    MailStatus submitted = submitAndAwaitCop(CAROL, id, Flavour.IP, deadline());
    String label = submitted.label();
    EngineNode.await(() -> engine.inboxEntry(CAROL, label), view -> view.status() == RecipientView.Status.AWAITING_DECISION,
        WAIT, "carol notified by beta.example");

    double bogusBefore = engine.metrics().ignoredCount("NOT_HOME_SERVER");
    double lockedBefore = engine.metrics().ignoredCount("LABEL_LOCKED");
    byte[] otherHash = ContentHash.labelled(label, "a lousy piece of code".getBytes());
    ProtocolMessage otherNotification = ProtocolMessage.newBuilder().setNotification(Notification.newBuilder()
        .setLabel(label).setSender(ALICE).setFlavour(Flavour.IP).setLabelledContentHash(ByteString.copyFrom(otherHash))
        .setDeadlineMillis(deadline()).setCodDeadlineMillis(deadline())).build();
    send(BOGUS, CAROL, EntityKind.INBOX, label, otherNotification);
    EngineNode.awaitCondition(() -> engine.metrics().ignoredCount("NOT_HOME_SERVER") > bogusBefore, WAIT,
        "the bogus agent refused");
    // Even carol's own server cannot swap the hash of a label she was notified about.
    send(BETA, CAROL, EntityKind.INBOX, label, otherNotification);
    EngineNode.awaitCondition(() -> engine.metrics().ignoredCount("LABEL_LOCKED") > lockedBefore, WAIT,
        "the conflicting notification refused by the label lock");

    engine.accept(CAROL, label).toCompletableFuture().get();
    InboxView retrieved = EngineNode.await(() -> engine.inboxEntry(CAROL, label),
        view -> view.status() == RecipientView.Status.RETRIEVED, WAIT, "the genuine mail retrieved");
    assertEquals(BETA, retrieved.agent());
    assertArrayEquals(mail("hello carol").toByteArray(), retrieved.content());
  }

  @Test
  void ipRecipientRejectsContentWhoseLabelledHashDiffersAndTakesTheRightOne() throws Exception {
    // The test speaks for carol's server on a label that no entity carries, so that it alone
    // decides which content arrives.
    String label = "gamma.example/" + "c".repeat(32);
    byte[] genuine = mail("the genuine mail").toByteArray();
    send(BETA, CAROL, EntityKind.INBOX, label, ProtocolMessage.newBuilder().setNotification(Notification.newBuilder()
        .setLabel(label).setSender(ALICE).setFlavour(Flavour.IP)
        .setLabelledContentHash(ByteString.copyFrom(ContentHash.labelled(label, genuine)))
        .setContentSize(genuine.length).setDeadlineMillis(deadline()).setCodDeadlineMillis(deadline())).build());
    EngineNode.await(() -> engine.inboxEntry(CAROL, label), view -> view.status() == RecipientView.Status.AWAITING_DECISION, WAIT,
        "carol notified");
    assertEquals(RecipientView.Status.ACKNOWLEDGED, engine.accept(CAROL, label).toCompletableFuture().get().status());

    double mismatchesBefore = engine.metrics().ignoredCount("EVIDENCE_MISMATCH");
    byte[] substitute = mail("a particularly lousy piece of code").toByteArray();
    send(BETA, CAROL, EntityKind.INBOX, label, content(label, substitute));
    EngineNode.awaitCondition(() -> engine.metrics().ignoredCount("EVIDENCE_MISMATCH") > mismatchesBefore, WAIT,
        "the substitute rejected");
    assertEquals(RecipientView.Status.ACKNOWLEDGED, engine.inboxEntry(CAROL, label).toCompletableFuture().get().status());

    send(BETA, CAROL, EntityKind.INBOX, label, content(label, genuine));
    InboxView retrieved = EngineNode.await(() -> engine.inboxEntry(CAROL, label),
        view -> view.status() == RecipientView.Status.RETRIEVED, WAIT, "the genuine content taken");
    assertArrayEquals(genuine, retrieved.content());
  }

  private static ProtocolMessage content(String label, byte[] bytes) {
    SignedEvidence handover = new EvidenceSigner(network.keys.get(BETA)).sign(EvidenceStatements.contentHandover(
        BETA, CAROL, label, ALICE, Flavour.IP, ContentHash.of(bytes), clock.millis()));
    return ProtocolMessage.newBuilder().setContent(net.certmail.proto.v1.Content.newBuilder().setLabel(label)
        .setContent(ByteString.copyFrom(bytes)).setHandover(handover)).build();
  }

  @Test
  void recipientRefusalYieldsSignedNonDelivery() throws Exception {
    String id = newId();
    engine.submit(ALICE, id, DAVE, mail("unwanted"), deadline(), Flavour.CEM).toCompletableFuture().get();
    MailStatus status = awaitFinal(ALICE, id);
    assertEquals(DeliveryStatus.NOT_DELIVERED, status.status());
    assertEquals(ReasonCode.RECIPIENT_REFUSED, status.reason());
    assertEquals(EvidenceKind.NDN, verified(status.evidence()).get(1).statement().getKind());
  }

  @Test
  void ownerRefusingAHeldMailYieldsNonDelivery() throws Exception {
    String id = newId();
    MailStatus submitted = submitAndAwaitCop(CAROL, id, Flavour.NSR, deadline());
    EngineNode.await(() -> engine.inboxEntry(CAROL, submitted.label()),
        view -> view.status() == RecipientView.Status.AWAITING_DECISION, WAIT, "carol notified");
    InboxView refused = engine.refuse(CAROL, submitted.label(), "not expecting mail from alice")
        .toCompletableFuture().get();
    assertEquals(RecipientView.Status.REFUSED, refused.status());
    assertEquals(ReasonCode.RECIPIENT_REFUSED, awaitFinal(ALICE, id).reason());
  }

  /**
   * Entities that slept while carol held the mail, then woke and concluded, delete their reminder
   * rows: a row left behind woke each of them once more, for nothing, at its instant.
   */
  @Test
  void aMailConcludedAfterItsEntitiesSleptLeavesNoReminderRow() throws Exception {
    String id = newId();
    MailStatus submitted = submitAndAwaitCop(CAROL, id, Flavour.NSR, deadline());
    String label = submitted.label();
    EngineNode.await(() -> engine.inboxEntry(CAROL, label),
        view -> view.status() == RecipientView.Status.AWAITING_DECISION, WAIT, "carol notified");
    String destination = EntityKind.entityId(BETA, label);
    EngineNode.awaitCondition(() -> !node.runningEntities(MailServer.typeKey(BETA)).contains(destination)
        && !reminderRowsOf(label).isEmpty(), WAIT, "beta's server asleep with its reminder row while carol decides");

    engine.accept(CAROL, label).toCompletableFuture().get();
    assertEquals(DeliveryStatus.DELIVERED, awaitFinal(ALICE, id).status());
    try {
      EngineNode.awaitCondition(() -> reminderRowsOf(label).isEmpty(), WAIT, "no reminder row left");
    } catch (AssertionError left) {
      fail("reminder rows left for " + label + " after every role concluded: " + reminderRowsOf(label));
    }
  }

  private static List<String> reminderRowsOf(String label) {
    try (var reminders = net.certmail.persistence.reminders.JdbcReminderStore.open(network.reminderDatabase, "sa", "",
        60_000)) {
      List<String> rows = new ArrayList<>();
      for (String organisation : TestNetwork.RUNNING_ORGANISATIONS) {
        reminders.dueBy(organisation, Long.MAX_VALUE, Integer.MAX_VALUE).toCompletableFuture().get().stream()
            .filter(row -> row.entityId().endsWith(label)).forEach(row -> rows.add(row.toString()));
      }
      return rows;
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the reminder rows: " + e.getMessage(), e);
    }
  }

  @Test
  void unreachableRelayYieldsRelayFailureNotice() throws Exception {
    String id = newId();
    long deadline = deadline();
    engine.submit(ALICE, id, DAN, mail("via a dead relay"), deadline, Flavour.CEM).toCompletableFuture().get();
    EngineNode.await(() -> engine.status(ALICE, id), s -> s.status() == DeliveryStatus.IN_DELIVERY, WAIT, "COP");
    clock.advance(Duration.ofMinutes(3)); // past the relay timeout
    MailStatus status = awaitFinal(ALICE, id);
    assertEquals(DeliveryStatus.NOT_DELIVERED, status.status());
    assertEquals(ReasonCode.RELAY_UNREACHABLE, status.reason());
    EvidenceStatement ndn = verified(status.evidence()).get(1).statement();
    assertEquals(EtsiEvent.RELAY_FAILURE, ndn.getEtsiEvent());
    assertEquals(ALPHA, ndn.getIssuer());
    assertTrue(ndn.getIssuedAtMillis() < deadline);
  }

  @Test
  void submissionsOutsidePolicyAreRejectedWithSignedReasons() throws Exception {
    assertRejected(BOB, mail("too soon"), clock.millis() + 10_000, ReasonCode.DEADLINE_NOT_ACCEPTABLE);
    assertRejected("nobody@nowhere.example", mail("lost address"), deadline(), ReasonCode.UNKNOWN_DOMAIN);
    assertRejected("nobody@alpha.example", mail("no such mailbox"), deadline(), ReasonCode.UNKNOWN_RECIPIENT);
    MailItem large = MailItem.newBuilder().setSubject("large").setBody("x".repeat(70 * 1024)).build();
    assertRejected(BOB, large, deadline(), ReasonCode.MESSAGE_TOO_LARGE);
  }

  @Test
  void unknownMailboxAtARemoteDomainIsRefusedByItsServerAndYieldsNonDelivery() throws Exception {
    String id = newId();
    engine.submit(ALICE, id, "nobody@beta.example", mail("no such mailbox"), deadline(), Flavour.CEM)
        .toCompletableFuture().get();
    MailStatus status = awaitFinal(ALICE, id);
    assertEquals(DeliveryStatus.NOT_DELIVERED, status.status());
    assertEquals(ReasonCode.UNKNOWN_RECIPIENT, status.reason());
    EvidenceStatement ndn = verified(status.evidence()).get(1).statement();
    assertEquals(EvidenceKind.NDN, ndn.getKind());
    assertEquals(RELAY, ndn.getIssuer(), "the relay whose next hop refused issues the notice");
  }

  private void assertRejected(String recipient, MailItem item, long deadline, ReasonCode reason) throws Exception {
    String id = newId();
    engine.submit(ALICE, id, recipient, item, deadline, Flavour.CEM).toCompletableFuture().get();
    MailStatus status = awaitFinal(ALICE, id);
    assertEquals(DeliveryStatus.NOT_DELIVERED, status.status());
    assertEquals(reason, status.reason());
    EvidenceStatement rejection = verified(status.evidence()).get(0).statement();
    assertEquals(EvidenceKind.SUBMISSION_REJECTION, rejection.getKind());
    assertEquals(id, rejection.getSubmissionId());
  }

  @Test
  void noVerdictByDeadlinePlusGraceMakesTheMailLostWithACheckableClaim() throws Exception {
    // alpha.example certifies the posting towards dan via dead.example, which no node runs; then
    // time jumps past T plus grace at once, so no server on the route signs anything before T.
    String id = newId();
    long deadline = deadline();
    engine.submit(ALICE, id, DAN, mail("into the void"), deadline, Flavour.CEM).toCompletableFuture().get();
    EngineNode.await(() -> engine.status(ALICE, id), s -> s.status() == DeliveryStatus.IN_DELIVERY, WAIT, "COP");

    clock.advance(Duration.ofMinutes(15)); // past T plus grace
    MailStatus status = awaitFinal(ALICE, id);
    assertEquals(DeliveryStatus.LOST, status.status());
    EvidenceStatement claim = verified(status.evidence()).get(1).statement();
    assertEquals(EvidenceKind.COMPENSATION_CLAIM, claim.getKind());
    assertEquals(ALICE, claim.getIssuer());
    assertTrue(claim.getIssuedAtMillis() >= deadline + claim.getGraceMillis(), "claimed only after T plus grace");
    assertEquals(EvidenceKind.COP, verifier.verify(claim.getClaimedCop()).statement().getKind());
    // A notice the origin signs after T (it may, late) does not flip the outcome. The status is asked
    // after the notice was sent, through the same shard region: it is answered after it was handled.
    SignedEvidence lateNdn = new EvidenceSigner(network.keys.get(ALPHA)).sign(EvidenceStatements.ndn(ALPHA,
        status.label(), ALICE, DAN, EtsiEvent.RELAY_FAILURE, ReasonCode.RELAY_UNREACHABLE, "after T", clock.millis()));
    send(ALPHA, ALICE, EntityKind.OUTBOX, id, ProtocolMessage.newBuilder().setNonDeliveryNotice(
        NonDeliveryNotice.newBuilder().setLabel(status.label()).setNdn(lateNdn)).build());
    assertEquals(DeliveryStatus.LOST, engine.status(ALICE, id).toCompletableFuture().get().status());
  }

  @Test
  void submissionTheOriginNeverAnswersEndsNotPostedAtDeadlinePlusGrace() throws Exception {
    // dead.example runs on no node: neither a COP nor a rejection ever comes.
    String id = newId();
    MailStatus submitted = ClusterSharding.get(node.system)
        .entityRefFor(OutboxEntry.typeKey(ALICE), EntityKind.entityId(ALICE, id))
        .<MailStatus>ask(replyTo -> new OutboxEntry.Submit(GINA, mail("nobody home").toByteArray(), deadline(),
            Flavour.CEM, DEAD, replyTo), Duration.ofSeconds(5))
        .toCompletableFuture().get();
    assertEquals(DeliveryStatus.SUBMITTED, submitted.status());
    clock.advance(Duration.ofMinutes(15)); // past T plus grace
    MailStatus status = awaitFinal(ALICE, id);
    assertEquals(DeliveryStatus.NOT_POSTED, status.status());
    assertTrue(status.evidence().isEmpty(), "nothing was certified, so there is nothing to claim on");
  }

  @Test
  void forgedTamperedMisaddressedAndReplayedEnvelopesAreRejectedAndChangeNothing() throws Exception {
    String label = ALPHA + "/" + "f".repeat(32);
    ProtocolMessage notification = ProtocolMessage.newBuilder().setNotification(Notification.newBuilder()
        .setLabel(label).setSender(ALICE).setFlavour(Flavour.NSR).setDeadlineMillis(deadline())
        .setCodDeadlineMillis(deadline())).build();
    var carolEntry = ClusterSharding.get(node.system)
        .entityRefFor(InboxEntry.typeKey(CAROL), EntityKind.entityId(CAROL, label));

    // forged: claims to come from beta.example, signed with bogus.example's key
    SignedEnvelope genuine = new EnvelopeSealer(network.keys.get(BETA), clock).seal(CAROL, notification);
    SignedEnvelope forgedSignature = new EnvelopeSealer(network.keys.get(BOGUS), clock).seal(CAROL, notification);
    SignedEnvelope forged = genuine.toBuilder().setSignature(forgedSignature.getSignature()).build();
    // tampered: one payload byte changed
    byte[] payload = genuine.getPayload().toByteArray();
    payload[payload.length - 1] ^= 1;
    SignedEnvelope tampered = new EnvelopeSealer(network.keys.get(BETA), clock).seal(CAROL, notification)
        .toBuilder().setPayload(ByteString.copyFrom(payload)).build();
    // misaddressed: sealed for bob, delivered to carol's entry
    SignedEnvelope misaddressed = new EnvelopeSealer(network.keys.get(BETA), clock).seal(BOB, notification);

    double before = engine.metrics().rejectedCount();
    carolEntry.tell(new Inbound(forged.toByteArray()));
    carolEntry.tell(new Inbound(tampered.toByteArray()));
    carolEntry.tell(new Inbound(misaddressed.toByteArray()));
    carolEntry.tell(new Inbound(new byte[] {1, 2, 3}));
    EngineNode.awaitCondition(() -> engine.metrics().rejectedCount() >= before + 4, WAIT, "four rejections");
    assertTrue(engine.metrics().rejectedCount("BAD_SIGNATURE") >= 2);
    assertTrue(engine.metrics().rejectedCount("WRONG_RECIPIENT") >= 1);
    assertEquals(RecipientView.Status.NONE, engine.inboxEntry(CAROL, label).toCompletableFuture().get().status());

    // the genuine envelope is accepted once; its replay is rejected and changes nothing
    carolEntry.tell(new Inbound(genuine.toByteArray()));
    EngineNode.await(() -> engine.inboxEntry(CAROL, label), view -> view.status() == RecipientView.Status.AWAITING_DECISION,
        WAIT, "the genuine notification");
    double replaysBefore = engine.metrics().rejectedCount("REPLAYED");
    carolEntry.tell(new Inbound(genuine.toByteArray()));
    EngineNode.awaitCondition(() -> engine.metrics().rejectedCount("REPLAYED") > replaysBefore, WAIT, "the replay");
    assertEquals(BETA, engine.inboxEntry(CAROL, label).toCompletableFuture().get().agent());
  }

  @Test
  void duplicatedAndLateVerdictsNeverFlipTheFirst() throws Exception {
    String id = newId();
    engine.submit(ALICE, id, BOB, mail("one verdict"), deadline(), Flavour.CEM).toCompletableFuture().get();
    MailStatus delivered = awaitFinal(ALICE, id);
    assertEquals(DeliveryStatus.DELIVERED, delivered.status());

    // A late, conflicting notice from the origin, delivered twice and out of order.
    SignedEvidence ndn = new EvidenceSigner(network.keys.get(ALPHA)).sign(EvidenceStatements.ndn(ALPHA,
        delivered.label(), ALICE, BOB, EtsiEvent.RELAY_FAILURE, ReasonCode.RELAY_UNREACHABLE,
        "late", clock.millis()));
    ProtocolMessage notice = ProtocolMessage.newBuilder().setNonDeliveryNotice(
        NonDeliveryNotice.newBuilder().setLabel(delivered.label()).setNdn(ndn)).build();
    send(ALPHA, ALICE, EntityKind.OUTBOX, id, notice);
    send(ALPHA, ALICE, EntityKind.OUTBOX, id, notice);
    // Every status asked after the two sends, through the same shard region, is answered after both
    // were handled: the first that shows the notice shows what the duplicate did too.
    MailStatus after = EngineNode.await(() -> engine.status(ALICE, id), s -> !s.lateEvidence().isEmpty(), WAIT,
        "the late notice recorded");
    assertEquals(DeliveryStatus.DELIVERED, after.status());
    assertEquals(1, after.lateEvidence().size(), "a duplicate is recorded once");
    assertEquals(delivered.evidence().size(), after.evidence().size());
  }

  // ---- helpers ----

  private MailStatus submitAndAwaitCop(String recipient, String id, Flavour flavour, long deadline) throws Exception {
    engine.submit(ALICE, id, recipient, mail("hello carol"), deadline, flavour).toCompletableFuture().get();
    return EngineNode.await(() -> engine.status(ALICE, id), s -> !s.label().isEmpty(), WAIT, "COP");
  }

  private static void send(String from, String to, EntityKind kind, String key, ProtocolMessage message) {
    SignedEnvelope envelope = new EnvelopeSealer(network.keys.get(from), clock).seal(to, message);
    ClusterSharding sharding = ClusterSharding.get(node.system);
    Inbound inbound = new Inbound(envelope.toByteArray());
    switch (kind) {
      case OUTBOX -> sharding.entityRefFor(OutboxEntry.typeKey(to), EntityKind.entityId(to, key)).tell(inbound);
      case SERVER -> sharding.entityRefFor(MailServer.typeKey(to), EntityKind.entityId(to, key)).tell(inbound);
      case INBOX -> sharding.entityRefFor(InboxEntry.typeKey(to), EntityKind.entityId(to, key)).tell(inbound);
    }
  }

  static MailStatus awaitFinal(String sender, String id) {
    return EngineNode.await(() -> engine.status(sender, id), MailStatus::isFinal, WAIT, "a verdict for " + id);
  }

  static List<VerifiedEvidence> verified(List<byte[]> items) throws Exception {
    List<VerifiedEvidence> result = new ArrayList<>();
    for (byte[] item : items) {
      result.add(verifier.verify(SignedEvidence.parseFrom(item)));
    }
    return result;
  }

  private static long deadlineOf(MailStatus status) throws Exception {
    return verified(List.of(status.evidence().get(0))).get(0).statement().getDeadlineMillis();
  }

  static MailItem mail(String subject) {
    return MailItem.newBuilder().setSubject(subject).setBody("Dear recipient, " + subject + ".")
        .setContentType("text/plain; charset=utf-8").build();
  }

  static long deadline() {
    return clock.millis() + Duration.ofMinutes(10).toMillis();
  }

  static String newId() {
    return UUID.randomUUID().toString();
  }
}
