package net.certmail.protocol.recipient;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.KeyAlgorithm;
import net.certmail.crypto.NetworkCa;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.crypto.TrustStore;
import net.certmail.crypto.VerificationException;
import net.certmail.proto.v1.Content;
import net.certmail.proto.v1.Delivery;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.Notification;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ReceiptSigned;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Ignored;
import net.certmail.protocol.Input;
import net.certmail.protocol.Input.Received;
import net.certmail.protocol.Input.WakeUp;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.RoleMachine;
import net.certmail.protocol.Signatures;
import net.certmail.protocol.Timings;
import net.certmail.protocol.recipient.RecipientMachine.Accept;
import net.certmail.protocol.recipient.RecipientMachine.Refuse;
import net.certmail.protocol.recipient.RecipientStage.Acknowledged;
import net.certmail.protocol.recipient.RecipientStage.Held;
import net.certmail.protocol.recipient.RecipientStage.Refused;
import net.certmail.protocol.recipient.RecipientView.Status;
import org.junit.jupiter.api.Test;

/** B's role as a pure machine: real signatures, no ActorSystem, time as a number. */
class RecipientMachineTest {
  static final long NOW = Instant.parse("2026-11-28T12:00:00Z").toEpochMilli();
  static final String BOB = "bob@beta.example";
  static final String ALICE = "alice@alpha.example";
  static final String BETA = "beta.example";
  static final String RELAY = "relay.example";
  static final String BOGUS = "bogus.example";
  static final String LABEL = "alpha.example/" + "ab".repeat(16);
  static final byte[] MAIL = "Dear Bob, the contract.".getBytes();
  static final byte[] SUBSTITUTE = "Dear Bob, a lousy piece of code.".getBytes();

  static final Timings TIMINGS = new Timings(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMillis(500),
      Duration.ofSeconds(30), Duration.ofMinutes(2), Duration.ofMinutes(10), Duration.ofMinutes(2), Duration.ofSeconds(10),
      Duration.ofMinutes(2), Duration.ofMinutes(1));
  static final long T = NOW + Duration.ofHours(1).toMillis();
  /** What Pn tells B: the deadline it really keeps (its delivery give-up), one handshake early. */
  static final long COD_DEADLINE = TIMINGS.recipientDeadline(NOW, T);

  static final Map<String, PrincipalKeys> KEYS = new LinkedHashMap<>();
  static final TrustStore TRUST;

  static {
    NetworkCa ca = NetworkCa.create("recipient test CA", KeyAlgorithm.ED25519, Duration.ofDays(3650),
        Clock.fixed(Instant.ofEpochMilli(NOW).minus(Duration.ofDays(1)), ZoneOffset.UTC));
    for (String principal : List.of(BOB, ALICE, BETA, RELAY, BOGUS)) {
      KEYS.put(principal, ca.issue(principal, principal.substring(principal.indexOf('@') + 1), KeyAlgorithm.ED25519,
          Duration.ofDays(365)));
    }
    TRUST = new TrustStore(ca.certificate(), KEYS.values().stream().map(PrincipalKeys::certificate).toList());
  }

  /** Signing as one principal and PKIX verification: the crypto nodes use. */
  record PkixSignatures(EvidenceSigner signer, EvidenceVerifier verifier) implements Signatures {
    static PkixSignatures of(String principal) {
      return new PkixSignatures(new EvidenceSigner(KEYS.get(principal)), new EvidenceVerifier(TRUST));
    }

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
  }

  static RecipientMachine machine(MailboxPolicy policy) {
    return new RecipientMachine(BOB, LABEL, policy, TIMINGS, PkixSignatures.of(BOB));
  }

  final RecipientMachine hold = machine(MailboxPolicy.HOLD);

  // ---- messages from the agent ----

  static Received notification(String from, Flavour flavour, byte[] content) {
    ByteString hash = flavour == Flavour.IP ? ByteString.copyFrom(ContentHash.labelled(LABEL, content)) : ByteString.EMPTY;
    return new Received(from, ProtocolMessage.newBuilder().setNotification(Notification.newBuilder().setLabel(LABEL)
        .setSender(ALICE).setFlavour(flavour).setLabelledContentHash(hash).setContentSize(content.length)
        .setDeadlineMillis(T).setCodDeadlineMillis(COD_DEADLINE)).build());
  }

