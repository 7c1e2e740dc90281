package net.certmail.protocol.server;

import static net.certmail.protocol.TestPrincipals.ALICE;
import static net.certmail.protocol.TestPrincipals.ALPHA;
import static net.certmail.protocol.TestPrincipals.BETA;
import static net.certmail.protocol.TestPrincipals.BOB;
import static net.certmail.protocol.TestPrincipals.ERIN;
import static net.certmail.protocol.TestPrincipals.GAMMA;
import static net.certmail.protocol.TestPrincipals.NOW;
import static net.certmail.protocol.TestPrincipals.RELAY;
import static net.certmail.protocol.TestPrincipals.RULES;
import static net.certmail.protocol.TestPrincipals.TIMINGS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.util.List;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.proto.v1.CodReply;
import net.certmail.proto.v1.ContentFetch;
import net.certmail.proto.v1.DeliveryReport;
import net.certmail.proto.v1.EtsiEvent;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.NonDeliveryNotice;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.Relay;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.Submission;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Input;
import net.certmail.protocol.Labels;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.RoleMachine;
import net.certmail.protocol.TestPrincipals;
import org.junit.jupiter.api.Test;

/**
 * The server's rules as a pure machine: each test drives one server of the route alpha.example ->
 * relay.example -> beta.example with well-signed messages, some from principals who hold valid
 * certificates but are not entitled to say what they say.
 */
class ServerMachineTest {
  static final TestPrincipals KEYS = new TestPrincipals();
  static final long T = NOW + 60_000;
  static final String ID = "submission-1";
  static final String LABEL = Labels.forSubmission(ALPHA, ALICE, ID);
  static final byte[] CONTENT = "the mail".getBytes();

  /** One server's machine and its stage, stepped like its entity would be. */
  static final class Server {
    final ServerMachine machine;
    ServerStage stage;

    /** The server's evidence crypto, counting what it verifies. */
    final TestPrincipals.CountingSignatures signatures;

    Server(String server, String label) {
      signatures = new TestPrincipals.CountingSignatures(KEYS.of(server));
      machine = new ServerMachine(server, label, RULES, signatures);
      stage = machine.empty();
    }

    Decision<ServerEvent> receive(String from, ProtocolMessage message, long now) {
      return step(new Input.Received(from, message), now);
    }

    Decision<ServerEvent> wakeUp(long now) {
      return step(Input.WakeUp.INSTANCE, now);
    }

    Decision<ServerEvent> step(Input input, long now) {
      Decision<ServerEvent> decision = machine.decide(stage, input, now);
      stage = machine.applyAll(stage, decision.events());
      return decision;
    }
  }

  static ProtocolMessage submission(Flavour flavour) {
    return ProtocolMessage.newBuilder().setSubmission(Submission.newBuilder().setSubmissionId(ID).setSender(ALICE)
        .setRecipient(BOB).setContent(ByteString.copyFrom(CONTENT)).setDeadlineMillis(T).setFlavour(flavour)).build();
  }

  /** P1 after taking alice's submission: COP signed, relaying to relay.example. */
  static Server originForwarding(Flavour flavour) {
    Server alpha = new Server(ALPHA, LABEL);
    Decision<ServerEvent> decision = alpha.receive(ALICE, submission(flavour), NOW);
    assertInstanceOf(ServerStage.Forwarding.class, alpha.stage, () -> "accepted: " + decision);
    return alpha;
  }

  static SignedEvidence copOf(Server origin) {
    return ((ServerStage.Carrying) origin.stage).carriage().mail().getCop();
  }

  static Relay relayOf(Server from) {
    Relay relay = relayMessage(from.wakeUp(NOW + 1));
    return relay;
  }

  static Relay relayMessage(Decision<ServerEvent> decision) {
    return decision.messages().stream().map(Outgoing::message).filter(ProtocolMessage::hasRelay)
        .map(ProtocolMessage::getRelay).findFirst().orElseThrow(() -> new AssertionError("no relay in " + decision));
  }

