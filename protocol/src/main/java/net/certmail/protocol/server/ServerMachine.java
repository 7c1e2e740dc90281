package net.certmail.protocol.server;

import static net.certmail.protocol.Problems.expect;
import static net.certmail.protocol.Problems.first;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.proto.v1.CodAccepted;
import net.certmail.proto.v1.Content;
import net.certmail.proto.v1.ContentReleased;
import net.certmail.proto.v1.CopReply;
import net.certmail.proto.v1.Delivery;
import net.certmail.proto.v1.DeliveryCertified;
import net.certmail.proto.v1.DeliveryReport;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.DutyEnded;
import net.certmail.proto.v1.EtsiEvent;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.ForwardAcknowledged;
import net.certmail.proto.v1.HoldAcknowledged;
import net.certmail.proto.v1.LateEvidenceRecorded;
import net.certmail.proto.v1.MailInTransit;
import net.certmail.proto.v1.NonDeliveryIssued;
import net.certmail.proto.v1.NonDeliveryNotice;
import net.certmail.proto.v1.NonDeliveryRecorded;
import net.certmail.proto.v1.Notification;
import net.certmail.proto.v1.NotificationHeld;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.Receipt;
import net.certmail.proto.v1.RefusalAccepted;
import net.certmail.proto.v1.Relay;
import net.certmail.proto.v1.RelayAccepted;
import net.certmail.proto.v1.RelayAck;
import net.certmail.proto.v1.RelayDeclined;
import net.certmail.proto.v1.RelayRejected;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.StatusAnswer;
import net.certmail.proto.v1.Submission;
import net.certmail.proto.v1.SubmissionAccepted;
import net.certmail.proto.v1.SubmissionDeclined;
import net.certmail.proto.v1.SubmissionRejected;
import net.certmail.proto.v1.UpstreamReceiptConfirmed;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Entitlements;
import net.certmail.protocol.Input;
import net.certmail.protocol.Labels;
import net.certmail.protocol.MailFacts;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.Refusal;
import net.certmail.protocol.RoleMachine;
import net.certmail.protocol.Routing;
import net.certmail.protocol.Signatures;
import net.certmail.protocol.Timings;
import net.certmail.protocol.server.ServerStage.AwaitingVerdict;
import net.certmail.protocol.server.ServerStage.Carrying;
import net.certmail.protocol.server.ServerStage.Declined;
import net.certmail.protocol.server.ServerStage.Delivering;
import net.certmail.protocol.server.ServerStage.Forwarding;
import net.certmail.protocol.server.ServerStage.Reporting;
import net.certmail.protocol.server.ServerStage.ReportingVerdict;
import net.certmail.protocol.server.ServerStage.Settled;
import net.certmail.protocol.server.ServerStage.Unassigned;

/**
 * A mail server's part in one label as a pure machine: P1 (origin), Pi (relay) and Pn
 * (destination), one machine for every role the server has on the COP's route. The stages and
 * their transitions are listed on {@link ServerStage}; who may issue which evidence is
 * {@link Entitlements}; every instant comes from {@link Timings}.
 */
public final class ServerMachine implements RoleMachine<ServerStage, ServerEvent> {
  /** Late evidence kept per label at most: enough for the record, bounded against junk. */
  public static final int MAX_LATE_ITEMS = 8;

  private final String me;
  private final String label;
  private final ServerRules rules;
  private final Timings timings;
  private final Signatures signatures;

  public ServerMachine(String server, String label, ServerRules rules, Signatures signatures) {
    if (Routing.isMailbox(server)) {
      throw new IllegalArgumentException(server + " is a mailbox, not a server: it cannot carry mail");
    }
    this.me = server;
    this.label = label;
    this.rules = rules;
    this.timings = rules.timings();
    this.signatures = signatures;
  }

  @Override
  public ServerStage empty() {
    return Unassigned.INSTANCE;
  }

  // ---- decisions ----

  @Override
  public Decision<ServerEvent> decide(ServerStage stage, Input input, long now) {
    if (input instanceof Input.WakeUp) {
      return stage instanceof Carrying carrying ? onWakeUp(carrying, now) : Decision.none();
    }
    if (!(input instanceof Input.Received received)) {
      return Decision.ignore("UNEXPECTED_MESSAGE", "a server takes no owner commands");
    }
    if (stage instanceof Declined declined) {
      return received.from().equals(declined.counterpart())
          ? Decision.send(new Outgoing(addresseeOf(declined), declined.answer()))
          : Decision.ignore("NO_SUCH_MAIL", received.message().getMessageCase() + " for a mail this server declined");
    }
    if (stage instanceof Carrying carrying) {
      return onMessage(carrying, received.from(), received.message(), now);
    }
    return onFirstMessage(received, now);
  }

  // ---- Unassigned: a submission (P1) or a relay (Pi+1) starts this server's part ----

  private Decision<ServerEvent> onFirstMessage(Input.Received received, long now) {
    ProtocolMessage message = received.message();
    return switch (message.getMessageCase()) {
      case SUBMISSION -> onSubmission(message.getSubmission(), received.from(), now);
      case RELAY -> onRelay(message.getRelay(), received.from(), now);
      default -> Decision.ignore("NO_SUCH_MAIL", message.getMessageCase() + " for a label this server does not carry");
    };
  }

  /** Steps 1 and 2: check A's submission against the policy, then sign the COP or a rejection. */
  private Decision<ServerEvent> onSubmission(Submission submission, String from, long now) {
    if (!from.equals(submission.getSender())) {
      // Someone submitting in another's name gets nothing, and nothing is kept: a stored refusal
      // would be the answer to the real sender's submission under the same id.
      return Decision.ignore("WRONG_PARTY", from + " cannot submit for " + submission.getSender());
    }
    if (!label.equals(Labels.forSubmission(me, submission.getSender(), submission.getSubmissionId()))) {
      return Decision.ignore("EVIDENCE_MISMATCH", "submission does not belong to label " + label);
    }
    byte[] contentHash = ContentHash.of(submission.getContent().toByteArray());
    Optional<List<String>> route = rules.routing().route(me, submission.getRecipient());
    Optional<Refusal> refusal = rules.policy().check(submission, from, java.time.Instant.ofEpochMilli(now),
            rules.routing())
        .or(() -> Routing.domainOf(submission.getSender()).equals(me) ? Optional.empty()
            : Optional.of(new Refusal(ReasonCode.POLICY_VIOLATION, me + " accepts mail only from its own mailboxes")))
        .or(() -> unknownLocalRecipient(submission.getRecipient()))
        .or(() -> route.isPresent() ? Optional.empty()
            : Optional.of(new Refusal(ReasonCode.UNKNOWN_DOMAIN, "no loop-free route to " + submission.getRecipient())));
    if (refusal.isPresent()) {
      SignedEvidence rejection = signatures.sign(EvidenceStatements.submissionRejection(me, submission.getSender(),
          submission.getRecipient(), contentHash, submission.getDeadlineMillis(), submission.getFlavour(),
          submission.getSubmissionId(), refusal.get().reason(), refusal.get().detail(), now));
      return decideAndAct(Unassigned.INSTANCE, now, ServerEvent.newBuilder().setSubmissionDeclined(
          SubmissionDeclined.newBuilder().setSubmissionId(submission.getSubmissionId())
              .setSender(submission.getSender()).setRejection(rejection)).build());
    }
    SignedEvidence cop = signatures.sign(EvidenceStatements.cop(me, label, submission.getSender(),
        submission.getRecipient(), contentHash, submission.getDeadlineMillis(), submission.getFlavour(),
        submission.getSubmissionId(), route.get(), now));
    MailInTransit mail = MailInTransit.newBuilder().setLabel(label).setSender(submission.getSender())
        .setRecipient(submission.getRecipient()).setContent(submission.getContent())
        .setDeadlineMillis(submission.getDeadlineMillis()).setFlavour(submission.getFlavour())
        .setOriginServer(me).setCop(cop).setSubmissionId(submission.getSubmissionId()).build();
    return decideAndAct(Unassigned.INSTANCE, now, ServerEvent.newBuilder().setSubmissionAccepted(
        SubmissionAccepted.newBuilder().setMail(mail).setNextHop(route.get().size() > 1 ? route.get().get(1) : "")
            .setAcceptedAtMillis(now)).build());
  }