  static Received delivery(String from, byte[] content) {
    return new Received(from, ProtocolMessage.newBuilder().setDelivery(Delivery.newBuilder().setLabel(LABEL)
        .setSender(ALICE).setContent(ByteString.copyFrom(content)).setDeadlineMillis(T)
        .setCodDeadlineMillis(COD_DEADLINE)).build());
  }

  /** The first notice of the flavour from B's home server: CEM as a delivery with M. */
  static Received first(Flavour flavour) {
    return flavour == Flavour.CEM ? delivery(BETA, MAIL) : notification(BETA, flavour, MAIL);
  }

  static SignedEvidence handover(String issuer, String counterparty, String label, byte[] contentHashedOver) {
    return new EvidenceSigner(KEYS.get(issuer)).sign(EvidenceStatements.contentHandover(issuer, counterparty, label,
        ALICE, Flavour.IP, ContentHash.of(contentHashedOver), NOW + 1000));
  }

  static Received content(String from, byte[] content, SignedEvidence handover) {
    return new Received(from, ProtocolMessage.newBuilder().setContent(Content.newBuilder().setLabel(LABEL)
        .setContent(ByteString.copyFrom(content)).setHandover(handover)).build());
  }

  /** The genuine content as B's server hands it over. */
  static Received genuine(byte[] content) {
    return content(BETA, content, handover(BETA, BOB, LABEL, content));
  }

  // ---- driving the machine ----

  /** The stage after a decision's events. */
  static RecipientStage after(RoleMachine<RecipientStage, InboxEvent> machine, RecipientStage stage,
                              Decision<InboxEvent> decision) {
    return machine.applyAll(stage, decision.events());
  }

  RecipientStage step(RecipientMachine machine, RecipientStage stage, Input input, long now) {
    return after(machine, stage, machine.decide(stage, input, now));
  }

  RecipientStage held(Flavour flavour) {
    return step(hold, hold.empty(), first(flavour), NOW);
  }

  RecipientStage acknowledged(Flavour flavour, long at) {
    return step(hold, held(flavour), Accept.INSTANCE, at);
  }

  static List<String> reasons(Decision<InboxEvent> decision) {
    return decision.ignored().stream().map(Ignored::reason).toList();
  }

  static List<ProtocolMessage.MessageCase> sent(Decision<InboxEvent> decision) {
    return decision.messages().stream().map(outgoing -> outgoing.message().getMessageCase()).toList();
  }

  static EvidenceStatement statementOf(SignedEvidence evidence) throws InvalidProtocolBufferException {
    return EvidenceStatement.parseFrom(evidence.getStatement());
  }

  // ---- step 5: who may notify, and the label lock ----

  @Test
  void onlyHomeServerMayNotify() {
    for (String stranger : List.of(BOGUS, RELAY, ALICE)) {
      Decision<InboxEvent> decision = hold.decide(hold.empty(), notification(stranger, Flavour.IP, MAIL), NOW);
      assertEquals(List.of("NOT_HOME_SERVER"), reasons(decision), stranger);
      assertTrue(decision.events().isEmpty() && decision.messages().isEmpty(), "a stranger takes no label lock");
    }
    Decision<InboxEvent> byBogus = hold.decide(hold.empty(), delivery(BOGUS, MAIL), NOW);
    assertEquals(List.of("NOT_HOME_SERVER"), reasons(byBogus));

    RecipientStage held = step(hold, hold.empty(), notification(BETA, Flavour.IP, MAIL), NOW);
    assertEquals(BETA, assertInstanceOf(Held.class, held).notice().getAgent());
    assertEquals(List.of("NOT_HOME_SERVER"), reasons(hold.decide(held, notification(BOGUS, Flavour.IP, MAIL), NOW)));
  }

  @Test
  void conflictingNotificationIsRefusedWhileLocked() {
    RecipientStage held = held(Flavour.IP);
    List<Received> conflicting = List.of(notification(BETA, Flavour.IP, SUBSTITUTE),
        notification(BETA, Flavour.NSR, MAIL), delivery(BETA, MAIL));
    for (RecipientStage stage : List.of(held, step(hold, held, Accept.INSTANCE, NOW),
        step(hold, step(hold, held, Accept.INSTANCE, NOW), genuine(MAIL), NOW),
        step(hold, held, new Refuse("no"), NOW))) {
      for (Received other : conflicting) {
        Decision<InboxEvent> decision = hold.decide(stage, other, NOW);
        assertEquals(List.of("LABEL_LOCKED"), reasons(decision), stage.getClass().getSimpleName());
        assertTrue(decision.events().isEmpty() && decision.messages().isEmpty(), "no COD for the other mail");
      }
    }
    RecipientStage cem = held(Flavour.CEM);
    assertEquals(List.of("LABEL_LOCKED"), reasons(hold.decide(cem, delivery(BETA, SUBSTITUTE), NOW)),
        "a CEM delivery with another content");
  }