  /** beta.example holding the mail as Pn, notifying bob. */
  static Server destinationDelivering(Flavour flavour, long at) {
    Server alpha = originForwarding(flavour);
    Server relay = new Server(RELAY, LABEL);
    relay.receive(ALPHA, ProtocolMessage.newBuilder().setRelay(relayOf(alpha)).build(), at);
    Server beta = new Server(BETA, LABEL);
    beta.receive(RELAY, ProtocolMessage.newBuilder().setRelay(relayOf(relay)).build(), at);
    assertInstanceOf(ServerStage.Delivering.class, beta.stage);
    return beta;
  }

  static SignedEvidence cod(Flavour flavour, long at) {
    byte[] hash = flavour == Flavour.NSR ? new byte[0]
        : flavour == Flavour.IP ? ContentHash.labelled(LABEL, CONTENT) : ContentHash.of(CONTENT);
    return KEYS.of(BOB).sign(EvidenceStatements.cod(BOB, BETA, LABEL, ALICE, flavour, hash, at));
  }

  static ProtocolMessage codReply(SignedEvidence cod) {
    return ProtocolMessage.newBuilder().setCodReply(CodReply.newBuilder().setLabel(LABEL).setCod(cod)).build();
  }

  static ProtocolMessage ndnNotice(String issuer, ReasonCode reason, long at) {
    SignedEvidence ndn = KEYS.of(issuer).sign(EvidenceStatements.ndn(issuer, LABEL, ALICE, BOB,
        EtsiEvent.CONTENT_CONSIGNMENT_FAILURE, reason, "says " + issuer, at));
    return ProtocolMessage.newBuilder().setNonDeliveryNotice(NonDeliveryNotice.newBuilder().setLabel(LABEL).setNdn(ndn))
        .build();
  }

  static ProtocolMessage deliveryReport(Flavour flavour, long at) {
    SignedEvidence cod = cod(flavour, at);
    SignedEvidence rodN = KEYS.of(BETA).sign(EvidenceStatements.rodN(BETA, LABEL, ALICE, BOB,
        cod.getStatement().toByteArray(), at));
    return ProtocolMessage.newBuilder().setDeliveryReport(DeliveryReport.newBuilder().setLabel(LABEL).setRodN(rodN)
        .setCod(cod)).build();
  }

  static boolean signsNonDelivery(Decision<ServerEvent> decision) {
    return decision.events().stream().anyMatch(e -> e.hasNonDeliveryIssued() || e.hasRefusalAccepted());
  }

  // ---- hole 1: off-route NDNs ----

  @Test
  void nonDeliveryNoticeFromAPrincipalOffTheRouteIsIgnoredByTheOrigin() {
    Server alpha = originForwarding(Flavour.CEM);
    for (String rogue : List.of(ERIN, GAMMA)) {
      Decision<ServerEvent> decision = alpha.receive(rogue, ndnNotice(rogue, ReasonCode.RELAY_UNREACHABLE, NOW + 10),
          NOW + 20);
      assertTrue(decision.events().isEmpty(), rogue + "'s notice must not become the verdict");
      assertEquals("NOT_ENTITLED", decision.ignored().get(0).reason());
    }
    assertTrue(ServerMachine.verdictOf(alpha.stage).isEmpty());
  }

  @Test
  void nonDeliveryNoticeWhoseReasonDoesNotFitTheIssuersPlaceIsIgnored() {
    Server alpha = originForwarding(Flavour.CEM);
    // relay.example is on the route but cannot know that the recipient refused: only Pn can.
    Decision<ServerEvent> decision = alpha.receive(RELAY, ndnNotice(RELAY, ReasonCode.RECIPIENT_REFUSED, NOW + 10),
        NOW + 20);
    assertTrue(decision.events().isEmpty());
    Decision<ServerEvent> fitting = alpha.receive(RELAY, ndnNotice(RELAY, ReasonCode.RELAY_UNREACHABLE, NOW + 10),
        NOW + 20);
    assertTrue(fitting.events().get(0).hasNonDeliveryRecorded(), "the relay may report its next hop unreachable");
  }

  // ---- hole 2: nothing signed or accepted after T ----

