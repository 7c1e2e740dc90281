package net.certmail.protocol.sender;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.KeyAlgorithm;
import net.certmail.crypto.NetworkCa;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.crypto.TrustStore;
import net.certmail.crypto.VerificationException;
import net.certmail.proto.v1.CopReply;
import net.certmail.proto.v1.DeliveryReport;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.EtsiEvent;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.NonDeliveryNotice;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.Receipt;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.StatusAnswer;
import net.certmail.proto.v1.StatusQuery;
import net.certmail.proto.v1.SubmissionRejected;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Input;
import net.certmail.protocol.Labels;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.RoleMachine;
import net.certmail.protocol.Signatures;
import net.certmail.protocol.SubmissionId;
import net.certmail.protocol.TestPrincipals;
import net.certmail.protocol.Timings;
import net.certmail.protocol.sender.SenderStage.AwaitingCop;
import net.certmail.protocol.sender.SenderStage.Concluded;
import net.certmail.protocol.sender.SenderStage.InDelivery;
import net.certmail.protocol.sender.SenderStage.Outcome;
import org.junit.jupiter.api.Test;

/**
 * A's side of one mail as a pure machine: real Ed25519 evidence, fixed instants, no actors. Each
 * hole of issue 8 that A can close has its test: off-route and late NDNs, COPs for someone else,
 * RODs bound to another COD, a submission nobody answers, asking the origin before LOST, and
 * late evidence from anyone.
 */
class SenderMachineTest {
  static final String ALPHA = "alpha.example";
  static final String RELAY = "relay.example";
  static final String BETA = "beta.example";
  static final String GAMMA = "gamma.example";
  static final String ALICE = "alice@alpha.example";
  static final String ERIN = "erin@alpha.example";
  static final String BOB = "bob@beta.example";
  static final List<String> ROUTE = List.of(ALPHA, RELAY, BETA);

  static final long NOW = Instant.parse("2026-11-28T12:00:00Z").toEpochMilli();
  static final long T = NOW + Duration.ofMinutes(10).toMillis();
  static final String ID = "k1";
  static final String LABEL = Labels.forSubmission(ALPHA, ALICE, ID);
  static final byte[] CONTENT = "Dear Bob, the contract.".getBytes(StandardCharsets.UTF_8);

  static final Timings TIMINGS = new Timings(Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofMillis(100),
      Duration.ofSeconds(1), Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofSeconds(30),
      Duration.ofSeconds(5), Duration.ofMinutes(1), Duration.ofSeconds(5));
  static final long LOST_AFTER = TIMINGS.lostAfter(T);

  static final Keys KEYS = new Keys(List.of(ALPHA, RELAY, BETA, GAMMA, ALICE, ERIN, BOB));

  /** A's evidence crypto, counting what it verifies. */
  final TestPrincipals.CountingSignatures signatures = new TestPrincipals.CountingSignatures(KEYS.signaturesOf(ALICE));
  final SenderMachine machine = new SenderMachine(ALICE, ID, TIMINGS, signatures);
  SenderStage stage = machine.empty();

  // ---- phase 1 ----

  @Test
  void submissionIsPersistedAndSentToTheSendersHomeServer() {
    Decision<OutboxEvent> decision = run(submit(), NOW);
    assertEquals(1, decision.events().size());
    assertEquals(ALPHA, decision.events().get(0).getMailSubmitted().getOriginServer());
    assertEquals(LOST_AFTER, decision.events().get(0).getMailSubmitted().getLostAfterMillis());
    Outgoing sent = decision.messages().get(0);
    assertEquals(Addressee.server(ALPHA, LABEL), sent.to());
    assertEquals(ID, sent.message().getSubmission().getSubmissionId());
    assertInstanceOf(AwaitingCop.class, stage);
    assertEquals(DeliveryStatus.SUBMITTED, SenderStatus.of(stage).status());
  }

  @Test
  void submissionIdShapedLikeALabelOrEntityIdIsRefused() {
    for (String id : List.of("alpha.example/0123", "a|b", " ", "", "a b", "x".repeat(129))) {
      SenderMachine other = new SenderMachine(ALICE, id, TIMINGS, KEYS.signaturesOf(ALICE));
      Decision<OutboxEvent> decision = other.decide(other.empty(), submit(), NOW);
      assertTrue(decision.events().isEmpty(), id);
      assertTrue(decision.problem().startsWith("a submission id is"), decision.problem());
      assertThrows(IllegalArgumentException.class, () -> SubmissionId.parse(id));
    }
    assertEquals("k-1.2~_", SubmissionId.parse("k-1.2~_").value());
    assertEquals("x".repeat(128), SubmissionId.parse("x".repeat(128)).value());
  }