  @Test
  void repeatedNotificationIsAnsweredAgainWithTheCodOrRefusal() throws Exception {
    RecipientStage held = held(Flavour.NSR);
    Decision<InboxEvent> whileHeld = hold.decide(held, first(Flavour.NSR), NOW + 1000);
    assertTrue(whileHeld.events().isEmpty() && whileHeld.ignored().isEmpty());
    assertEquals(List.of(ProtocolMessage.MessageCase.NOTIFICATION_HELD), sent(whileHeld),
        "while the owner decides: B holds it, again (the agent lost the first acknowledgement)");

    Acknowledged acknowledged = (Acknowledged) acknowledged(Flavour.NSR, NOW + 2000);
    Decision<InboxEvent> again = hold.decide(acknowledged, first(Flavour.NSR), NOW + 3000);
    assertTrue(again.events().isEmpty(), "answered, not persisted again");
    assertEquals(List.of(new Outgoing(Addressee.server(BETA, LABEL), ProtocolMessage.newBuilder()
        .setCodReply(net.certmail.proto.v1.CodReply.newBuilder().setLabel(LABEL).setCod(acknowledged.cod()))
        .build())), again.messages());

    Refused refused = (Refused) step(hold, held, new Refuse("not for me"), NOW + 2000);
    Decision<InboxEvent> refusedAgain = hold.decide(refused, first(Flavour.NSR), NOW + 3000);
    assertTrue(refusedAgain.events().isEmpty());
    assertEquals(List.of(ProtocolMessage.MessageCase.RECIPIENT_REFUSAL), sent(refusedAgain));
    assertEquals(refused.refusal(), refusedAgain.messages().get(0).message().getRecipientRefusal().getRefusal());
    assertEquals("not for me", statementOf(refused.refusal()).getReasonDetail());
  }

  // ---- step 6: the COD, per flavour, within the deadline B was told ----

  @Test
  void codCarriesTheHashOfItsFlavourAndNamesTheAgent() throws Exception {
    Map<Flavour, byte[]> expected = Map.of(Flavour.CEM, ContentHash.of(MAIL), Flavour.NSR, new byte[0],
        Flavour.IP, ContentHash.labelled(LABEL, MAIL));
    for (Flavour flavour : List.of(Flavour.CEM, Flavour.NSR, Flavour.IP)) {
      Decision<InboxEvent> accepted = hold.decide(held(flavour), Accept.INSTANCE, NOW + 5000);
      ReceiptSigned signed = accepted.events().get(0).getReceiptSigned();
      EvidenceStatement cod = statementOf(signed.getCod());
      assertEquals(EvidenceKind.COD, cod.getKind());
      assertEquals(BOB, cod.getIssuer());
      assertEquals(BETA, cod.getCounterparty());
      assertEquals(flavour, cod.getFlavour());
      assertArrayEquals(expected.get(flavour), cod.getContentHash().toByteArray(), flavour.name());
      assertEquals(NOW + 5000, signed.getSignedAtMillis());
      List<ProtocolMessage.MessageCase> messages = sent(accepted);
      // NSR and IP too: no fetch goes with the COD, since the agent pushes M when it takes the COD.
      assertEquals(List.of(ProtocolMessage.MessageCase.COD_REPLY), messages);
      assertTrue(accepted.messages().stream().allMatch(m -> m.to().equals(Addressee.server(BETA, LABEL))));
    }
  }

  @Test
  void acceptAfterToldDeadlineIsRefused() {
    RecipientStage held = held(Flavour.NSR);
    assertEquals(Status.AWAITING_DECISION, RecipientView.of(held, COD_DEADLINE).status());

    Decision<InboxEvent> late = hold.decide(held, Accept.INSTANCE, COD_DEADLINE + 1);
    assertTrue(late.events().isEmpty() && late.messages().isEmpty(), "no COD after the deadline Pn keeps");
    assertTrue(late.problem().contains(Instant.ofEpochMilli(COD_DEADLINE).toString()), late.problem());
    assertEquals(Status.EXPIRED, RecipientView.of(held, COD_DEADLINE + 1).status());
    assertEquals(COD_DEADLINE, RecipientView.of(held, COD_DEADLINE + 1).acceptsUntilMillis());

    assertInstanceOf(Acknowledged.class, step(hold, held, Accept.INSTANCE, COD_DEADLINE),
        "accepting at the last instant still signs");
  }