  @Test
  void originWokenAfterTheDeadlineSignsNoVerdict() {
    Server alpha = originForwarding(Flavour.CEM);
    Decision<ServerEvent> late = alpha.wakeUp(T + 30_000);
    assertFalse(signsNonDelivery(late), "no NDN is signed after T");
    assertTrue(late.events().get(0).hasDutyEnded());
    assertTrue(ServerMachine.verdictOf(alpha.stage).isEmpty());
    assertEquals(RoleMachine.NEVER, alpha.machine.dueAt(alpha.stage, T + 30_000));
  }

  @Test
  void nonDeliveryNoticeArrivingAfterTheDeadlineIsNotAccepted() {
    Server alpha = originForwarding(Flavour.CEM);
    Decision<ServerEvent> decision = alpha.receive(RELAY, ndnNotice(RELAY, ReasonCode.RELAY_UNREACHABLE, T - 5_000),
        T + 1);
    assertTrue(decision.events().isEmpty());
    Decision<ServerEvent> issuedAfterT = alpha.receive(RELAY, ndnNotice(RELAY, ReasonCode.RELAY_UNREACHABLE, T + 5),
        T - 1);
    assertTrue(issuedAfterT.events().isEmpty(), "an NDN dated after T is no verdict");
  }

  // ---- hole 3: one verdict ----

  @Test
  void reportOfDeliveryWhileStillForwardingEndsTheRelayDutyWithOneVerdict() {
    Server alpha = originForwarding(Flavour.CEM);
    Decision<ServerEvent> certified = alpha.receive(BETA, deliveryReport(Flavour.CEM, NOW + 100), NOW + 200);
    assertTrue(certified.events().get(0).hasDeliveryCertified(), () -> "certified: " + certified);
    assertInstanceOf(ServerStage.ReportingVerdict.class, alpha.stage);
    Decision<ServerEvent> giveUp = alpha.wakeUp(TIMINGS.relayGiveUp(NOW, T) + 1);
    assertFalse(signsNonDelivery(giveUp), "the relay give-up passed after the verdict: no second verdict");
    assertTrue(ServerMachine.publicEvidence(alpha.stage).stream().noneMatch(item -> kindOf(item).equals("NDN")));
  }

  // ---- hole 4: label squatting ----

  @Test
  void relayedCopByAServerThatIsNotTheLabelsOriginIsNotAccepted() {
    // relay.example signs its own COP for a label in alpha.example's namespace and relays it to beta first.
    EvidenceStatement squatted = EvidenceStatements.cop(RELAY, LABEL, ALICE, BOB, ContentHash.of(CONTENT), T,
        Flavour.CEM, ID, List.of(RELAY, BETA), NOW);
    Relay relay = Relay.newBuilder().setLabel(LABEL).setSender(ALICE).setRecipient(BOB)
        .setContent(ByteString.copyFrom(CONTENT)).setDeadlineMillis(T).setFlavour(Flavour.CEM).setOriginServer(RELAY)
        .setCop(KEYS.of(RELAY).sign(squatted)).build();
    Server beta = new Server(BETA, LABEL);
    Decision<ServerEvent> decision = beta.receive(RELAY, ProtocolMessage.newBuilder().setRelay(relay).build(), NOW);
    assertTrue(decision.events().isEmpty() && decision.messages().isEmpty(), "no state, no ACK, no notification");
    assertEquals("NOT_ENTITLED", decision.ignored().get(0).reason());
    assertInstanceOf(ServerStage.Unassigned.class, beta.stage);
  }

  @Test
  void relayToTheOriginForItsOwnFutureLabelLeavesTheSubmissionUntouched() {
    Server genuine = originForwarding(Flavour.CEM);
    Server alpha = new Server(ALPHA, LABEL);
    Decision<ServerEvent> squat = alpha.receive(RELAY, ProtocolMessage.newBuilder().setRelay(relayOf(genuine)).build(),
        NOW);
    assertTrue(squat.events().isEmpty(), "the origin never carries its own label as a relay");
    alpha.receive(ALICE, submission(Flavour.CEM), NOW + 5);
    assertTrue(((ServerStage.Carrying) alpha.stage).carriage().origin(), "alice's submission still gets its COP");
  }