  /**
   * Steps 3 and 4 on the receiving side. The relayed COP must be a COP at all (issued by the
   * label's origin for that origin's sender), must certify exactly what is relayed, and must
   * name this server as a later hop with the sender as the hop before it. A relay that fails
   * these is not this server's business (no state, no answer): nobody squats a label.
   */
  private Decision<ServerEvent> onRelay(Relay relay, String previousHop, long now) {
    EvidenceStatement cop;
    try {
      cop = signatures.verify(relay.getCop(), EvidenceKind.COP);
    } catch (Signatures.InvalidEvidence e) {
      return Decision.ignore("INVALID_EVIDENCE", "relayed COP: " + e.getMessage());
    }
    MailFacts facts = MailFacts.of(cop);
    int position = facts.positionOf(me);
    Optional<String> problem = Entitlements.cop(cop).or(() -> first(
        expect(cop.getLabel().equals(label) && relay.getLabel().equals(label), "relay for another label"),
        expect(relay.getOriginServer().equals(facts.origin()) && relay.getSender().equals(facts.sender())
            && relay.getRecipient().equals(facts.recipient()), "relay names other parties than its COP"),
        expect(Arrays.equals(ContentHash.of(relay.getContent().toByteArray()), facts.contentHash()),
            "relayed content differs from the posted content"),
        expect(relay.getDeadlineMillis() == facts.deadlineMillis() && relay.getFlavour() == facts.flavour(),
            "relayed deadline or flavour differs from the COP"),
        expect(position > 0, me + " is not a later hop of the COP's route " + facts.route()),
        expect(position > 0 && facts.route().get(position - 1).equals(previousHop),
            "relay from " + previousHop + ", which is not the hop before " + me)));
    if (problem.isPresent()) {
      return Decision.ignore("NOT_ENTITLED", problem.get());
    }
    boolean destination = position == facts.route().size() - 1;
    Optional<Refusal> refusal = (destination ? unknownLocalRecipient(facts.recipient()) : Optional.<Refusal>empty())
        .or(() -> relayTooLate(destination, facts.deadlineMillis(), now));
    if (refusal.isPresent()) {
      SignedEvidence rejection = signatures.sign(EvidenceStatements.relayRejection(me, previousHop, label,
          facts.sender(), facts.recipient(), refusal.get().reason(), refusal.get().detail(), now));
      return decideAndAct(Unassigned.INSTANCE, now, ServerEvent.newBuilder().setRelayDeclined(RelayDeclined.newBuilder()
          .setLabel(label).setPreviousHop(previousHop).setRejection(rejection)).build());
    }
    SignedEvidence ack = signatures.sign(EvidenceStatements.relayAck(me, previousHop, label, facts.sender(),
        facts.recipient(), now));
    MailInTransit mail = MailInTransit.newBuilder().setLabel(label).setSender(facts.sender())
        .setRecipient(facts.recipient()).setContent(relay.getContent()).setDeadlineMillis(facts.deadlineMillis())
        .setFlavour(facts.flavour()).setOriginServer(facts.origin()).setCop(relay.getCop()).build();
    return decideAndAct(Unassigned.INSTANCE, now, ServerEvent.newBuilder().setRelayAccepted(RelayAccepted.newBuilder()
        .setMail(mail).setPreviousHop(previousHop).setAck(ack).setNextHop(destination ? "" : facts.route().get(position + 1))
        .setAcceptedAtMillis(now)).build());
  }

  /** A relay arriving this late could not be delivered in time: the destination leaves B no window, a relay none to go on. */
  private Optional<Refusal> relayTooLate(boolean destination, long deadline, long now) {
    long lastUseful = destination ? timings.recipientDeadline(now, deadline) : timings.codCutoff(deadline);
    return now < lastUseful ? Optional.empty()
        : Optional.of(new Refusal(ReasonCode.DEADLINE_EXPIRED, "too close to the deadline to deliver"));
  }

  private Optional<Refusal> unknownLocalRecipient(String recipient) {
    if (Routing.domainOf(recipient).equals(me) && !rules.knownPrincipal().test(recipient)) {
      return Optional.of(new Refusal(ReasonCode.UNKNOWN_RECIPIENT, "no mailbox " + recipient + " at " + me));
    }
    return Optional.empty();
  }

  // ---- Carrying: messages about a mail this server carries ----

  private Decision<ServerEvent> onMessage(Carrying stage, String from, ProtocolMessage message, long now) {
    Carriage carriage = stage.carriage();
    return switch (message.getMessageCase()) {
      case SUBMISSION -> carriage.origin() && from.equals(carriage.facts().sender())
          ? Decision.send(copReply(carriage)) : Decision.ignore("WRONG_PARTY", "submission from " + from);
      case RELAY -> from.equals(carriage.previousHop()) && carriage.ackGiven().isPresent()
          ? Decision.send(relayAck(carriage)) : Decision.ignore("WRONG_PARTY", "relay from " + from);
      case RELAY_ACK -> onRelayAck(stage, message.getRelayAck().getAck(), from, now);
      case RELAY_REJECTED -> onRelayRejected(stage, message.getRelayRejected().getRejection(), from, now);
      case COD_REPLY -> onCod(stage, message.getCodReply().getCod(), from, now);
      case RECIPIENT_REFUSAL -> onRefusal(stage, message.getRecipientRefusal().getRefusal(), from, now);
      case NOTIFICATION_HELD -> onNotificationHeld(stage, message.getNotificationHeld(), from, now);
      case CONTENT_FETCH -> onContentFetch(carriage, from);
      case DELIVERY_REPORT -> onDeliveryReport(stage, message.getDeliveryReport(), from, now);
      case NON_DELIVERY_NOTICE -> onNonDeliveryNotice(stage, message.getNonDeliveryNotice().getNdn(), from, now);
      case RECEIPT -> onReceipt(stage, from, now);
      case STATUS_ANSWER -> onProgressNote(stage, message.getStatusAnswer(), from);
      case STATUS_QUERY -> onStatusQuery(stage, from);
      default -> Decision.ignore("UNEXPECTED_MESSAGE", message.getMessageCase().name());
    };
  }