  /**
   * Found by the chaos run: an owner who refused after the told deadline was answered REFUSED, but
   * the agent had given up on B then and the mail ended "did not acknowledge".
   */
  @Test
  void refusalAfterToldDeadlineIsRefusedToo() {
    RecipientStage held = held(Flavour.IP);
    Decision<InboxEvent> late = hold.decide(held, new Refuse("not for me"), COD_DEADLINE + 1);
    assertTrue(late.events().isEmpty() && late.messages().isEmpty(), "no refusal signed after the deadline Pn keeps");
    assertTrue(late.problem().startsWith("too late") && late.problem().contains(Instant.ofEpochMilli(COD_DEADLINE).toString()),
        late.problem());
    assertEquals(Status.EXPIRED, RecipientView.of(held, COD_DEADLINE + 1).status());

    assertInstanceOf(Refused.class, step(hold, held, new Refuse("not for me"), COD_DEADLINE),
        "refusing at the last instant still signs");
  }

  @Test
  void autoAcceptSignsAtOnceButNotPastTheToldDeadline() {
    RecipientMachine auto = machine(MailboxPolicy.AUTO_ACCEPT);
    Decision<InboxEvent> atOnce = auto.decide(auto.empty(), first(Flavour.IP), NOW);
    assertEquals(2, atOnce.events().size());
    assertInstanceOf(Acknowledged.class, after(auto, auto.empty(), atOnce));

    Decision<InboxEvent> late = auto.decide(auto.empty(), first(Flavour.IP), COD_DEADLINE + 1);
    assertTrue(late.messages().isEmpty(), "no COD Pn would no longer take");
    RecipientStage stage = after(auto, auto.empty(), late);
    assertEquals(Status.EXPIRED, RecipientView.of(stage, COD_DEADLINE + 1).status());
  }

  @Test
  void refusePolicyAndOwnerRefusalSignARefusalForTheAgent() throws Exception {
    RecipientMachine refusing = machine(MailboxPolicy.REFUSE);
    Decision<InboxEvent> refused = refusing.decide(refusing.empty(), first(Flavour.CEM), NOW);
    assertInstanceOf(Refused.class, after(refusing, refusing.empty(), refused));
    assertEquals(List.of(ProtocolMessage.MessageCase.RECIPIENT_REFUSAL), sent(refused));

    RecipientStage byOwner = step(hold, held(Flavour.IP), new Refuse(" "), NOW);
    EvidenceStatement refusal = statementOf(((Refused) byOwner).refusal());
    assertEquals(EvidenceKind.RECIPIENT_REFUSAL, refusal.getKind());
    assertEquals(BETA, refusal.getCounterparty());
    assertEquals("refused by the owner", refusal.getReasonDetail());
    assertEquals("the mail was refused", hold.decide(byOwner, Accept.INSTANCE, NOW).problem());
    assertEquals("the certificate of delivery is already signed",
        hold.decide(acknowledged(Flavour.IP, NOW), new Refuse("changed my mind"), NOW).problem());
    assertTrue(hold.decide(hold.empty(), Accept.INSTANCE, NOW).problem().startsWith("no mail"));
  }

  // ---- step 7: M after the COD ----

  @Test
  void fetchIsRetriedUntilTheDeadlineNotByCount() {
    long signedAt = COD_DEADLINE - 1000; // accepted at the last moment: Pn's first answer may come late
    RecipientStage stage = acknowledged(Flavour.NSR, signedAt);
    long lost = TIMINGS.lostAfter(T);
    int fetches = 0;
    long lastFetch = 0;
    long now = signedAt;
    while (hold.dueAt(stage, now) != RoleMachine.NEVER) {
      long due = hold.dueAt(stage, now);
      assertTrue(due > now && due <= lost, "the next fetch is due after now and by T + grace");
      now = due;
      Decision<InboxEvent> woken = hold.decide(stage, WakeUp.INSTANCE, now);
      if (sent(woken).contains(ProtocolMessage.MessageCase.CONTENT_FETCH)) {
        fetches++;
        lastFetch = now;
      }
      stage = after(hold, stage, woken);
    }
    assertTrue(fetches > 10, "far more fetches than the old count of 5: " + fetches);
    assertTrue(lastFetch > lost - TIMINGS.retryMax().toMillis(), "still fetching within one retry of T + grace");
    assertEquals(List.of("TOO_LATE"), reasons(hold.decide(stage, WakeUp.INSTANCE, lost)), "then gives up, saying so");
    assertEquals(Status.ACKNOWLEDGED, RecipientView.of(stage, lost).status());
  }