  @Test
  void submissionInAnotherSendersNameLeavesNoTraceForTheRealOne() {
    // Found by the simulator: a stored refusal of erin's spoof was the answer to alice's own submission.
    Server alpha = new Server(ALPHA, LABEL);
    Decision<ServerEvent> spoof = alpha.receive(ERIN, submission(Flavour.CEM), NOW);
    assertTrue(spoof.events().isEmpty() && spoof.messages().isEmpty(), "nothing kept, nothing answered");
    assertEquals("WRONG_PARTY", spoof.ignored().get(0).reason());
    alpha.receive(ALICE, submission(Flavour.CEM), NOW + 5);
    assertInstanceOf(ServerStage.Forwarding.class, alpha.stage, "alice's own submission gets its COP");
  }

  @Test
  void serverMachineNeverRunsForAMailbox() {
    assertThrows(IllegalArgumentException.class, () -> new ServerMachine(ERIN, LABEL, RULES, KEYS.of(ERIN)));
  }

  // ---- hole 5: a held COD keeps M obtainable ----

  @Test
  void codReleasesTheContentAndFetchesAreAnsweredAfterTheCutOff() {
    Server beta = destinationDelivering(Flavour.NSR, NOW);
    Decision<ServerEvent> accepted = beta.receive(BOB, codReply(cod(Flavour.NSR, NOW + 10)), NOW + 10);
    assertTrue(accepted.events().stream().anyMatch(ServerEvent::hasContentReleased), "released with the COD");
    assertTrue(accepted.messages().stream().anyMatch(m -> m.message().hasContent()), "pushed to bob at once");
    Decision<ServerEvent> fetch = beta.receive(BOB, ProtocolMessage.newBuilder()
        .setContentFetch(ContentFetch.newBuilder().setLabel(LABEL)).build(), TIMINGS.codCutoff(T) + 1_000);
    assertTrue(fetch.messages().stream().anyMatch(m -> m.message().hasContent()), "still obtainable after the cut-off");
  }

  // ---- hole 6: B is told the deadline Pn keeps ----

  @Test
  void recipientIsToldTheDeadlineTheDestinationKeeps() {
    Server beta = destinationDelivering(Flavour.CEM, NOW);
    long told = beta.wakeUp(NOW + 300).messages().stream().filter(m -> m.message().hasDelivery()).findFirst()
        .orElseThrow().message().getDelivery().getCodDeadlineMillis();
    long giveUp = TIMINGS.deliveryGiveUp(NOW, T);
    assertEquals(TIMINGS.recipientDeadline(NOW, T), told);
    assertTrue(told < giveUp, "bob's deadline leaves a handshake for his COD to arrive");
    Decision<ServerEvent> codAtTold = beta.receive(BOB, codReply(cod(Flavour.CEM, told)), giveUp - 1);
    assertTrue(codAtTold.events().get(0).hasCodAccepted(), "a COD signed by the told deadline is taken");
  }

  @Test
  void codAfterTheDestinationGaveUpIsNotTaken() {
    Server beta = destinationDelivering(Flavour.CEM, NOW);
    long giveUp = TIMINGS.deliveryGiveUp(NOW, T);
    assertTrue(signsNonDelivery(beta.wakeUp(giveUp)));
    Decision<ServerEvent> late = beta.receive(BOB, codReply(cod(Flavour.CEM, giveUp + 10)), giveUp + 20);
    assertTrue(late.events().stream().noneMatch(ServerEvent::hasCodAccepted));
  }

  // ---- hole 8: every stage ends ----

  @Test
  void reportingEndsWhenTheOriginNeverConfirms() {
    Server beta = destinationDelivering(Flavour.CEM, NOW);
    beta.receive(BOB, codReply(cod(Flavour.CEM, NOW + 10)), NOW + 10);
    assertInstanceOf(ServerStage.Reporting.class, beta.stage);
    long end = TIMINGS.reportingEnds(T);
    assertTrue(beta.machine.dueAt(beta.stage, end - 1) <= end);
    beta.wakeUp(end);
    assertInstanceOf(ServerStage.Settled.class, beta.stage);
    assertEquals(RoleMachine.NEVER, beta.machine.dueAt(beta.stage, end));
  }