  /** Step 4 on the sending side: the next hop's ACK_i ends this server's relay duty. */
  private Decision<ServerEvent> onRelayAck(Carrying stage, SignedEvidence ack, String from, long now) {
    if (!(stage instanceof Forwarding forwarding)) {
      return Decision.none(); // a duplicate ACK, or one after this server reached an outcome
    }
    Optional<EvidenceStatement> statement = verifiedFromNextHop(forwarding.carriage(), ack, EvidenceKind.RELAY_ACK, from);
    if (statement.isEmpty()) {
      return Decision.ignore("NOT_ENTITLED", "relay acknowledgement not from the next hop for this label");
    }
    return decideAndAct(stage, now, ServerEvent.newBuilder().setForwardAcknowledged(
        ForwardAcknowledged.newBuilder().setAck(ack).setAtMillis(now)).build());
  }

  private Decision<ServerEvent> onRelayRejected(Carrying stage, SignedEvidence rejection, String from, long now) {
    if (!(stage instanceof Forwarding forwarding)) {
      return Decision.none();
    }
    Optional<EvidenceStatement> statement =
        verifiedFromNextHop(forwarding.carriage(), rejection, EvidenceKind.RELAY_REJECTION, from);
    if (statement.isEmpty()) {
      return Decision.ignore("NOT_ENTITLED", "relay rejection not from the next hop for this label");
    }
    ReasonCode reason = statement.get().getReason() == ReasonCode.UNKNOWN_RECIPIENT
        || statement.get().getReason() == ReasonCode.UNKNOWN_DOMAIN ? statement.get().getReason()
        : ReasonCode.RELAY_REJECTED;
    return nonDelivery(stage, now, EtsiEvent.CONTENT_CONSIGNMENT_FAILURE, reason,
        forwarding.carriage().nextHop() + " refused the mail: " + statement.get().getReasonDetail());
  }

  private Optional<EvidenceStatement> verifiedFromNextHop(Carriage carriage, SignedEvidence item, EvidenceKind kind,
                                                          String from) {
    return verified(item, kind).filter(statement -> from.equals(carriage.nextHop())
        && statement.getIssuer().equals(carriage.nextHop()) && statement.getCounterparty().equals(me)
        && Entitlements.hop(statement, carriage.facts()).isEmpty());
  }

  /**
   * Step 6: B's COD, accepted up to the instant Pn gives up (B was told a deadline a handshake
   * before it). ROD_n is signed in the same step and, in NSR and IP, M is released to B at once:
   * once B has signed, its mail stays obtainable whatever happens to the fetches.
   */
  private Decision<ServerEvent> onCod(Carrying stage, SignedEvidence cod, String from, long now) {
    Carriage carriage = stage.carriage();
    if (!carriage.destination() || !from.equals(carriage.facts().recipient())) {
      return Decision.ignore("WRONG_PARTY", "COD from " + from);
    }
    if (!(stage instanceof Delivering) && held(stage, cod)) {
      // The COD Pn took (and verified) already, resent: B answering a resent delivery, or B resending
      // a decision taken on a held mail until it is confirmed. Confirmed again, not verified again.
      return Decision.send(confirmCod(carriage));
    }
    Optional<EvidenceStatement> statement = verified(cod, EvidenceKind.COD)
        .filter(s -> s.getCounterparty().equals(me)
            && Entitlements.cod(s, carriage.facts(), carriage.mail().getContent().toByteArray()).isEmpty());
    if (statement.isEmpty()) {
      return Decision.ignore("EVIDENCE_MISMATCH", "COD that does not certify this mail");
    }
    if (!(stage instanceof Delivering)) {
      return recordLate(stage, cod, now).andSend(confirmCod(carriage));
    }
    if (now > timings.deliveryGiveUp(carriage.acceptedAtMillis(), carriage.deadline())) {
      return Decision.ignore("TOO_LATE", "COD after the delivery cut-off");
    }
    byte[] codStatement = cod.getStatement().toByteArray();
    SignedEvidence rodN = signatures.sign(EvidenceStatements.rodN(me, label, carriage.facts().sender(),
        carriage.facts().recipient(), codStatement, now));
    List<ServerEvent> events = new ArrayList<>();
    events.add(ServerEvent.newBuilder().setCodAccepted(CodAccepted.newBuilder().setCod(cod).setRodN(rodN)
        .setAtMillis(now)).build());
    if (carriage.facts().flavour() != Flavour.CEM) {
      SignedEvidence handover = signatures.sign(EvidenceStatements.contentHandover(me, carriage.facts().recipient(),
          label, carriage.facts().sender(), carriage.facts().flavour(), carriage.facts().contentHash(), now));
      events.add(ServerEvent.newBuilder().setContentReleased(ContentReleased.newBuilder().setHandover(handover)).build());
    }
    if (carriage.origin()) {
      events.add(certifyDelivery(carriage, rodN, cod, now));
    }
    Decision<ServerEvent> accepted = decideAndAct(stage, now, events); // NSR, IP: with the content
    // Only B that held the mail resends its COD until confirmed: a COD answering the notification
    // needs no receipt (if resent anyway, the held-COD branch above confirms it).
    return carriage.facts().flavour() == Flavour.CEM && ((Delivering) stage).recipientHolds()
        ? accepted.andSend(receiptToRecipient(carriage, "cod_reply")) : accepted;
  }

  /**
   * The answer that stops B resending a COD (it does so after holding the mail, while Pn may
   * sleep): the content once released, else a receipt. Given for any COD of B's that verifies,
   * also one that came too late to count.
   */
  private Outgoing confirmCod(Carriage carriage) {
    return carriage.receipt().flatMap(Carriage.Receipt::handover)
        .map(handover -> content(carriage, handover))
        .orElseGet(() -> receiptToRecipient(carriage, "cod_reply"));
  }