  @Test
  void contentPushedWithoutAFetchIsTaken() {
    RecipientStage stage = acknowledged(Flavour.NSR, NOW);
    Decision<InboxEvent> pushed = hold.decide(stage, genuine(MAIL), NOW + 10);
    RecipientStage retrieved = after(hold, stage, pushed);
    RecipientView view = RecipientView.of(retrieved, NOW + 10);
    assertEquals(Status.RETRIEVED, view.status());
    assertArrayEquals(MAIL, view.content().orElseThrow().toByteArray());
    assertEquals(2, view.evidence().size(), "COD and content handover");
    assertEquals(RoleMachine.NEVER, hold.dueAt(retrieved, NOW + 10));
    Decision<InboxEvent> second = hold.decide(retrieved, genuine(MAIL), NOW + 20);
    assertTrue(second.events().isEmpty() && second.ignored().isEmpty(), "the fetched copy after the push is a no-op");
  }

  @Test
  void contentWithForeignHandoverIsIgnored() {
    RecipientStage stage = acknowledged(Flavour.NSR, NOW);
    SignedEvidence genuine = handover(BETA, BOB, LABEL, MAIL);
    SignedEvidence forged = genuine.toBuilder().setSignature(ByteString.copyFrom(new byte[64])).build();
    Map<String, Received> bad = new LinkedHashMap<>();
    bad.put("EVIDENCE_MISMATCH by another server", content(BETA, MAIL, handover(RELAY, BOB, LABEL, MAIL)));
    bad.put("EVIDENCE_MISMATCH to another party", content(BETA, MAIL, handover(BETA, ALICE, LABEL, MAIL)));
    bad.put("EVIDENCE_MISMATCH for another label", content(BETA, MAIL, handover(BETA, BOB, "alpha.example/"
        + "cd".repeat(16), MAIL)));
    bad.put("EVIDENCE_MISMATCH over another content", content(BETA, MAIL, handover(BETA, BOB, LABEL, SUBSTITUTE)));
    bad.put("INVALID_EVIDENCE forged", content(BETA, MAIL, forged));
    bad.put("INVALID_EVIDENCE of another kind", content(BETA, MAIL, ((Acknowledged) stage).cod()));
    bad.put("WRONG_PARTY sent by another server", content(RELAY, MAIL, genuine));
    bad.forEach((what, received) -> {
      Decision<InboxEvent> decision = hold.decide(stage, received, NOW + 10);
      assertEquals(List.of(what.substring(0, what.indexOf(' '))), reasons(decision), what);
      assertTrue(decision.events().isEmpty(), what + ": not taken");
    });
    assertTrue(hold.dueAt(stage, NOW + 10) != RoleMachine.NEVER, "still fetching");
    assertEquals(Status.RETRIEVED, RecipientView.of(step(hold, stage, content(BETA, MAIL, genuine), NOW + 10),
        NOW + 10).status());
  }

  @Test
  void ipContentWithWrongHashIsRefetched() {
    RecipientStage stage = acknowledged(Flavour.IP, NOW);
    // A well-formed handover by B's own server, over the substitute it sends: only H(L,M) tells.
    Decision<InboxEvent> substitute = hold.decide(stage, genuine(SUBSTITUTE), NOW + 10);
    assertEquals(List.of("EVIDENCE_MISMATCH"), reasons(substitute));
    assertTrue(substitute.events().isEmpty());
    long due = hold.dueAt(stage, NOW + 10);
    assertTrue(due != RoleMachine.NEVER);
    assertEquals(List.of(ProtocolMessage.MessageCase.COD_REPLY, ProtocolMessage.MessageCase.CONTENT_FETCH),
        sent(hold.decide(stage, WakeUp.INSTANCE, due)), "signed after holding: the COD until confirmed, and the fetch");
    RecipientStage retrieved = step(hold, stage, genuine(MAIL), due + 10);
    assertArrayEquals(MAIL, RecipientView.of(retrieved, due + 10).content().orElseThrow().toByteArray());
  }