  @Test
  void sameIdForAnotherMailIsTurnedDownAndTheSameMailAgainChangesNothing() {
    run(submit(), NOW);
    Decision<OutboxEvent> again = run(submit(), NOW + 10);
    assertTrue(again.events().isEmpty() && again.messages().isEmpty());
    assertNull(again.problem());
    Decision<OutboxEvent> other = run(new SenderMachine.Submit(BOB, "another mail".getBytes(StandardCharsets.UTF_8), T,
        Flavour.CEM, null), NOW + 20);
    assertTrue(other.problem().contains("already used"), other.problem());
    assertTrue(other.events().isEmpty());
  }

  @Test
  void messageForASubmissionNeverMadeIsIgnored() {
    Decision<OutboxEvent> decision = run(received(ALPHA, copReply(cop())), NOW);
    assertEquals("NO_SUCH_MAIL", decision.ignored().get(0).reason());
    assertEquals(machine.empty(), stage);
  }

  @Test
  void submissionIsResentOnTheScheduleUntilTheCop() {
    run(submit(), NOW);
    assertEquals(NOW + 100, machine.dueAt(stage, NOW));
    Decision<OutboxEvent> resend = run(Input.WakeUp.INSTANCE, NOW + 100);
    assertTrue(resend.events().isEmpty());
    assertEquals(ProtocolMessage.MessageCase.SUBMISSION, resend.messages().get(0).message().getMessageCase());
    assertEquals(NOW + 300, machine.dueAt(stage, NOW + 100), "backoff doubles");

    run(received(ALPHA, copReply(cop())), NOW + 150);
    InDelivery delivery = assertInstanceOf(InDelivery.class, stage);
    assertEquals(LABEL, delivery.posting().label());
    assertEquals(DeliveryStatus.IN_DELIVERY, SenderStatus.of(stage).status());
    assertEquals(T, machine.dueAt(stage, NOW + 150), "nothing to do before T");
  }