  /**
   * B holds the notification and has not decided: Pn stops resending it and sleeps until its
   * cut-off. Taken only from the notified recipient itself (its envelope), for this label, and
   * echoing exactly what Pn notified; anything else is ignored and counted.
   */
  private Decision<ServerEvent> onNotificationHeld(Carrying stage, NotificationHeld held, String from, long now) {
    Carriage carriage = stage.carriage();
    if (!carriage.destination() || !from.equals(carriage.facts().recipient())
        || !held.getRecipient().equals(carriage.facts().recipient())) {
      return Decision.ignore("WRONG_PARTY", "hold acknowledgement from " + from + " for " + held.getRecipient()
          + ", not from the notified recipient");
    }
    Optional<String> problem = first(
        expect(held.getLabel().equals(label), "hold acknowledgement for another label"),
        expect(held.getSender().equals(carriage.facts().sender()) && held.getFlavour() == carriage.facts().flavour()
            && held.getDeadlineMillis() == carriage.deadline()
            && held.getCodDeadlineMillis() == timings.recipientDeadline(carriage.acceptedAtMillis(), carriage.deadline()),
            "hold acknowledgement names another sender, flavour or deadline than the notification"),
        expect(Arrays.equals(held.getExpectedHash().toByteArray(), Entitlements.expectedCodHash(
            carriage.facts().flavour(), label, carriage.mail().getContent().toByteArray())),
            "hold acknowledgement of another content than the notified one"));
    if (problem.isPresent()) {
      return Decision.ignore("EVIDENCE_MISMATCH", problem.get());
    }
    if (!(stage instanceof Delivering delivering) || delivering.recipientHolds()) {
      return Decision.none(); // a duplicate, or B's decision came first
    }
    return Decision.<ServerEvent>persist(ServerEvent.newBuilder().setHoldAcknowledged(
        HoldAcknowledged.newBuilder().setAtMillis(now)).build()).andSend(progressNote(carriage));
  }

  private Decision<ServerEvent> onRefusal(Carrying stage, SignedEvidence refusal, String from, long now) {
    Carriage carriage = stage.carriage();
    if (!carriage.destination() || !from.equals(carriage.facts().recipient())) {
      return Decision.ignore("WRONG_PARTY", "refusal from " + from);
    }
    Optional<EvidenceStatement> statement = verified(refusal, EvidenceKind.RECIPIENT_REFUSAL)
        .filter(s -> s.getCounterparty().equals(me) && Entitlements.check(s, carriage.facts()).isEmpty());
    if (statement.isEmpty()) {
      return Decision.ignore("EVIDENCE_MISMATCH", "refusal that does not concern this mail");
    }
    Outgoing confirm = receiptToRecipient(carriage, "recipient_refusal");
    if (!(stage instanceof Delivering delivering) || now >= carriage.deadline()) {
      return recordLate(stage, refusal, now).andSend(confirm); // a resent refusal: confirmed again
    }
    SignedEvidence ndn = signNonDelivery(carriage, EtsiEvent.CONTENT_CONSIGNMENT_FAILURE, ReasonCode.RECIPIENT_REFUSED,
        "the recipient refused: " + statement.get().getReasonDetail(), now);
    Decision<ServerEvent> refused = decideAndAct(stage, now, ServerEvent.newBuilder().setRefusalAccepted(
        RefusalAccepted.newBuilder().setRefusal(refusal).setNdn(ndn).setAtMillis(now)).build());
    // As for a COD: only B that held the mail resends its refusal until confirmed.
    return delivering.recipientHolds() ? refused.andSend(confirm) : refused;
  }

  /** Step 7 of NSR and IP: M goes to B once B's COD is held, and from then on whenever B asks. */
  private Decision<ServerEvent> onContentFetch(Carriage carriage, String from) {
    if (!carriage.destination() || !from.equals(carriage.facts().recipient())) {
      return Decision.ignore("WRONG_PARTY", "content fetch from " + from);
    }
    Optional<SignedEvidence> handover = carriage.receipt().flatMap(Carriage.Receipt::handover);
    if (handover.isEmpty()) {
      return Decision.ignore("CONTENT_NOT_RELEASABLE", "no content before the recipient's COD");
    }
    return Decision.send(content(carriage, handover.get()));
  }

  /** Step 8 at P1: Pn's report. The first verdict wins; a valid report also ends P1's relay duty. */
  private Decision<ServerEvent> onDeliveryReport(Carrying stage, DeliveryReport report, String from, long now) {
    Carriage carriage = stage.carriage();
    if (!carriage.origin() || !from.equals(carriage.facts().destination())) {
      return Decision.ignore("WRONG_PARTY", "delivery report from " + from);
    }
    Outgoing confirm = receipt(from, "delivery_report");
    if (!awaitsVerdict(stage) && held(stage, report.getRodN()) && held(stage, report.getCod())) {
      return Decision.send(confirm); // Pn resent the report P1's verdict rests on: verified when taken, confirmed again
    }
    Optional<EvidenceStatement> rodN = verified(report.getRodN(), EvidenceKind.ROD_N);
    Optional<EvidenceStatement> cod = verified(report.getCod(), EvidenceKind.COD);
    byte[] codBytes = report.getCod().getStatement().toByteArray();
    Optional<String> problem = rodN.isEmpty() || cod.isEmpty() ? Optional.of("ROD_n or COD does not verify")
        : Entitlements.check(rodN.get(), carriage.facts())
            .or(() -> Entitlements.boundToCod(rodN.get(), codBytes))
            .or(() -> Entitlements.cod(cod.get(), carriage.facts(), carriage.mail().getContent().toByteArray()));
    if (problem.isPresent()) {
      return Decision.ignore("EVIDENCE_MISMATCH", problem.get());
    }
    if (!awaitsVerdict(stage)) {
      return recordLate(stage, List.of(report.getRodN(), report.getCod()), now).andSend(confirm);
    }
    if (now >= carriage.deadline()) {
      return Decision.<ServerEvent>ignore("TOO_LATE", "delivery report after T: no verdict is signed after T");
    }
    return decideAndAct(stage, now, certifyDelivery(carriage, report.getRodN(), report.getCod(), now)).andSend(confirm);
  }

  /** An NDN for P1: only from a server on the COP's route, for a reason that fits its place, issued before T. */
  private Decision<ServerEvent> onNonDeliveryNotice(Carrying stage, SignedEvidence ndn, String from, long now) {
    Carriage carriage = stage.carriage();
    if (!carriage.origin()) {
      return Decision.ignore("WRONG_PARTY", "non-delivery notice to a server that is not the origin");
    }
    Outgoing confirm = receipt(from, "non_delivery_notice");
    if (!awaitsVerdict(stage) && held(stage, ndn) && ndn.getSigner().equals(from) && !from.equals(me)) {
      return Decision.send(confirm); // the NDN P1's verdict rests on, resent by its issuer: verified when taken
    }
    Optional<EvidenceStatement> statement = verified(ndn, EvidenceKind.NDN)
        .filter(s -> s.getIssuer().equals(from) && !from.equals(me) && Entitlements.ndn(s, carriage.facts()).isEmpty());
    if (statement.isEmpty()) {
      return Decision.ignore("NOT_ENTITLED", "non-delivery notice from " + from
          + " that it may not issue for this mail");
    }
    if (!awaitsVerdict(stage)) {
      return recordLate(stage, ndn, now).andSend(confirm);
    }
    if (now >= carriage.deadline()) {
      return Decision.ignore("TOO_LATE", "non-delivery notice after T: no verdict is accepted after T");
    }
    return decideAndAct(stage, now, ServerEvent.newBuilder().setNonDeliveryRecorded(
        NonDeliveryRecorded.newBuilder().setNdn(ndn).setAtMillis(now)).build()).andSend(confirm);
  }