  @Test
  void contentBeforeTheCodIsNotTaken() {
    assertEquals(List.of("NO_SUCH_MAIL"), reasons(hold.decide(hold.empty(), genuine(MAIL), NOW)));
    RecipientStage held = held(Flavour.NSR);
    assertEquals(List.of("UNEXPECTED_MESSAGE"), reasons(hold.decide(held, genuine(MAIL), NOW)));
    RecipientView view = RecipientView.of(held, NOW);
    assertEquals(Optional.empty(), view.content(), "NSR: no content while held");
    assertEquals(Optional.empty(), RecipientView.of(acknowledged(Flavour.IP, NOW), NOW).content(),
        "IP: no content before it is retrieved");
    assertArrayEquals(MAIL, RecipientView.of(held(Flavour.CEM), NOW).content().orElseThrow().toByteArray(),
        "CEM: the owner reads M before deciding");
  }

  // ---- every stage ends ----

  @Test
  void everyStageEndsOrWaitsOnlyForItsOwner() {
    long lost = TIMINGS.lostAfter(T);
    assertEquals(RoleMachine.NEVER, hold.dueAt(hold.empty(), NOW));
    assertEquals(RoleMachine.NEVER, hold.dueAt(held(Flavour.IP), NOW), "held: the owner decides, Pn sleeps");
    RecipientStage refused = step(hold, held(Flavour.IP), new Refuse("no"), NOW);
    assertEquals(TIMINGS.nextResend(NOW, NOW), hold.dueAt(refused, NOW), "a refusal after holding: until confirmed");
    assertEquals(RoleMachine.NEVER, hold.dueAt(refused, lost), "and at most until T + grace");
    assertEquals(RoleMachine.NEVER, hold.dueAt(step(hold, refused, receipt(BETA, "recipient_refusal"), NOW), NOW));
    RecipientStage cem = acknowledged(Flavour.CEM, NOW);
    assertEquals(RoleMachine.NEVER, hold.dueAt(step(hold, cem, receipt(BETA, "cod_reply"), NOW), NOW),
        "CEM: M came with the delivery, the agent confirmed the COD");
    RecipientMachine auto = machine(MailboxPolicy.AUTO_ACCEPT);
    assertEquals(RoleMachine.NEVER, auto.dueAt(step(auto, auto.empty(), first(Flavour.CEM), NOW), NOW),
        "signed on the first notification: the agent is awake and resends it until it has the COD");
    RecipientStage fetching = acknowledged(Flavour.IP, NOW);
    assertEquals(TIMINGS.nextResend(NOW, NOW), hold.dueAt(fetching, NOW));
    assertEquals(lost, hold.dueAt(fetching, lost - 1), "the last wake-up is T + grace itself");
    assertEquals(RoleMachine.NEVER, hold.dueAt(fetching, lost));
  }

  // ---- holding: the agent may sleep, B resends its later decision ----

  static Received receipt(String from, String acknowledged) {
    return new Received(from, ProtocolMessage.newBuilder().setReceipt(net.certmail.proto.v1.Receipt.newBuilder()
        .setLabel(LABEL).setAcknowledged(acknowledged)).build());
  }

  @Test
  void heldMailIsAcknowledgedToTheAgentEchoingItsNotification() {
    for (Flavour flavour : List.of(Flavour.CEM, Flavour.NSR, Flavour.IP)) {
      Decision<InboxEvent> first = hold.decide(hold.empty(), first(flavour), NOW);
      assertEquals(1, first.events().size(), "the notice, and nothing more");
      assertEquals(List.of(new Outgoing(Addressee.server(BETA, LABEL), ProtocolMessage.newBuilder()
          .setNotificationHeld(net.certmail.proto.v1.NotificationHeld.newBuilder().setLabel(LABEL).setRecipient(BOB)
              .setSender(ALICE).setFlavour(flavour)
              .setExpectedHash(first.events().get(0).getNotificationReceived().getExpectedHash())
              .setDeadlineMillis(T).setCodDeadlineMillis(COD_DEADLINE)).build())), first.messages(), flavour.name());
    }
    RecipientMachine auto = machine(MailboxPolicy.AUTO_ACCEPT);
    assertEquals(List.of(ProtocolMessage.MessageCase.COD_REPLY), sent(auto.decide(auto.empty(), first(Flavour.CEM), NOW)),
        "a mailbox that signs at once holds nothing");
  }