  // ---- hole 9: late evidence ----

  @Test
  void lateEvidenceIsRecordedOnlyWhenEntitledAndBounded() {
    Server alpha = originForwarding(Flavour.CEM);
    alpha.receive(BETA, deliveryReport(Flavour.CEM, NOW + 100), NOW + 200);
    Decision<ServerEvent> junk = alpha.receive(ERIN, ndnNotice(ERIN, ReasonCode.RELAY_UNREACHABLE, NOW + 300),
        NOW + 300);
    assertTrue(junk.events().isEmpty(), "an unentitled notice is not recorded, late or not");
    for (int i = 0; i < 20; i++) {
      alpha.receive(RELAY, ndnNotice(RELAY, ReasonCode.RELAY_UNREACHABLE, NOW + 400 + i), NOW + 500 + i);
    }
    assertEquals(ServerMachine.MAX_LATE_ITEMS, ((ServerStage.Carrying) alpha.stage).carriage().late().size());
  }

  @Test
  void aResentReportOfTheEvidenceTheVerdictRestsOnIsNotRecordedAsLate() {
    Server alpha = originForwarding(Flavour.CEM);
    ProtocolMessage report = deliveryReport(Flavour.CEM, NOW + 100);
    assertTrue(alpha.receive(BETA, report, NOW + 200).events().get(0).hasDeliveryCertified());
    // Pn resent its report before the origin's confirmation reached it: the same ROD_n and COD.
    Decision<ServerEvent> again = alpha.receive(BETA, report, NOW + 800);
    assertTrue(again.events().isEmpty(), () -> "recorded again: " + again);
    assertTrue(again.messages().stream().anyMatch(out -> out.to().principal().equals(BETA)), "but confirmed again");
  }

  @Test
  void evidenceAVerdictRestsOnIsNotVerifiedAgainWhenItIsResent() {
    Server alpha = originForwarding(Flavour.CEM);
    ProtocolMessage report = deliveryReport(Flavour.CEM, NOW + 100);
    alpha.receive(BETA, report, NOW + 200);
    int verified = alpha.signatures.verified();
    Decision<ServerEvent> again = alpha.receive(BETA, report, NOW + 800);
    assertTrue(again.messages().stream().anyMatch(out -> out.message().hasReceipt()), "confirmed again");
    assertEquals(verified, alpha.signatures.verified(), "P1 verified the held ROD_n and COD again");

    Server beta = destinationDelivering(Flavour.CEM, NOW);
    SignedEvidence cod = cod(Flavour.CEM, NOW + 10);
    beta.receive(BOB, codReply(cod), NOW + 10);
    assertInstanceOf(ServerStage.Reporting.class, beta.stage);
    verified = beta.signatures.verified();
    // B resends the same COD: confirmed again (B may be waiting for that to stop), not verified again.
    Decision<ServerEvent> codAgain = beta.receive(BOB, codReply(cod), NOW + 600);
    assertTrue(codAgain.events().isEmpty() && receiptTo(codAgain, "cod_reply"), codAgain::toString);
    assertEquals(verified, beta.signatures.verified(), "Pn verified the COD it holds again");
    // Another COD by bob (signed later) is not held: checked, and kept as late evidence only if it verifies.
    beta.receive(BOB, codReply(cod(Flavour.CEM, NOW + 700)), NOW + 800);
    assertEquals(verified + 1, beta.signatures.verified());
  }

  // ---- B holds the notification: Pn sleeps until its cut-off ----

  /** What bob's hold acknowledgement echoes of beta's notification, for a mail beta took at {@code at}. */
  static net.certmail.proto.v1.NotificationHeld.Builder held(Flavour flavour, long at) {
    return net.certmail.proto.v1.NotificationHeld.newBuilder().setLabel(LABEL).setRecipient(BOB).setSender(ALICE)
        .setFlavour(flavour).setExpectedHash(ByteString.copyFrom(
            net.certmail.protocol.Entitlements.expectedCodHash(flavour, LABEL, CONTENT)))
        .setDeadlineMillis(T).setCodDeadlineMillis(TIMINGS.recipientDeadline(at, T));
  }