  /** P1 has no verdict yet: it still takes one from downstream. */
  private static boolean awaitsVerdict(Carrying stage) {
    return stage.carriage().origin() && (stage instanceof Forwarding || stage instanceof AwaitingVerdict);
  }

  /** The party upstream (P1 for a report, A for a verdict) has what this server owed it. */
  private Decision<ServerEvent> onReceipt(Carrying stage, String from, long now) {
    boolean reporting = stage instanceof Reporting && from.equals(stage.carriage().facts().origin());
    boolean reportingVerdict = stage instanceof ReportingVerdict && from.equals(stage.carriage().facts().sender());
    if (!reporting && !reportingVerdict) {
      return Decision.none();
    }
    return decideAndAct(stage, now, ServerEvent.newBuilder().setUpstreamReceiptConfirmed(
        UpstreamReceiptConfirmed.newBuilder().setConfirmedAtMillis(now)).build());
  }

  /** P1 passes Pn's "awaiting collection" note on to A while no verdict is reached. */
  private Decision<ServerEvent> onProgressNote(Carrying stage, StatusAnswer note, String from) {
    Carriage carriage = stage.carriage();
    if (awaitsVerdict(stage) && from.equals(carriage.facts().destination())
        && note.getStatus() == DeliveryStatus.AWAITING_COLLECTION) {
      return Decision.send(toSender(carriage, ProtocolMessage.newBuilder().setStatusAnswer(note).build()));
    }
    return Decision.none();
  }

  /** A asks its origin about the mail (from T on, before declaring it LOST): the verdict, if there is one. */
  private Decision<ServerEvent> onStatusQuery(Carrying stage, String from) {
    Carriage carriage = stage.carriage();
    if (!carriage.origin() || !from.equals(carriage.facts().sender())) {
      return Decision.ignore("WRONG_PARTY", "status query from " + from);
    }
    return verdictOf(stage).map(verdict -> Decision.<ServerEvent>send(toSender(carriage, report(carriage, verdict))))
        .orElseGet(Decision::none);
  }

  // ---- time: resends, give-ups and cut-offs ----

  private Decision<ServerEvent> onWakeUp(Carrying stage, long now) {
    Carriage carriage = stage.carriage();
    long deadline = carriage.deadline();
    if (stage instanceof Forwarding) {
      return now >= timings.relayGiveUp(carriage.acceptedAtMillis(), deadline)
          ? nonDelivery(stage, now, EtsiEvent.RELAY_FAILURE, ReasonCode.RELAY_UNREACHABLE,
              carriage.nextHop() + " did not acknowledge the relay in time")
          : Decision.send(relay(carriage));
    }
    if (stage instanceof Delivering delivering) {
      if (now >= timings.deliveryGiveUp(carriage.acceptedAtMillis(), deadline)) {
        return nonDelivery(stage, now, EtsiEvent.ACCEPTANCE_REJECTION_EXPIRY, ReasonCode.RECIPIENT_DID_NOT_ACKNOWLEDGE,
            carriage.facts().recipient() + " did not sign a certificate of delivery in time");
      }
      // B holds the notification and resends its decision itself: an early wake-up owes nothing.
      return delivering.recipientHolds() ? Decision.none() : Decision.send(delivery(carriage));
    }
    if (stage instanceof AwaitingVerdict) {
      return now >= timings.verdictCutoff(deadline)
          ? nonDelivery(stage, now, EtsiEvent.ACCEPTANCE_REJECTION_EXPIRY, ReasonCode.DEADLINE_EXPIRED,
              "no report of delivery before the deadline")
          : Decision.none();
    }
    if (stage instanceof Reporting || stage instanceof ReportingVerdict) {
      return now >= timings.reportingEnds(deadline)
          ? dutyEnded(stage, now, "the party upstream never confirmed " + (carriage.origin() ? "the verdict" : "the report"))
          : Decision.send(onEntry(stage).get(0));
    }
    return Decision.none();
  }

  @Override
  public long dueAt(ServerStage stage, long now) {
    if (!(stage instanceof Carrying carrying)) {
      return NEVER;
    }
    Carriage carriage = carrying.carriage();
    long deadline = carriage.deadline();
    if (carrying instanceof Forwarding forwarding) {
      return Math.min(timings.nextResend(forwarding.sinceMillis(), now),
          timings.relayGiveUp(carriage.acceptedAtMillis(), deadline));
    }
    if (carrying instanceof Delivering delivering) {
      long giveUp = timings.deliveryGiveUp(carriage.acceptedAtMillis(), deadline);
      return delivering.recipientHolds() ? giveUp : Math.min(timings.nextResend(delivering.sinceMillis(), now), giveUp);
    }
    if (carrying instanceof AwaitingVerdict) {
      return timings.verdictCutoff(deadline);
    }
    if (carrying instanceof Reporting reporting) {
      return Math.min(timings.nextResend(reporting.sinceMillis(), now), timings.reportingEnds(deadline));
    }
    if (carrying instanceof ReportingVerdict reporting) {
      return Math.min(timings.nextResend(reporting.sinceMillis(), now), timings.reportingEnds(deadline));
    }
    return NEVER;
  }

  /**
   * This server gives up with a signed NDN — only before T: no verdict is signed after T. A
   * server woken after T (it was down) ends its duty without one; the sender then has its claim.
   */
  private Decision<ServerEvent> nonDelivery(Carrying stage, long now, EtsiEvent event, ReasonCode reason, String detail) {
    if (now >= stage.carriage().deadline()) {
      return dutyEnded(stage, now, "T passed before " + me + " could sign its notice (" + reason + ")");
    }
    SignedEvidence ndn = signNonDelivery(stage.carriage(), event, reason, detail, now);
    return decideAndAct(stage, now, ServerEvent.newBuilder().setNonDeliveryIssued(
        NonDeliveryIssued.newBuilder().setNdn(ndn).setAtMillis(now)).build());
  }

  private Decision<ServerEvent> dutyEnded(Carrying stage, long now, String why) {
    return decideAndAct(stage, now, ServerEvent.newBuilder().setDutyEnded(
        DutyEnded.newBuilder().setAtMillis(now).setWhy(why)).build());
  }

  private SignedEvidence signNonDelivery(Carriage carriage, EtsiEvent event, ReasonCode reason, String detail, long now) {
    return signatures.sign(EvidenceStatements.ndn(me, label, carriage.facts().sender(), carriage.facts().recipient(),
        event, reason, detail, now));
  }

  private ServerEvent certifyDelivery(Carriage carriage, SignedEvidence rodN, SignedEvidence cod, long now) {
    SignedEvidence rod = signatures.sign(EvidenceStatements.rod(me, carriage.facts().destination(), label,
        carriage.facts().sender(), carriage.facts().recipient(), cod.getStatement().toByteArray(), now));
    return ServerEvent.newBuilder().setDeliveryCertified(
        DeliveryCertified.newBuilder().setRodN(rodN).setCod(cod).setRod(rod).setAtMillis(now)).build();
  }