  @Test
  void decisionAfterHoldingIsResentUntilTheAgentConfirmsIt() {
    RecipientStage cem = acknowledged(Flavour.CEM, NOW + 5000);
    assertTrue(((Acknowledged) cem).confirmationDue());
    long due = hold.dueAt(cem, NOW + 5000);
    assertEquals(TIMINGS.nextResend(NOW + 5000, NOW + 5000), due);
    assertEquals(List.of(ProtocolMessage.MessageCase.COD_REPLY), sent(hold.decide(cem, WakeUp.INSTANCE, due)));

    Map<String, Received> notTheAgentsReceipt = new LinkedHashMap<>();
    notTheAgentsReceipt.put("from another server", receipt(RELAY, "cod_reply"));
    notTheAgentsReceipt.put("of a refusal", receipt(BETA, "recipient_refusal"));
    notTheAgentsReceipt.put("for another label", new Received(BETA, ProtocolMessage.newBuilder().setReceipt(
        net.certmail.proto.v1.Receipt.newBuilder().setLabel("alpha.example/" + "cd".repeat(16))
            .setAcknowledged("cod_reply")).build()));
    notTheAgentsReceipt.forEach((what, received) -> {
      Decision<InboxEvent> ignored = hold.decide(cem, received, due);
      assertEquals(List.of("WRONG_PARTY"), reasons(ignored), what);
      assertTrue(ignored.events().isEmpty(), what);
    });

    Decision<InboxEvent> confirmed = hold.decide(cem, receipt(BETA, "cod_reply"), due + 10);
    assertEquals(List.of(InboxEvent.EventCase.DECISION_CONFIRMED),
        confirmed.events().stream().map(InboxEvent::getEventCase).toList());
    RecipientStage done = after(hold, cem, confirmed);
    assertEquals(RoleMachine.NEVER, hold.dueAt(done, due + 10));
    assertTrue(hold.decide(done, receipt(BETA, "cod_reply"), due + 20).events().isEmpty(), "confirmed once");

    RecipientStage refused = step(hold, held(Flavour.NSR), new Refuse("no"), NOW + 5000);
    assertEquals(List.of(ProtocolMessage.MessageCase.RECIPIENT_REFUSAL),
        sent(hold.decide(refused, WakeUp.INSTANCE, hold.dueAt(refused, NOW + 5000))));
    assertEquals(RoleMachine.NEVER, hold.dueAt(step(hold, refused, receipt(BETA, "recipient_refusal"), NOW + 6000),
        NOW + 6000));

    RecipientStage nsr = acknowledged(Flavour.NSR, NOW + 5000);
    RecipientStage retrieved = step(hold, nsr, genuine(MAIL), NOW + 6000);
    assertTrue(!((Acknowledged) retrieved).confirmationDue(), "the content handover confirms the COD");
    assertEquals(RoleMachine.NEVER, hold.dueAt(retrieved, NOW + 6000));
  }

  @Test
  void unconfirmedDecisionIsResentOnlyUntilTGrace() {
    RecipientStage refused = step(hold, held(Flavour.CEM), new Refuse("no"), NOW);
    long lost = TIMINGS.lostAfter(T);
    assertEquals(lost, hold.dueAt(refused, lost - 1));
    assertEquals(List.of("TOO_LATE"), reasons(hold.decide(refused, WakeUp.INSTANCE, lost)));
    assertTrue(hold.decide(refused, WakeUp.INSTANCE, lost).messages().isEmpty());
  }

  @Test
  void receiptFromAnOldJournalFetchesOnTheScheduleOfItsCod() {
    RecipientStage held = held(Flavour.NSR);
    InboxEvent signed = hold.decide(held, Accept.INSTANCE, NOW + 7000).events().get(0);
    InboxEvent old = signed.toBuilder().setReceiptSigned(signed.getReceiptSigned().toBuilder().clearSignedAtMillis())
        .build();
    Acknowledged replayed = (Acknowledged) hold.apply(held, old);
    assertEquals(NOW + 7000, replayed.signedAtMillis(), "the COD's issue time stands in for signed_at_millis");
  }
}