  static ProtocolMessage heldMessage(net.certmail.proto.v1.NotificationHeld.Builder held) {
    return ProtocolMessage.newBuilder().setNotificationHeld(held).build();
  }

  static ProtocolMessage refusalMessage(long at) {
    return ProtocolMessage.newBuilder().setRecipientRefusal(net.certmail.proto.v1.RecipientRefusal.newBuilder()
        .setLabel(LABEL).setRefusal(KEYS.of(BOB).sign(EvidenceStatements.recipientRefusal(BOB, BETA, LABEL, ALICE,
            "not for me", at)))).build();
  }

  static boolean receiptTo(Decision<ServerEvent> decision, String acknowledged) {
    return decision.messages().stream().anyMatch(m -> m.to().principal().equals(BOB) && m.message().hasReceipt()
        && m.message().getReceipt().getAcknowledged().equals(acknowledged));
  }

  @Test
  void holdAcknowledgementPutsTheDestinationToSleepUntilItsCutOff() {
    for (Flavour flavour : List.of(Flavour.CEM, Flavour.NSR, Flavour.IP)) {
      Server beta = destinationDelivering(flavour, NOW);
      long giveUp = TIMINGS.deliveryGiveUp(NOW, T);
      assertTrue(beta.machine.dueAt(beta.stage, NOW + 10) < NOW + 10 + TIMINGS.retryMax().toMillis(), "resending");
      Decision<ServerEvent> acknowledged = beta.receive(BOB, heldMessage(held(flavour, NOW)), NOW + 10);
      assertEquals(List.of(ServerEvent.EventCase.HOLD_ACKNOWLEDGED),
          acknowledged.events().stream().map(ServerEvent::getEventCase).toList(), flavour.name());
      assertEquals(List.of(ProtocolMessage.MessageCase.STATUS_ANSWER),
          acknowledged.messages().stream().map(m -> m.message().getMessageCase()).toList(),
          "the card left for the recipient goes upstream with the hold, and only then");
      assertEquals(DeliveryStatus.AWAITING_COLLECTION, acknowledged.messages().get(0).message().getStatusAnswer().getStatus());
      assertEquals(giveUp, beta.machine.dueAt(beta.stage, NOW + 10), "asleep until the delivery cut-off");
      assertTrue(beta.receive(BOB, heldMessage(held(flavour, NOW)), NOW + 20).events().isEmpty(), "once");
      Decision<ServerEvent> early = beta.wakeUp(NOW + 5_000);
      assertTrue(early.events().isEmpty() && early.messages().isEmpty(), "an early wake-up resends nothing");
      assertTrue(signsNonDelivery(beta.wakeUp(giveUp)), "the cut-off still ends the delivery with an NDN");
    }
  }