  // ---- late evidence: verified, entitled, not this server's own, bounded ----

  private Decision<ServerEvent> recordLate(Carrying stage, SignedEvidence item, long now) {
    return recordLate(stage, List.of(item), now);
  }

  /**
   * @param items evidence the caller has verified and found entitled (every caller checks its
   *              message's items before deciding anything): verifying them here again would only
   *              pay a second signature check for the same bytes
   */
  private Decision<ServerEvent> recordLate(Carrying stage, List<SignedEvidence> items, long now) {
    Carriage carriage = stage.carriage();
    List<SignedEvidence> kept = new ArrayList<>();
    for (SignedEvidence item : items) {
      if (carriage.late().size() + kept.size() >= MAX_LATE_ITEMS || item.getSigner().equals(me)
          || carriage.late().contains(item) || kept.contains(item) || held(stage, item)) {
        continue;
      }
      kept.add(item);
    }
    if (kept.isEmpty()) {
      return Decision.none();
    }
    return Decision.persist(ServerEvent.newBuilder().setLateEvidenceRecorded(
        LateEvidenceRecorded.newBuilder().addAllEvidence(kept).setRecordedAtMillis(now)).build());
  }

  /**
   * Evidence this server already holds as part of the mail, not late: the receipt Pn took, or
   * what its outcome rests on (a report resent before this server's confirmation reached its
   * sender carries the very ROD_n and COD the verdict was built from).
   */
  private static boolean held(Carrying stage, SignedEvidence item) {
    boolean inReceipt = stage.carriage().receipt().map(r -> r.cod().equals(item) || r.rodN().equals(item)).orElse(false);
    return inReceipt || outcomeOf(stage).map(outcome -> outcome instanceof Outcome.Delivered delivered
        ? delivered.rodN().equals(item) || delivered.cod().equals(item)
        : ((Outcome.NotDelivered) outcome).ndn().equals(item)
            || ((Outcome.NotDelivered) outcome).refusal().filter(item::equals).isPresent()).orElse(false);
  }

  private Optional<EvidenceStatement> verified(SignedEvidence item, EvidenceKind kind) {
    try {
      return Optional.of(signatures.verify(item, kind));
    } catch (Signatures.InvalidEvidence e) {
      return Optional.empty();
    }
  }

  // ---- what a stage owes, as messages ----

  /**
   * Persists the events and sends what the new stage owes at once (the relay, the delivery, the
   * report or the verdict, the answer to the step that caused it); later resends come from
   * {@link #onWakeUp} on the stage's schedule.
   */
  private Decision<ServerEvent> decideAndAct(ServerStage before, long now, ServerEvent... events) {
    return decideAndAct(before, now, List.of(events));
  }

  private Decision<ServerEvent> decideAndAct(ServerStage before, long now, List<ServerEvent> events) {
    ServerStage after = applyAll(before, events);
    List<Outgoing> messages = new ArrayList<>(answers(before, after));
    if (after instanceof Carrying carrying && !(before instanceof Carrying b && b.getClass() == after.getClass())) {
      messages.addAll(onEntry(carrying));
    }
    if (after instanceof Carrying carrying && before instanceof Delivering && carrying.carriage().receipt()
        .flatMap(Carriage.Receipt::handover).isPresent()) {
      messages.add(content(carrying.carriage(), carrying.carriage().receipt().get().handover().get()));
    }
    return new Decision<>(events, messages, List.of(), null);
  }

  /** The answer a new carriage or a refusal owes the party that caused it. */
  private List<Outgoing> answers(ServerStage before, ServerStage after) {
    if (!(before instanceof Unassigned)) {
      return List.of();
    }
    if (after instanceof Declined declined) {
      return List.of(new Outgoing(addresseeOf(declined), declined.answer()));
    }
    Carriage carriage = ((Carrying) after).carriage();
    return List.of(carriage.origin() ? copReply(carriage) : relayAck(carriage));
  }

  /** What a stage sends when it is entered (and then on its resend schedule). */
  private List<Outgoing> onEntry(Carrying stage) {
    Carriage carriage = stage.carriage();
    if (stage instanceof Forwarding) {
      return List.of(relay(carriage));
    }
    if (stage instanceof Delivering) {
      return List.of(delivery(carriage));
    }
    if (stage instanceof Reporting reporting) {
      return List.of(new Outgoing(Addressee.server(carriage.facts().origin(), label),
          report(carriage, reporting.outcome())));
    }
    if (stage instanceof ReportingVerdict reporting) {
      return List.of(toSender(carriage, report(carriage, reporting.verdict())));
    }
    return List.of();
  }

  private Outgoing copReply(Carriage carriage) {
    return toSender(carriage, ProtocolMessage.newBuilder().setCopReply(CopReply.newBuilder()
        .setSubmissionId(carriage.facts().submissionId()).setLabel(label).setCop(carriage.mail().getCop())).build());
  }

  private Outgoing relayAck(Carriage carriage) {
    return new Outgoing(Addressee.server(carriage.previousHop(), label), ProtocolMessage.newBuilder()
        .setRelayAck(RelayAck.newBuilder().setLabel(label).setAck(carriage.ackGiven().orElseThrow())).build());
  }

  private Outgoing relay(Carriage carriage) {
    MailInTransit mail = carriage.mail();
    return new Outgoing(Addressee.server(carriage.nextHop(), label), ProtocolMessage.newBuilder()
        .setRelay(Relay.newBuilder().setLabel(label).setSender(mail.getSender()).setRecipient(mail.getRecipient())
            .setContent(mail.getContent()).setDeadlineMillis(mail.getDeadlineMillis()).setFlavour(mail.getFlavour())
            .setOriginServer(mail.getOriginServer()).setCop(mail.getCop())).build());
  }

  /** Step 5 per flavour: CEM sends M; NSR only L; IP L and H(L,M). B is told the deadline Pn really keeps. */
  private Outgoing delivery(Carriage carriage) {
    MailInTransit mail = carriage.mail();
    long recipientDeadline = timings.recipientDeadline(carriage.acceptedAtMillis(), carriage.deadline());
    ProtocolMessage message;
    if (mail.getFlavour() == Flavour.CEM) {
      message = ProtocolMessage.newBuilder().setDelivery(Delivery.newBuilder().setLabel(label)
          .setSender(mail.getSender()).setContent(mail.getContent()).setDeadlineMillis(mail.getDeadlineMillis())
          .setCodDeadlineMillis(recipientDeadline)).build();
    } else {
      Notification.Builder notification = Notification.newBuilder().setLabel(label).setSender(mail.getSender())
          .setFlavour(mail.getFlavour()).setContentSize(mail.getContent().size())
          .setDeadlineMillis(mail.getDeadlineMillis()).setCodDeadlineMillis(recipientDeadline);
      if (mail.getFlavour() == Flavour.IP) {
        notification.setLabelledContentHash(ByteString.copyFrom(
            ContentHash.labelled(label, mail.getContent().toByteArray())));
      }
      message = ProtocolMessage.newBuilder().setNotification(notification).build();
    }
    return new Outgoing(Addressee.recipient(mail.getRecipient(), label), message);
  }