  @Test
  void copForAnotherSenderOrLabelIsRejected() {
    run(submit(), NOW);
    // erin's genuine COP, sent to alice's entry: valid as a COP, but not alice's.
    String erinsLabel = Labels.forSubmission(ALPHA, ERIN, ID);
    assertIgnored("EVIDENCE_MISMATCH", run(received(ALPHA, copReply(sign(ALPHA, EvidenceStatements.cop(ALPHA,
        erinsLabel, ERIN, BOB, ContentHash.of(CONTENT), T, Flavour.CEM, ID, ROUTE, NOW)))), NOW + 1));
    // alice's submission id under a label the origin did not derive from it.
    String otherLabel = Labels.forSubmission(ALPHA, ALICE, "k2");
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, copReply(sign(ALPHA, EvidenceStatements.cop(ALPHA,
        otherLabel, ALICE, BOB, ContentHash.of(CONTENT), T, Flavour.CEM, ID, ROUTE, NOW)))), NOW + 2));
    // a COP for alice's other submission k2.
    assertIgnored("EVIDENCE_MISMATCH", run(received(ALPHA, copReply(sign(ALPHA, EvidenceStatements.cop(ALPHA,
        otherLabel, ALICE, BOB, ContentHash.of(CONTENT), T, Flavour.CEM, "k2", ROUTE, NOW)))), NOW + 3));
    // a COP over other content, deadline or flavour.
    assertIgnored("EVIDENCE_MISMATCH", run(received(ALPHA, copReply(sign(ALPHA, EvidenceStatements.cop(ALPHA,
        LABEL, ALICE, BOB, ContentHash.of(new byte[] {1}), T, Flavour.CEM, ID, ROUTE, NOW)))), NOW + 4));
    assertIgnored("EVIDENCE_MISMATCH", run(received(ALPHA, copReply(sign(ALPHA, EvidenceStatements.cop(ALPHA,
        LABEL, ALICE, BOB, ContentHash.of(CONTENT), T + 1, Flavour.CEM, ID, ROUTE, NOW)))), NOW + 5));
    assertIgnored("EVIDENCE_MISMATCH", run(received(ALPHA, copReply(sign(ALPHA, EvidenceStatements.cop(ALPHA,
        LABEL, ALICE, BOB, ContentHash.of(CONTENT), T, Flavour.IP, ID, ROUTE, NOW)))), NOW + 6));
    // a squatter's COP for alice's label, whether it sends it itself or through the origin.
    SignedEvidence squatted = sign(GAMMA, EvidenceStatements.cop(GAMMA, LABEL, ALICE, BOB, ContentHash.of(CONTENT),
        T, Flavour.CEM, ID, List.of(GAMMA, BETA), NOW));
    assertIgnored("WRONG_PARTY", run(received(GAMMA, copReply(squatted)), NOW + 7));
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, copReply(squatted)), NOW + 8));
    // a signature that is not over this statement
    SignedEvidence forged = cop().toBuilder().setSignature(sign(ALPHA, EvidenceStatements.cop(ALPHA, LABEL, ALICE, BOB,
        ContentHash.of(CONTENT), T + 1, Flavour.CEM, ID, ROUTE, NOW)).getSignature()).build();
    assertIgnored("INVALID_EVIDENCE", run(received(ALPHA, copReply(forged)), NOW + 9));
    assertInstanceOf(AwaitingCop.class, stage);

    run(received(ALPHA, copReply(cop())), NOW + 10);
    assertInstanceOf(InDelivery.class, stage);
  }

  @Test
  void signedRejectionFromTheOriginEndsNotDeliveredWithItsReason() {
    run(submit(), NOW);
    SignedEvidence otherSubmission = sign(ALPHA, EvidenceStatements.submissionRejection(ALPHA, ALICE, BOB,
        ContentHash.of(CONTENT), T, Flavour.CEM, "k2", ReasonCode.UNKNOWN_RECIPIENT, "no bob", NOW));
    assertIgnored("EVIDENCE_MISMATCH", run(received(ALPHA, rejected(otherSubmission)), NOW + 1));
    SignedEvidence rejection = sign(ALPHA, EvidenceStatements.submissionRejection(ALPHA, ALICE, BOB,
        ContentHash.of(CONTENT), T, Flavour.CEM, ID, ReasonCode.DEADLINE_NOT_ACCEPTABLE, "too soon", NOW));
    assertIgnored("WRONG_PARTY", run(received(GAMMA, rejected(rejection)), NOW + 2));

    run(received(ALPHA, rejected(rejection)), NOW + 3);
    Concluded concluded = assertInstanceOf(Concluded.class, stage);
    assertEquals(Outcome.NOT_DELIVERED, concluded.status());
    assertEquals(ReasonCode.DEADLINE_NOT_ACCEPTABLE, concluded.reason());
    assertEquals(List.of(rejection), concluded.evidence());
    assertEquals(RoleMachine.NEVER, machine.dueAt(stage, NOW + 3));
  }

  @Test
  void rejectionOfAnotherMailUnderTheSameIdIsIgnored() {
    // Found by the simulator: erin submitted in alice's name under alice's id; the origin's refusal
    // of that submission must not end alice's own mail.
    run(submit(), NOW);
    SignedEvidence spoofed = sign(ALPHA, EvidenceStatements.submissionRejection(ALPHA, ALICE, ERIN,
        ContentHash.of("forged".getBytes(StandardCharsets.UTF_8)), T, Flavour.CEM, ID, ReasonCode.POLICY_VIOLATION,
        "erin@alpha.example cannot submit for alice@alpha.example", NOW));
    assertIgnored("EVIDENCE_MISMATCH", run(received(ALPHA, rejected(spoofed)), NOW + 1));
    assertInstanceOf(AwaitingCop.class, stage);
  }

  @Test
  void unansweredSubmissionEndsAsNotPosted() {
    run(submit(), NOW);
    long now = NOW;
    int resends = 0;
    while (machine.dueAt(stage, now) < LOST_AFTER) {
      now = machine.dueAt(stage, now);
      Decision<OutboxEvent> decision = run(Input.WakeUp.INSTANCE, now);
      assertTrue(decision.events().isEmpty());
      assertEquals(ProtocolMessage.MessageCase.SUBMISSION, decision.messages().get(0).message().getMessageCase());
      resends++;
    }
    assertTrue(resends > 600, "resent about once a second until T plus grace: " + resends);
    assertEquals(LOST_AFTER, machine.dueAt(stage, now), "the stage ends at T plus grace");

    Decision<OutboxEvent> end = run(Input.WakeUp.INSTANCE, LOST_AFTER);
    assertEquals(OutboxEvent.EventCase.SUBMISSION_UNANSWERED, end.events().get(0).getEventCase());
    assertTrue(end.messages().isEmpty());
    assertEquals(Outcome.NOT_POSTED, assertInstanceOf(Concluded.class, stage).status());
    assertEquals(DeliveryStatus.NOT_POSTED, SenderStatus.of(stage).status());
    assertTrue(SenderStatus.of(stage).isFinal());
    assertEquals(RoleMachine.NEVER, machine.dueAt(stage, LOST_AFTER));
    // a verdict for a submission that was never certified is nothing A can check
    assertIgnored("UNEXPECTED_MESSAGE", run(received(ALPHA, notice(ndn(ALPHA, ReasonCode.RELAY_UNREACHABLE,
        T - 1))), LOST_AFTER + 1));
  }

  // ---- waiting for the verdict ----

  @Test
  void deliveryReportFromTheOriginEndsDeliveredAndIsAnsweredWithAReceipt() {
    certified();
    Report report = report();
    Decision<OutboxEvent> decision = run(received(ALPHA, report.message()), NOW + 60_000);
    assertEquals(OutboxEvent.EventCase.DELIVERY_CONFIRMED, decision.events().get(0).getEventCase());
    assertEquals(List.of(receipt("delivery_report")), decision.messages());
    Concluded concluded = assertInstanceOf(Concluded.class, stage);
    assertEquals(Outcome.DELIVERED, concluded.status());
    assertEquals(List.of(cop(), report.rodN(), report.cod(), report.rod()), concluded.evidence());
    assertEquals(RoleMachine.NEVER, machine.dueAt(stage, NOW + 60_000));
  }

  @Test
  void originsNoteThatTheRecipientHoldsTheMailIsRecordedOnceAndShown() {
    certified();
    ProtocolMessage note = ProtocolMessage.newBuilder().setStatusAnswer(StatusAnswer.newBuilder()
        .setLabel(LABEL).setStatus(DeliveryStatus.AWAITING_COLLECTION)).build();
    long due = machine.dueAt(stage, NOW + 200);
    Decision<OutboxEvent> noted = run(received(ALPHA, note), NOW + 200);
    assertEquals(List.of(OutboxEvent.EventCase.RECIPIENT_NOTIFIED),
        noted.events().stream().map(OutboxEvent::getEventCase).toList());
    assertEquals(DeliveryStatus.AWAITING_COLLECTION, SenderStatus.of(stage).status());
    assertEquals(due, machine.dueAt(stage, NOW + 200), "A still sleeps until T");
    assertTrue(run(received(ALPHA, note), NOW + 300).events().isEmpty(), "recorded once");
    assertIgnored("WRONG_PARTY", run(received(BETA, note), NOW + 300));
  }

  @Test
  void rodBoundToAnotherCodIsRejected() {
    certified();
    Report genuine = report();
    // Another COD of bob's for the same label (a minute earlier): ROD and ROD_n must name this one.
    byte[] otherCod = EvidenceStatements.cod(BOB, BETA, LABEL, ALICE, Flavour.CEM, ContentHash.of(CONTENT),
        NOW + 1_000).toByteArray();
    SignedEvidence rodOfOtherCod = sign(ALPHA, EvidenceStatements.rod(ALPHA, BETA, LABEL, ALICE, BOB, otherCod,
        NOW + 62_000));
    assertIgnored("EVIDENCE_MISMATCH", run(received(ALPHA, genuine.withRod(rodOfOtherCod).message()), NOW + 63_000));
    SignedEvidence rodNOfOtherCod = sign(BETA, EvidenceStatements.rodN(BETA, LABEL, ALICE, BOB, otherCod,
        NOW + 62_000));
    assertIgnored("EVIDENCE_MISMATCH", run(received(ALPHA, genuine.withRodN(rodNOfOtherCod).message()),
        NOW + 63_000));
    // A ROD naming another delivering server (its counterparty), and one not by the origin.
    byte[] codBytes = genuine.cod().getStatement().toByteArray();
    SignedEvidence rodForRelay = sign(ALPHA, EvidenceStatements.rod(ALPHA, RELAY, LABEL, ALICE, BOB, codBytes,
        NOW + 62_000));
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, genuine.withRod(rodForRelay).message()), NOW + 63_000));
    SignedEvidence rodByRelay = sign(RELAY, EvidenceStatements.rod(RELAY, BETA, LABEL, ALICE, BOB, codBytes,
        NOW + 62_000));
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, genuine.withRod(rodByRelay).message()), NOW + 63_000));
    // A COD over other content, and a COD signed by someone other than bob.
    SignedEvidence codOverOther = sign(BOB, EvidenceStatements.cod(BOB, BETA, LABEL, ALICE, Flavour.CEM,
        ContentHash.of(new byte[] {7}), NOW + 61_000));
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, report(codOverOther).message()), NOW + 63_000));
    SignedEvidence codByErin = sign(ERIN, EvidenceStatements.cod(ERIN, BETA, LABEL, ALICE, Flavour.CEM,
        ContentHash.of(CONTENT), NOW + 61_000));
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, report(codByErin).message()), NOW + 63_000));
    assertInstanceOf(InDelivery.class, stage);

    run(received(ALPHA, genuine.message()), NOW + 64_000);
    assertEquals(Outcome.DELIVERED, assertInstanceOf(Concluded.class, stage).status());
  }

  @Test
  void offRouteNonDeliveryNoticeIsIgnored() {
    certified();
    // Signed NDNs that P1 might pass on: by a mailbox, by a server off the route, by Pn for a
    // reason only a relay can give, and sent straight to A by a server other than the origin.
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, notice(ndn(ERIN, ReasonCode.RECIPIENT_REFUSED, NOW + 1_000))),
        NOW + 2_000));
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, notice(ndn(GAMMA, ReasonCode.RELAY_UNREACHABLE, NOW + 1_000))),
        NOW + 2_000));
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, notice(ndn(BETA, ReasonCode.RELAY_UNREACHABLE, NOW + 1_000))),
        NOW + 2_000));
    assertIgnored("WRONG_PARTY", run(received(RELAY, notice(ndn(RELAY, ReasonCode.RELAY_UNREACHABLE, NOW + 1_000))),
        NOW + 2_000));
    assertInstanceOf(InDelivery.class, stage);

    SignedEvidence onRoute = ndn(RELAY, ReasonCode.RELAY_UNREACHABLE, NOW + 1_000);
    Decision<OutboxEvent> decision = run(received(ALPHA, notice(onRoute)), NOW + 2_000);
    assertEquals(List.of(receipt("non_delivery_notice")), decision.messages());
    Concluded concluded = assertInstanceOf(Concluded.class, stage);
    assertEquals(Outcome.NOT_DELIVERED, concluded.status());
    assertEquals(ReasonCode.RELAY_UNREACHABLE, concluded.reason());
    assertEquals(List.of(cop(), onRoute), concluded.evidence());
  }

  @Test
  void nonDeliveryNoticeIssuedAfterDeadlineIsIgnored() {
    certified();
    // P1 was down from T - 10 s to T + 30 s, then signed its NDN with the time it came back.
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, notice(ndn(ALPHA, ReasonCode.DEADLINE_EXPIRED, T + 30_000))),
        T + 30_001));
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, notice(ndn(ALPHA, ReasonCode.DEADLINE_EXPIRED, T))), T + 30_002));
    assertInstanceOf(InDelivery.class, stage);

    run(Input.WakeUp.INSTANCE, LOST_AFTER);
    Concluded concluded = assertInstanceOf(Concluded.class, stage);
    assertEquals(Outcome.LOST, concluded.status(), "no verdict before T: LOST with a claim, not NOT_DELIVERED");
  }

  @Test
  void nonDeliveryNoticeIssuedBeforeDeadlineIsAVerdictEvenWhenItArrivesAfter() {
    certified();
    run(received(ALPHA, notice(ndn(ALPHA, ReasonCode.DEADLINE_EXPIRED, T - 1))), T + 30_000);
    assertEquals(Outcome.NOT_DELIVERED, assertInstanceOf(Concluded.class, stage).status());
  }

  @Test
  void senderAsksOriginAfterDeadlineBeforeDeclaringLost() {
    certified();
    assertEquals(T, machine.dueAt(stage, NOW + 1_000));
    assertTrue(run(Input.WakeUp.INSTANCE, T - 1).messages().isEmpty(), "nothing to ask before T");

    Outgoing query = new Outgoing(Addressee.server(ALPHA, LABEL), ProtocolMessage.newBuilder()
        .setStatusQuery(StatusQuery.newBuilder().setSubmissionId(ID).setLabel(LABEL)).build());
    long now = T;
    int queries = 0;
    while (now < LOST_AFTER) {
      Decision<OutboxEvent> decision = run(Input.WakeUp.INSTANCE, now);
      assertEquals(List.of(query), decision.messages(), "at " + (now - T) + " ms after T");
      assertTrue(decision.events().isEmpty());
      queries++;
      long due = machine.dueAt(stage, now);
      assertTrue(due > now && due <= LOST_AFTER);
      now = due;
    }
    assertTrue(queries > 50, "asked about once a second from T to T plus grace: " + queries);

    Decision<OutboxEvent> lost = run(Input.WakeUp.INSTANCE, LOST_AFTER);
    assertTrue(lost.messages().isEmpty());
    Concluded concluded = assertInstanceOf(Concluded.class, stage);
    assertEquals(Outcome.LOST, concluded.status());
    EvidenceStatement claim = KEYS.verify(concluded.evidence().get(1), EvidenceKind.COMPENSATION_CLAIM);
    assertEquals(ALICE, claim.getIssuer());
    assertEquals(cop(), claim.getClaimedCop());
    assertEquals(TIMINGS.grace().toMillis(), claim.getGraceMillis());
    assertTrue(claim.getIssuedAtMillis() >= T + claim.getGraceMillis());
  }

  @Test
  void verdictResentInAnswerToTheQueryEndsTheWait() {
    certified();
    run(Input.WakeUp.INSTANCE, T);
    Report report = report();
    run(received(ALPHA, report.message()), T + 5_000);
    assertEquals(Outcome.DELIVERED, assertInstanceOf(Concluded.class, stage).status());
    assertEquals(RoleMachine.NEVER, machine.dueAt(stage, T + 5_000));
  }

  // ---- after the outcome ----

  @Test
  void resentVerdictThatAHoldsIsConfirmedWithoutVerifyingItAgain() {
    certified();
    Report report = report();
    run(received(ALPHA, report.message()), NOW + 60_000);
    int verified = signatures.verified();

    Decision<OutboxEvent> duplicate = run(received(ALPHA, report.message()), NOW + 61_000);
    assertEquals(List.of(receipt("delivery_report")), duplicate.messages());
    assertTrue(duplicate.events().isEmpty());
    assertEquals(verified, signatures.verified(), "the held ROD_n, COD and ROD are not verified again");

    // One item A does not hold (a forged ROD beside the held ROD_n and COD): the report is checked in full.
    SignedEvidence forged = report.rod().toBuilder().setSignature(report.rodN().getSignature()).build();
    assertIgnored("INVALID_EVIDENCE", run(received(ALPHA, report.withRod(forged).message()), NOW + 62_000));
    assertTrue(signatures.verified() > verified);
  }

  @Test
  void lateEvidenceIsRecordedOnlyWhenEntitledAndBounded() {
    certified();
    Report report = report();
    run(received(ALPHA, report.message()), NOW + 60_000);
    Concluded delivered = assertInstanceOf(Concluded.class, stage);

    // The verdict again: nothing new to record, but a receipt so that the origin stops resending.
    Decision<OutboxEvent> duplicate = run(received(ALPHA, report.message()), NOW + 61_000);
    assertTrue(duplicate.events().isEmpty());
    assertEquals(List.of(receipt("delivery_report")), duplicate.messages());

    // Junk: off-route, after T, forged, or not from the origin. Nothing recorded, nothing answered.
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, notice(ndn(GAMMA, ReasonCode.RELAY_UNREACHABLE, NOW))),
        NOW + 62_000));
    assertIgnored("NOT_ENTITLED", run(received(ALPHA, notice(ndn(ALPHA, ReasonCode.RELAY_UNREACHABLE, T))),
        T + 1));
    SignedEvidence forged = ndn(ALPHA, ReasonCode.RELAY_UNREACHABLE, NOW).toBuilder()
        .setSignature(ndn(GAMMA, ReasonCode.RELAY_UNREACHABLE, NOW).getSignature()).build();
    assertIgnored("INVALID_EVIDENCE", run(received(ALPHA, notice(forged)), NOW + 62_000));
    assertIgnored("WRONG_PARTY", run(received(BETA, report.message()), NOW + 62_000));
    assertEquals(delivered, stage);

    // An entitled NDN after the verdict: recorded as late once, answered each time; never flips it.
    SignedEvidence conflicting = ndn(ALPHA, ReasonCode.RELAY_UNREACHABLE, NOW + 30_000);
    Decision<OutboxEvent> recorded = run(received(ALPHA, notice(conflicting)), NOW + 63_000);
    assertEquals(List.of(conflicting), recorded.events().get(0).getLateEvidenceRecorded().getEvidenceList());
    assertEquals(List.of(receipt("non_delivery_notice")), recorded.messages());
    Decision<OutboxEvent> again = run(received(ALPHA, notice(conflicting)), NOW + 64_000);
    assertTrue(again.events().isEmpty());
    assertEquals(1, again.messages().size());

    // Up to the bound, and not one item more.
    for (int i = 1; i < SenderMachine.MAX_LATE_ITEMS; i++) {
      run(received(ALPHA, notice(ndn(ALPHA, ReasonCode.RELAY_UNREACHABLE, NOW + 30_000 + i))), NOW + 65_000);
    }
    assertEquals(SenderMachine.MAX_LATE_ITEMS, assertInstanceOf(Concluded.class, stage).late().size());
    Decision<OutboxEvent> beyond = run(received(ALPHA, notice(ndn(ALPHA, ReasonCode.RELAY_UNREACHABLE,
        NOW + 40_000))), NOW + 66_000);
    assertTrue(beyond.events().isEmpty());
    assertEquals("LATE_EVIDENCE_LIMIT", beyond.ignored().get(0).reason());
    assertEquals(1, beyond.messages().size(), "still answered with a receipt");

    Concluded after = assertInstanceOf(Concluded.class, stage);
    assertEquals(Outcome.DELIVERED, after.status());
    assertEquals(delivered.evidence(), after.evidence());
    assertEquals(SenderMachine.MAX_LATE_ITEMS, after.late().size());
  }

  @Test
  void lostMailKeepsAVerdictThatComesLaterAsLateEvidence() {
    certified();
    run(Input.WakeUp.INSTANCE, LOST_AFTER);
    Report report = report();
    Decision<OutboxEvent> decision = run(received(ALPHA, report.message()), LOST_AFTER + 1_000);
    assertEquals(3, decision.events().get(0).getLateEvidenceRecorded().getEvidenceCount());
    Concluded concluded = assertInstanceOf(Concluded.class, stage);
    assertEquals(Outcome.LOST, concluded.status());
    assertEquals(3, concluded.late().size());
  }

  @Test
  void replayingTheEventsRebuildsTheSameStage() {
    List<OutboxEvent> journal = new ArrayList<>();
    journal.addAll(run(submit(), NOW).events());
    journal.addAll(run(received(ALPHA, copReply(cop())), NOW + 1).events());
    journal.addAll(run(received(ALPHA, report().message()), NOW + 60_000).events());
    journal.addAll(run(received(ALPHA, notice(ndn(ALPHA, ReasonCode.RELAY_UNREACHABLE, NOW + 30_000))), NOW + 61_000)
        .events());
    assertEquals(4, journal.size());
    assertEquals(stage, machine.applyAll(machine.empty(), journal));
  }

  // ---- fixtures ----

  Decision<OutboxEvent> run(Input input, long now) {
    Decision<OutboxEvent> decision = machine.decide(stage, input, now);
    stage = machine.applyAll(stage, decision.events());
    return decision;
  }

  void certified() {
    run(submit(), NOW);
    run(received(ALPHA, copReply(cop())), NOW + 100);
    assertInstanceOf(InDelivery.class, stage);
  }

  static SenderMachine.Submit submit() {
    return new SenderMachine.Submit(BOB, CONTENT, T, Flavour.CEM, null);
  }

  static Input.Received received(String from, ProtocolMessage message) {
    return new Input.Received(from, message);
  }

  static void assertIgnored(String reason, Decision<OutboxEvent> decision) {
    assertTrue(decision.events().isEmpty(), "nothing persisted");
    assertTrue(decision.messages().isEmpty(), "nothing sent");
    assertEquals(1, decision.ignored().size(), decision.toString());
    assertEquals(reason, decision.ignored().get(0).reason(), decision.ignored().get(0).detail());
  }

  static EvidenceStatement copStatement() {
    return EvidenceStatements.cop(ALPHA, LABEL, ALICE, BOB, ContentHash.of(CONTENT), T, Flavour.CEM, ID, ROUTE, NOW);
  }

  static SignedEvidence cop() {
    return sign(ALPHA, copStatement());
  }

  static ProtocolMessage copReply(SignedEvidence cop) {
    return ProtocolMessage.newBuilder().setCopReply(CopReply.newBuilder().setSubmissionId(ID).setLabel(LABEL)
        .setCop(cop)).build();
  }

  static ProtocolMessage rejected(SignedEvidence rejection) {
    return ProtocolMessage.newBuilder().setSubmissionRejected(SubmissionRejected.newBuilder().setSubmissionId(ID)
        .setRejection(rejection)).build();
  }

  static SignedEvidence ndn(String issuer, ReasonCode reason, long issuedAt) {
    return sign(issuer, EvidenceStatements.ndn(issuer, LABEL, ALICE, BOB, EtsiEvent.CONTENT_CONSIGNMENT_FAILURE,
        reason, "no", issuedAt));
  }

  static ProtocolMessage notice(SignedEvidence ndn) {
    return ProtocolMessage.newBuilder().setNonDeliveryNotice(NonDeliveryNotice.newBuilder().setLabel(LABEL)
        .setNdn(ndn)).build();
  }

  static Outgoing receipt(String acknowledged) {
    return new Outgoing(Addressee.server(ALPHA, LABEL), ProtocolMessage.newBuilder()
        .setReceipt(Receipt.newBuilder().setLabel(LABEL).setAcknowledged(acknowledged)).build());
  }

  /** Bob's COD, Pn's ROD_n and P1's ROD, each bound to that COD. */
  record Report(SignedEvidence rodN, SignedEvidence cod, SignedEvidence rod) {
    ProtocolMessage message() {
      return ProtocolMessage.newBuilder().setDeliveryReport(DeliveryReport.newBuilder().setLabel(LABEL)
          .setRodN(rodN).setCod(cod).setRod(rod)).build();
    }

    Report withRod(SignedEvidence other) {
      return new Report(rodN, cod, other);
    }

    Report withRodN(SignedEvidence other) {
      return new Report(other, cod, rod);
    }
  }

  static Report report() {
    return report(sign(BOB, EvidenceStatements.cod(BOB, BETA, LABEL, ALICE, Flavour.CEM, ContentHash.of(CONTENT),
        NOW + 61_000)));
  }

  static Report report(SignedEvidence cod) {
    byte[] codBytes = cod.getStatement().toByteArray();
    return new Report(sign(BETA, EvidenceStatements.rodN(BETA, LABEL, ALICE, BOB, codBytes, NOW + 61_500)), cod,
        sign(ALPHA, EvidenceStatements.rod(ALPHA, BETA, LABEL, ALICE, BOB, codBytes, NOW + 62_000)));
  }

  static SignedEvidence sign(String principal, EvidenceStatement statement) {
    return KEYS.signaturesOf(principal).sign(statement);
  }

  /** A network CA and Ed25519 keys for the principals, with certificates valid around NOW. */
  static final class Keys {
    final Map<String, PrincipalKeys> keys = new HashMap<>();
    final EvidenceVerifier verifier;

    Keys(List<String> principals) {
      Clock issued = Clock.fixed(Instant.ofEpochMilli(NOW).minus(Duration.ofDays(1)), ZoneOffset.UTC);
      NetworkCa ca = NetworkCa.create("sender test CA", KeyAlgorithm.ED25519, Duration.ofDays(3650), issued);
      for (String principal : principals) {
        String organisation = principal.substring(principal.indexOf('@') + 1);
        keys.put(principal, ca.issue(principal, organisation, KeyAlgorithm.ED25519, Duration.ofDays(365)));
      }
      verifier = new EvidenceVerifier(new TrustStore(ca.certificate(),
          keys.values().stream().map(PrincipalKeys::certificate).toList()));
    }

    /** What a node gives the core: signing as one principal, verifying anyone's evidence. */
    Signatures signaturesOf(String principal) {
      EvidenceSigner signer = new EvidenceSigner(keys.get(principal));
      return new Signatures() {
        @Override
        public SignedEvidence sign(EvidenceStatement statement) {
          return signer.sign(statement);
        }

        @Override
        public EvidenceStatement verify(SignedEvidence item, EvidenceKind kind) throws InvalidEvidence {
          try {
            return verifier.verify(item, kind).statement();
          } catch (VerificationException e) {
            throw new InvalidEvidence(e.getMessage());
          }
        }
      };
    }

    EvidenceStatement verify(SignedEvidence item, EvidenceKind kind) {
      try {
        return verifier.verify(item, kind).statement();
      } catch (VerificationException e) {
        throw new AssertionError(e);
      }
    }
  }
}