  @Test
  void holdAcknowledgementNotFromTheNotifiedRecipientForThisMailIsIgnoredAndCounted() {
    Server beta = destinationDelivering(Flavour.IP, NOW);
    java.util.Map<String, Input.Received> wrong = new java.util.LinkedHashMap<>();
    wrong.put("WRONG_PARTY from another mailbox", new Input.Received(ERIN, heldMessage(held(Flavour.IP, NOW))));
    wrong.put("WRONG_PARTY naming another recipient",
        new Input.Received(BOB, heldMessage(held(Flavour.IP, NOW).setRecipient(ERIN))));
    wrong.put("WRONG_PARTY from the relay", new Input.Received(RELAY, heldMessage(held(Flavour.IP, NOW))));
    wrong.put("EVIDENCE_MISMATCH another label",
        new Input.Received(BOB, heldMessage(held(Flavour.IP, NOW).setLabel(Labels.forSubmission(ALPHA, ALICE, "other")))));
    wrong.put("EVIDENCE_MISMATCH another sender", new Input.Received(BOB, heldMessage(held(Flavour.IP, NOW).setSender(ERIN))));
    wrong.put("EVIDENCE_MISMATCH another content", new Input.Received(BOB, heldMessage(held(Flavour.IP, NOW)
        .setExpectedHash(ByteString.copyFrom(ContentHash.labelled(LABEL, "another mail".getBytes()))))));
    wrong.put("EVIDENCE_MISMATCH another flavour", new Input.Received(BOB, heldMessage(held(Flavour.IP, NOW)
        .setFlavour(Flavour.NSR))));
    wrong.put("EVIDENCE_MISMATCH another deadline", new Input.Received(BOB, heldMessage(held(Flavour.IP, NOW)
        .setDeadlineMillis(T + 1))));
    wrong.put("EVIDENCE_MISMATCH another told deadline", new Input.Received(BOB, heldMessage(held(Flavour.IP, NOW)
        .setCodDeadlineMillis(T - 1))));
    wrong.forEach((what, input) -> {
      Decision<ServerEvent> ignored = beta.step(input, NOW + 10);
      assertEquals(List.of(what.substring(0, what.indexOf(' '))),
          ignored.ignored().stream().map(net.certmail.protocol.Ignored::reason).toList(), what);
      assertTrue(ignored.events().isEmpty(), what);
      assertFalse(((ServerStage.Delivering) beta.stage).recipientHolds(), what);
    });
    assertTrue(beta.wakeUp(NOW + 1_000).messages().stream().anyMatch(m -> m.message().hasNotification()),
        "still notifying bob");
  }

  @Test
  void decisionAfterTheDestinationSleptIsTakenAndConfirmedToTheRecipient() {
    Server cem = destinationDelivering(Flavour.CEM, NOW);
    cem.receive(BOB, heldMessage(held(Flavour.CEM, NOW)), NOW + 10);
    SignedEvidence codItem = cod(Flavour.CEM, NOW + 2_000);
    Decision<ServerEvent> accepted = cem.receive(BOB, codReply(codItem), NOW + 2_000);
    assertTrue(accepted.events().get(0).hasCodAccepted());
    assertTrue(receiptTo(accepted, "cod_reply"), "bob stops resending his COD");
    Decision<ServerEvent> again = cem.receive(BOB, codReply(codItem), NOW + 2_600);
    assertTrue(again.events().isEmpty(), "the COD it holds is not late evidence");
    assertTrue(receiptTo(again, "cod_reply"), "a resent COD is confirmed again");

    Server nsr = destinationDelivering(Flavour.NSR, NOW);
    nsr.receive(BOB, heldMessage(held(Flavour.NSR, NOW)), NOW + 10);
    SignedEvidence nsrCod = cod(Flavour.NSR, NOW + 2_000);
    nsr.receive(BOB, codReply(nsrCod), NOW + 2_000);
    Decision<ServerEvent> nsrAgain = nsr.receive(BOB, codReply(nsrCod), NOW + 2_600);
    assertTrue(nsrAgain.events().isEmpty());
    assertTrue(nsrAgain.messages().stream().anyMatch(m -> m.message().hasContent()), "NSR: the content confirms");

    Server refused = destinationDelivering(Flavour.IP, NOW);
    refused.receive(BOB, heldMessage(held(Flavour.IP, NOW)), NOW + 10);
    ProtocolMessage refusal = refusalMessage(NOW + 2_000);
    Decision<ServerEvent> taken = refused.receive(BOB, refusal, NOW + 2_000);
    assertTrue(taken.events().get(0).hasRefusalAccepted());
    assertTrue(receiptTo(taken, "recipient_refusal"));
    Decision<ServerEvent> refusedAgain = refused.receive(BOB, refusal, NOW + 2_600);
    assertTrue(refusedAgain.events().isEmpty(), "the refusal its NDN answers is not late evidence");
    assertTrue(receiptTo(refusedAgain, "recipient_refusal"));
  }

  static String kindOf(SignedEvidence item) {
    try {
      return EvidenceStatement.parseFrom(item.getStatement()).getKind().name();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