  /**
   * The paper's "card left to advise the recipient": a progress note, not evidence, that B has
   * been notified and holds the mail undecided. Pn tells P1, P1 tells A, once B's hold is
   * recorded: only mails that wait carry it (A records it, so that it can sleep and still show
   * it). Sent once; if lost, A's status stays IN_DELIVERY.
   */
  private Outgoing progressNote(Carriage carriage) {
    ProtocolMessage note = ProtocolMessage.newBuilder().setStatusAnswer(StatusAnswer.newBuilder().setLabel(label)
        .setStatus(DeliveryStatus.AWAITING_COLLECTION)).build();
    return carriage.origin() ? toSender(carriage, note)
        : new Outgoing(Addressee.server(carriage.facts().origin(), label), note);
  }

  private Outgoing content(Carriage carriage, SignedEvidence handover) {
    return new Outgoing(Addressee.recipient(carriage.facts().recipient(), label), ProtocolMessage.newBuilder()
        .setContent(Content.newBuilder().setLabel(label).setContent(carriage.mail().getContent()).setHandover(handover))
        .build());
  }

  /** A report to P1, or P1's verdict to A (with its own ROD). */
  private ProtocolMessage report(Carriage carriage, Outcome outcome) {
    if (outcome instanceof Outcome.Delivered delivered) {
      DeliveryReport.Builder report = DeliveryReport.newBuilder().setLabel(label).setRodN(delivered.rodN())
          .setCod(delivered.cod());
      delivered.rod().ifPresent(report::setRod);
      return ProtocolMessage.newBuilder().setDeliveryReport(report).build();
    }
    return ProtocolMessage.newBuilder().setNonDeliveryNotice(NonDeliveryNotice.newBuilder().setLabel(label)
        .setNdn(((Outcome.NotDelivered) outcome).ndn())).build();
  }

  private Outgoing receiptToRecipient(Carriage carriage, String acknowledged) {
    return new Outgoing(Addressee.recipient(carriage.facts().recipient(), label), ProtocolMessage.newBuilder()
        .setReceipt(Receipt.newBuilder().setLabel(label).setAcknowledged(acknowledged)).build());
  }

  private Outgoing receipt(String to, String acknowledged) {
    return new Outgoing(Addressee.server(to, label), ProtocolMessage.newBuilder()
        .setReceipt(Receipt.newBuilder().setLabel(label).setAcknowledged(acknowledged)).build());
  }

  private Outgoing toSender(Carriage carriage, ProtocolMessage message) {
    return new Outgoing(Addressee.sender(carriage.facts().sender(), carriage.facts().submissionId()), message);
  }

  private Addressee addresseeOf(Declined declined) {
    return declined.answer().hasSubmissionRejected()
        ? Addressee.sender(declined.counterpart(), declined.answer().getSubmissionRejected().getSubmissionId())
        : Addressee.server(declined.counterpart(), label);
  }

  // ---- views ----

  /** P1's verdict, once it has one. */
  public static Optional<Outcome> verdictOf(ServerStage stage) {
    if (stage instanceof Carrying carrying && carrying.carriage().origin()) {
      if (stage instanceof ReportingVerdict reporting) {
        return Optional.of(reporting.verdict());
      }
      if (stage instanceof Settled settled) {
        return settled.outcome();
      }
    }
    return Optional.empty();
  }

  /**
   * P1's public directory entry for the label: COP, then the verdict's evidence (ROD and COD, or
   * the NDN). Nothing from relays and destinations, nothing late.
   */
  public static List<SignedEvidence> publicEvidence(ServerStage stage) {
    if (!(stage instanceof Carrying carrying) || !carrying.carriage().origin()) {
      return List.of();
    }
    List<SignedEvidence> published = new ArrayList<>();
    published.add(carrying.carriage().mail().getCop());
    verdictOf(stage).ifPresent(verdict -> {
      if (verdict instanceof Outcome.Delivered delivered) {
        delivered.rod().ifPresent(published::add);
        published.add(delivered.cod());
      } else {
        published.add(((Outcome.NotDelivered) verdict).ndn());
      }
    });
    return List.copyOf(published);
  }

  // ---- events ----

  @Override
  public ServerStage apply(ServerStage stage, ServerEvent event) {
    return after(me, stage, event);
  }

  /**
   * The stage after an event, strict: an event this machine never persists in {@code stage}
   * (a relay's ACK before the relay, a second COD, a verdict at a relay, ...) is an
   * {@link IllegalStateException}. Needs no keys or settings, so the audit replays every
   * stored stream through it: the transitions of {@link ServerStage} are checked in this one place.
   */
  public static ServerStage after(String server, ServerStage stage, ServerEvent event) {
    return switch (event.getEventCase()) {
      case SUBMISSION_ACCEPTED -> {
        requireStage(stage instanceof Unassigned, stage, event);
        SubmissionAccepted accepted = event.getSubmissionAccepted();
        yield carrying(new Carriage(accepted.getMail(), factsOf(accepted.getMail()), 0, Optional.empty(),
            accepted.getAcceptedAtMillis(), Optional.empty(), List.of()));
      }
      case SUBMISSION_DECLINED -> {
        requireStage(stage instanceof Unassigned, stage, event);
        yield new Declined(event.getSubmissionDeclined().getSender(), ProtocolMessage.newBuilder()
            .setSubmissionRejected(SubmissionRejected.newBuilder()
                .setSubmissionId(event.getSubmissionDeclined().getSubmissionId())
                .setRejection(event.getSubmissionDeclined().getRejection())).build());
      }
      case RELAY_ACCEPTED -> {
        requireStage(stage instanceof Unassigned, stage, event);
        RelayAccepted accepted = event.getRelayAccepted();
        MailFacts facts = factsOf(accepted.getMail());
        requireStage(facts.positionOf(server) > 0, stage, event);
        yield carrying(new Carriage(accepted.getMail(), facts, facts.positionOf(server), Optional.of(accepted.getAck()),
            accepted.getAcceptedAtMillis(), Optional.empty(), List.of()));
      }
      case RELAY_DECLINED -> {
        requireStage(stage instanceof Unassigned, stage, event);
        yield new Declined(event.getRelayDeclined().getPreviousHop(), ProtocolMessage.newBuilder()
            .setRelayRejected(RelayRejected.newBuilder().setLabel(event.getRelayDeclined().getLabel())
                .setRejection(event.getRelayDeclined().getRejection())).build());
      }
      case FORWARD_ACKNOWLEDGED -> {
        requireStage(stage instanceof Forwarding, stage, event);
        Carriage carriage = carriageOf(stage);
        yield carriage.origin() ? new AwaitingVerdict(carriage, event.getForwardAcknowledged().getAck())
            : new Settled(carriage, Optional.empty());
      }
      case COD_ACCEPTED -> {
        requireStage(stage instanceof Delivering && carriageOf(stage).receipt().isEmpty(), stage, event);
        CodAccepted accepted = event.getCodAccepted();
        Carriage carriage = carriageOf(stage).withReceipt(
            new Carriage.Receipt(accepted.getCod(), accepted.getRodN(), Optional.empty()));
        // At an origin that delivers itself, DeliveryCertified follows in the same batch.
        yield carriage.origin() ? new Delivering(carriage, accepted.getAtMillis(), false)
            : new Reporting(carriage, new Outcome.Delivered(accepted.getRodN(), accepted.getCod(), Optional.empty()),
                accepted.getAtMillis());
      }
      case CONTENT_RELEASED -> {
        Carriage.Receipt receipt = carriageOf(stage).receipt()
            .orElseThrow(() -> unexpected(stage, event, "content released before a COD"));
        requireStage(receipt.handover().isEmpty() && carriageOf(stage).facts().flavour() != Flavour.CEM, stage, event);
        yield withCarriage(stage, carriageOf(stage).withReceipt(
            receipt.withHandover(event.getContentReleased().getHandover())));
      }
      case REFUSAL_ACCEPTED -> {
        requireStage(stage instanceof Delivering && carriageOf(stage).receipt().isEmpty(), stage, event);
        yield outcome(stage, new Outcome.NotDelivered(event.getRefusalAccepted().getNdn(),
                Optional.of(event.getRefusalAccepted().getRefusal())),
            event.getRefusalAccepted().getAtMillis());
      }
      case NON_DELIVERY_ISSUED -> {
        requireStage(stage instanceof Forwarding || stage instanceof AwaitingVerdict
            || stage instanceof Delivering && carriageOf(stage).receipt().isEmpty(), stage, event);
        yield outcome(stage, new Outcome.NotDelivered(event.getNonDeliveryIssued().getNdn()),
            event.getNonDeliveryIssued().getAtMillis());
      }
      case NON_DELIVERY_RECORDED -> {
        requireStage(stage instanceof Carrying carrying && awaitsVerdict(carrying), stage, event);
        yield outcome(stage, new Outcome.NotDelivered(event.getNonDeliveryRecorded().getNdn()),
            event.getNonDeliveryRecorded().getAtMillis());
      }
      case DELIVERY_CERTIFIED -> {
        requireStage(stage instanceof Carrying carrying && (awaitsVerdict(carrying)
            || carrying instanceof Delivering && carrying.carriage().origin() && carrying.carriage().receipt().isPresent()),
            stage, event);
        DeliveryCertified certified = event.getDeliveryCertified();
        yield outcome(stage, new Outcome.Delivered(certified.getRodN(), certified.getCod(),
            Optional.of(certified.getRod())), certified.getAtMillis());
      }
      case UPSTREAM_RECEIPT_CONFIRMED -> {
        requireStage(stage instanceof Reporting || stage instanceof ReportingVerdict, stage, event);
        yield new Settled(carriageOf(stage), outcomeOf(stage));
      }
      case DUTY_ENDED -> {
        requireStage(stage instanceof Carrying && !(stage instanceof Settled), stage, event);
        yield new Settled(carriageOf(stage), outcomeOf(stage));
      }
      case HOLD_ACKNOWLEDGED -> {
        requireStage(stage instanceof Delivering delivering && !delivering.recipientHolds()
            && delivering.carriage().receipt().isEmpty(), stage, event);
        Delivering delivering = (Delivering) stage;
        yield new Delivering(delivering.carriage(), delivering.sinceMillis(), true);
      }
      case LATE_EVIDENCE_RECORDED -> withCarriage(stage,
          carriageOf(stage).withLate(event.getLateEvidenceRecorded().getEvidenceList()));
      case EVENT_NOT_SET -> throw new IllegalStateException("a server event without content");
    };
  }

  private static void requireStage(boolean allowed, ServerStage stage, ServerEvent event) {
    if (!allowed) {
      throw unexpected(stage, event, "not an event this server persists at that point");
    }
  }

  private static IllegalStateException unexpected(ServerStage stage, ServerEvent event, String why) {
    return new IllegalStateException(event.getEventCase() + " in stage " + stage.getClass().getSimpleName() + ": " + why);
  }

  /** A new carriage starts by relaying, or by delivering at the destination. */
  private static Carrying carrying(Carriage carriage) {
    return carriage.destination() ? new Delivering(carriage, carriage.acceptedAtMillis(), false)
        : new Forwarding(carriage, carriage.acceptedAtMillis());
  }

  /** An outcome: P1's verdict to report to A; anyone else's report to P1. */
  private static Carrying outcome(ServerStage stage, Outcome outcome, long at) {
    Carriage carriage = carriageOf(stage);
    return carriage.origin() ? new ReportingVerdict(carriage, outcome, at) : new Reporting(carriage, outcome, at);
  }

  private static Optional<Outcome> outcomeOf(ServerStage stage) {
    if (stage instanceof Reporting reporting) {
      return Optional.of(reporting.outcome());
    }
    if (stage instanceof ReportingVerdict reporting) {
      return Optional.of(reporting.verdict());
    }
    return stage instanceof Settled settled ? settled.outcome() : Optional.empty();
  }

  private static Carriage carriageOf(ServerStage stage) {
    if (!(stage instanceof Carrying carrying)) {
      throw new IllegalStateException("event for a mail this server does not carry (stage " + stage + ")");
    }
    return carrying.carriage();
  }

  private static ServerStage withCarriage(ServerStage stage, Carriage carriage) {
    if (stage instanceof Forwarding s) {
      return new Forwarding(carriage, s.sinceMillis());
    }
    if (stage instanceof Delivering s) {
      return new Delivering(carriage, s.sinceMillis(), s.recipientHolds());
    }
    if (stage instanceof AwaitingVerdict s) {
      return new AwaitingVerdict(carriage, s.forwardAck());
    }
    if (stage instanceof Reporting s) {
      return new Reporting(carriage, s.outcome(), s.sinceMillis());
    }
    if (stage instanceof ReportingVerdict s) {
      return new ReportingVerdict(carriage, s.verdict(), s.sinceMillis());
    }
    return new Settled(carriage, ((Settled) stage).outcome());
  }

  private static MailFacts factsOf(MailInTransit mail) {
    try {
      MailFacts facts = MailFacts.of(EvidenceStatement.parseFrom(mail.getCop().getStatement()));
      return facts.submissionId().isEmpty() && !mail.getSubmissionId().isEmpty()
          ? new MailFacts(facts.label(), facts.sender(), facts.recipient(), facts.origin(), facts.route(),
              facts.flavour(), facts.deadlineMillis(), facts.contentHash(), mail.getSubmissionId())
          : facts;
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a persisted COP no longer parses", e);
    }
  }
}
