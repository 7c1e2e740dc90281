package net.certmail.protocol.simulation;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.proto.v1.ContentFetch;
import net.certmail.proto.v1.CodReply;
import net.certmail.proto.v1.Content;
import net.certmail.proto.v1.CopReply;
import net.certmail.proto.v1.Delivery;
import net.certmail.proto.v1.DeliveryReport;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.EtsiEvent;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.NonDeliveryNotice;
import net.certmail.proto.v1.Notification;
import net.certmail.proto.v1.NotificationHeld;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.RecipientRefusal;
import net.certmail.proto.v1.Relay;
import net.certmail.proto.v1.RelayAck;
import net.certmail.proto.v1.RelayRejected;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.StatusAnswer;
import net.certmail.proto.v1.Submission;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Labels;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.Routing;
import net.certmail.protocol.Signatures;
import net.certmail.protocol.Timings;

/**
 * The dishonest principals: {@value Cast#ROGUE_SERVER} (a server on no route) and
 * {@value Cast#ROGUE_MAILBOX}. Both hold valid keys and sign only as themselves (envelopes are
 * authenticated), but what they sign and send is wrong: off-route NDNs, squatted COPs, relays for
 * labels A has yet to submit, evidence signed by the wrong party, evidence of other labels, early
 * and late evidence, and replays of every honest message they observed on the network. They
 * know every label in advance (labels derive from sender and submission id, which we assume
 * predictable: the worst case).
 */
final class Adversary {
  enum Attack {
    OFF_ROUTE_NDN_TO_ORIGIN, OFF_ROUTE_NDN_TO_SENDER, SQUATTED_COP_TO_DESTINATION, RELAY_FOR_FUTURE_LABEL,
    SPOOFED_SUBMISSION, FORGED_COP_TO_SENDER, FORGED_ACK, FORGED_RELAY_REJECTION, FORGED_COD, FORGED_REFUSAL,
    FORGED_ROD_N, FORGED_ROD_TO_SENDER, FORGED_NOTIFICATION, FORGED_CONTENT, FETCH_OTHERS_CONTENT,
    FORGED_STATUS_ANSWER, FOREIGN_LABEL_EVIDENCE, REPLAY, REPLAY_VERDICT, HOLD_ACKNOWLEDGEMENT
  }

  /** A message a dishonest principal sends, signed (envelope and evidence) as itself. */
  record Sent(String from, Outgoing out) {}

  private record Observed(String from, Outgoing out) {}

  private static final int MEMORY = 256;
  private static final ReasonCode[] REASONS = {ReasonCode.RELAY_UNREACHABLE, ReasonCode.RELAY_REJECTED,
      ReasonCode.RECIPIENT_DID_NOT_ACKNOWLEDGE, ReasonCode.RECIPIENT_REFUSED, ReasonCode.UNKNOWN_RECIPIENT,
      ReasonCode.DEADLINE_EXPIRED};

  private final SimulatedNetwork network;
  private final Timings timings;
  private final List<MailPlan> plans;
  /** The current act's own randomness: taking one act away leaves the others as they were. */
  private SplittableRandom random;
  private final Signatures server;
  private final Signatures mailbox;
  private final List<Observed> observed = new ArrayList<>();
  private long observedTotal;
  private long studied;
  /** The latest item seen per label and kind. */
  private final Map<String, SignedEvidence> seen = new LinkedHashMap<>();
  private final Map<String, byte[]> labelledHashes = new HashMap<>();
  /** What each Pn notified the dishonest mailbox, as the hold acknowledgement would echo it, by label. */
  private final Map<String, NotificationHeld> notifiedToRogue = new HashMap<>();

  Adversary(SimulatedNetwork network, List<MailPlan> plans) {
    this.network = network;
    this.timings = network.timings();
    this.plans = plans;
    this.server = network.signatures(Cast.ROGUE_SERVER);
    this.mailbox = network.signatures(Cast.ROGUE_MAILBOX);
  }

  /** An honest message on the wire: the adversary sees it all. */
  void observe(String from, Outgoing out) {
    if (observed.size() < MEMORY) {
      observed.add(new Observed(from, out));
    } else {
      observed.set((int) (observedTotal % MEMORY), new Observed(from, out));
    }
    observedTotal++;
    studied = Math.max(studied, observedTotal - MEMORY);
  }

  /**
   * What the adversary learnt from the wire since it last looked: evidence by label and kind (the
   * kind read off the message's field, statements parsed only when needed), IP hashes.
   */
  private void study() {
    for (; studied < observedTotal; studied++) {
      Outgoing out = observed.get((int) (studied % MEMORY)).out();
      ProtocolMessage message = out.message();
      String label = Messages.labelOf(message);
      if (out.to().principal().equals(Cast.ROGUE_MAILBOX)) {
        heldAnswerTo(message).ifPresent(held -> notifiedToRogue.put(label, held));
      }
      switch (message.getMessageCase()) {
        case COP_REPLY -> remember(label, EvidenceKind.COP, message.getCopReply().getCop());
        case RELAY -> remember(label, EvidenceKind.COP, message.getRelay().getCop());
        case COD_REPLY -> remember(label, EvidenceKind.COD, message.getCodReply().getCod());
        case DELIVERY_REPORT -> {
          remember(label, EvidenceKind.COD, message.getDeliveryReport().getCod());
          remember(label, EvidenceKind.ROD_N, message.getDeliveryReport().getRodN());
        }
        case NOTIFICATION -> {
          if (!message.getNotification().getLabelledContentHash().isEmpty()) {
            labelledHashes.put(label, message.getNotification().getLabelledContentHash().toByteArray());
          }
        }
        default -> { }
      }
    }
  }

  private void remember(String label, EvidenceKind kind, SignedEvidence item) {
    seen.put(label + "|" + kind, item);
  }

  /** One dishonest act at true time {@code now}: what it is called and what it sends. */
  List<Sent> act(long now, SplittableRandom actRandom, List<String> what) {
    this.random = actRandom;
    study();
    Attack attack = Attack.values()[random.nextInt(Attack.values().length)];
    MailPlan target = plans.get(random.nextInt(plans.size()));
    what.add(attack + " on " + Messages.shortLabel(target.label()));
    return switch (attack) {
      case OFF_ROUTE_NDN_TO_ORIGIN -> List.of(toOrigin(target, ndnMessage(target, now)));
      case OFF_ROUTE_NDN_TO_SENDER -> List.of(toSender(target, ndnMessage(target, now)));
      case SQUATTED_COP_TO_DESTINATION -> List.of(new Sent(Cast.ROGUE_SERVER, new Outgoing(
          Addressee.server(destinationOf(target), squatLabel(target)), squatRelay(target, now))));
      case RELAY_FOR_FUTURE_LABEL -> List.of(new Sent(Cast.ROGUE_SERVER, new Outgoing(
          Addressee.server(pick(routeOf(target)), target.label()), squatRelay(target, now))));
      case SPOOFED_SUBMISSION -> List.of(spoofedSubmission(target, now));
      case FORGED_COP_TO_SENDER -> List.of(forgedCop(target, now));
      case FORGED_ACK -> List.of(forgedHop(target, now, true));
      case FORGED_RELAY_REJECTION -> List.of(forgedHop(target, now, false));
      case FORGED_COD -> List.of(forgedCod(target, now));
      case FORGED_REFUSAL -> List.of(forgedRefusal(target, now));
      case FORGED_ROD_N -> List.of(forgedRodN(target, now));
      case FORGED_ROD_TO_SENDER -> List.of(forgedRod(target, now));
      case FORGED_NOTIFICATION -> List.of(forgedNotification(target, now));
      case FORGED_CONTENT -> List.of(forgedContent(target, now));
      case FETCH_OTHERS_CONTENT -> List.of(new Sent(Cast.ROGUE_MAILBOX, new Outgoing(
          Addressee.server(destinationOf(target), target.label()),
          ProtocolMessage.newBuilder().setContentFetch(ContentFetch.newBuilder().setLabel(target.label())).build())));
      case FORGED_STATUS_ANSWER -> List.of(forgedStatusAnswer(target, now));
      case FOREIGN_LABEL_EVIDENCE -> foreignLabelEvidence(target);
      case REPLAY -> replay(target, false);
      case REPLAY_VERDICT -> replay(target, true);
      case HOLD_ACKNOWLEDGEMENT -> List.of(holdAcknowledgement(target));
    };
  }

  /** The honest hold acknowledgement of a notification or delivery (what an honest B would echo). */
  private static java.util.Optional<NotificationHeld> heldAnswerTo(ProtocolMessage message) {
    if (message.hasNotification()) {
      Notification n = message.getNotification();
      return java.util.Optional.of(NotificationHeld.newBuilder().setLabel(n.getLabel()).setRecipient(Cast.ROGUE_MAILBOX)
          .setSender(n.getSender()).setFlavour(n.getFlavour()).setExpectedHash(n.getLabelledContentHash())
          .setDeadlineMillis(n.getDeadlineMillis()).setCodDeadlineMillis(n.getCodDeadlineMillis()).build());
    }
    if (message.hasDelivery()) {
      Delivery d = message.getDelivery();
      return java.util.Optional.of(NotificationHeld.newBuilder().setLabel(d.getLabel()).setRecipient(Cast.ROGUE_MAILBOX)
          .setSender(d.getSender()).setFlavour(Flavour.CEM)
          .setExpectedHash(ByteString.copyFrom(ContentHash.of(d.getContent().toByteArray())))
          .setDeadlineMillis(d.getDeadlineMillis()).setCodDeadlineMillis(d.getCodDeadlineMillis()).build());
    }
    return java.util.Optional.empty();
  }

  /**
   * The dishonest mailbox says it holds a mail: a true acknowledgement of a mail sent to it (after
   * which it may never decide), one of another mail (other sender, flavour, hash or deadline, or
   * another label's notice), one naming another recipient, or one from the rogue server.
   */
  private Sent holdAcknowledgement(MailPlan target) {
    NotificationHeld notified = notifiedToRogue.get(target.label());
    NotificationHeld held = notified != null ? notified : NotificationHeld.newBuilder().setLabel(target.label())
        .setRecipient(target.recipient()).setSender(target.sender()).setFlavour(target.flavour())
        .setDeadlineMillis(deadlineOf(target)).build();
    String from = Cast.ROGUE_MAILBOX;
    switch (random.nextInt(8)) {
      case 0, 1, 2 -> { } // as notified (for a mail to the rogue mailbox: the true acknowledgement)
      case 3 -> held = held.toBuilder().setSender(pick(Cast.MAILBOXES)).build();
      case 4 -> held = held.toBuilder().setExpectedHash(ByteString.copyFrom(ContentHash.of("other".getBytes())))
          .setFlavour(random.nextBoolean() ? held.getFlavour() : Flavour.NSR).build();
      case 5 -> held = held.toBuilder().setDeadlineMillis(held.getDeadlineMillis() + 1 + random.nextLong(60_000))
          .setCodDeadlineMillis(held.getCodDeadlineMillis() - random.nextLong(60_000)).build();
      case 6 -> held = held.toBuilder().setRecipient(pick(Cast.MAILBOXES)).build();
      default -> from = Cast.ROGUE_SERVER;
    }
    String label = random.nextInt(5) == 0 ? pick(plans).label() : target.label(); // sometimes to another label's Pn
    return new Sent(from, new Outgoing(Addressee.server(destinationOf(target), label),
        ProtocolMessage.newBuilder().setNotificationHeld(held).build()));
  }

  // --- evidence the dishonest principals sign as themselves ---------------------------------

  private Signatures signer() {
    return random.nextBoolean() ? server : mailbox;
  }

  private static String idOf(Signatures signer, Signatures server) {
    return signer == server ? Cast.ROGUE_SERVER : Cast.ROGUE_MAILBOX;
  }

  /** Now, well before, or after the mail's deadline: early and late evidence. */
  private long stamp(MailPlan target, long now) {
    return switch (random.nextInt(5)) {
      case 0 -> now - random.nextLong(60_000);
      case 1 -> deadlineOf(target) + random.nextLong(2 * timings.grace().toMillis() + 1);
      default -> now + random.nextLong(-2_000, 2_001);
    };
  }

  private SignedEvidence sign(Signatures signer, EvidenceStatement statement) {
    return signer.sign(statement.toBuilder().setIssuer(idOf(signer, server)).build());
  }

  private ProtocolMessage ndnMessage(MailPlan target, long now) {
    Signatures signer = signer();
    EvidenceStatement ndn = EvidenceStatements.ndn(idOf(signer, server), target.label(), target.sender(),
        target.recipient(), EtsiEvent.CONTENT_CONSIGNMENT_FAILURE, REASONS[random.nextInt(REASONS.length)],
        "dishonest", stamp(target, now));
    return ProtocolMessage.newBuilder().setNonDeliveryNotice(NonDeliveryNotice.newBuilder()
        .setLabel(target.label()).setNdn(sign(signer, ndn))).build();
  }

  private String squatLabel(MailPlan target) {
    // the origin's namespace (squatting), or the rogue's own namespace for another server's sender
    return random.nextInt(3) == 0 ? Labels.forSubmission(Cast.ROGUE_SERVER, target.sender(), target.submissionId())
        : target.label();
  }

  private ProtocolMessage squatRelay(MailPlan target, long now) {
    byte[] content = ("squatted " + random.nextInt()).getBytes();
    String label = squatLabel(target);
    List<String> route = random.nextBoolean() ? routeOf(target)
        : List.of(Cast.ROGUE_SERVER, destinationOf(target));
    long deadline = deadlineOf(target);
    EvidenceStatement cop = EvidenceStatements.cop(Cast.ROGUE_SERVER, label, target.sender(), target.recipient(),
        ContentHash.of(content), deadline, target.flavour(), target.submissionId(), route, stamp(target, now));
    return ProtocolMessage.newBuilder().setRelay(Relay.newBuilder().setLabel(label).setSender(target.sender())
        .setRecipient(target.recipient()).setContent(ByteString.copyFrom(content)).setDeadlineMillis(deadline)
        .setFlavour(target.flavour()).setOriginServer(random.nextBoolean() ? target.origin() : Cast.ROGUE_SERVER)
        .setCop(server.sign(cop))).build();
  }

  private Sent spoofedSubmission(MailPlan target, long now) {
    String from = random.nextBoolean() ? Cast.ROGUE_MAILBOX : Cast.ROGUE_SERVER;
    Submission submission = Submission.newBuilder().setSubmissionId(target.submissionId())
        .setSender(random.nextBoolean() ? target.sender() : from).setRecipient(pick(Cast.MAILBOXES))
        .setContent(ByteString.copyFromUtf8("spoofed")).setDeadlineMillis(deadlineOf(target))
        .setFlavour(target.flavour()).build();
    return new Sent(from, new Outgoing(Addressee.server(target.origin(), target.label()),
        ProtocolMessage.newBuilder().setSubmission(submission).build()));
  }

  private Sent forgedCop(MailPlan target, long now) {
    SignedEvidence cop;
    SignedEvidence other = seenOfAnotherLabel(target, EvidenceKind.COP);
    if (other != null && random.nextBoolean()) {
      cop = other;
    } else {
      EvidenceStatement statement = EvidenceStatements.cop(Cast.ROGUE_SERVER, target.label(), target.sender(),
          target.recipient(), ContentHash.of(target.content()), deadlineOf(target), target.flavour(),
          target.submissionId(), routeOf(target), stamp(target, now));
      cop = server.sign(statement);
    }
    return toSender(target, ProtocolMessage.newBuilder().setCopReply(CopReply.newBuilder()
        .setSubmissionId(target.submissionId()).setLabel(target.label()).setCop(cop)).build());
  }

  private Sent forgedHop(MailPlan target, long now, boolean ack) {
    Signatures signer = signer();
    String previous = pick(routeOf(target));
    EvidenceStatement statement = ack
        ? EvidenceStatements.relayAck(idOf(signer, server), previous, target.label(), target.sender(),
            target.recipient(), stamp(target, now))
        : EvidenceStatements.relayRejection(idOf(signer, server), previous, target.label(), target.sender(),
            target.recipient(), ReasonCode.RELAY_REJECTED, "dishonest", stamp(target, now));
    ProtocolMessage message = ack
        ? ProtocolMessage.newBuilder().setRelayAck(RelayAck.newBuilder().setLabel(target.label())
            .setAck(sign(signer, statement))).build()
        : ProtocolMessage.newBuilder().setRelayRejected(RelayRejected.newBuilder().setLabel(target.label())
            .setRejection(sign(signer, statement))).build();
    return new Sent(idOf(signer, server), new Outgoing(Addressee.server(previous, target.label()), message));
  }

  private SignedEvidence forgedCodItem(MailPlan target, long now, Signatures signer) {
    byte[] hash = switch (target.flavour()) {
      case CEM -> ContentHash.of(target.content());
      case IP -> labelledHashes.getOrDefault(target.label(), ContentHash.labelled(target.label(), new byte[1]));
      default -> new byte[0];
    };
    EvidenceStatement cod = EvidenceStatements.cod(idOf(signer, server), destinationOf(target), target.label(),
        target.sender(), target.flavour() == Flavour.FLAVOUR_UNSPECIFIED ? Flavour.CEM : target.flavour(),
        target.flavour() == Flavour.NSR ? new byte[0] : hash, stamp(target, now))
        .toBuilder().setRecipient(target.recipient()).build();
    return sign(signer, cod);
  }

  private Sent forgedCod(MailPlan target, long now) {
    Signatures signer = random.nextInt(4) == 0 ? server : mailbox;
    return new Sent(idOf(signer, server), new Outgoing(Addressee.server(destinationOf(target), target.label()),
        ProtocolMessage.newBuilder().setCodReply(CodReply.newBuilder().setLabel(target.label())
            .setCod(forgedCodItem(target, now, signer))).build()));
  }

  private Sent forgedRefusal(MailPlan target, long now) {
    EvidenceStatement refusal = EvidenceStatements.recipientRefusal(Cast.ROGUE_MAILBOX, destinationOf(target),
        target.label(), target.sender(), "dishonest", stamp(target, now)).toBuilder()
        .setRecipient(target.recipient()).build();
    return new Sent(Cast.ROGUE_MAILBOX, new Outgoing(Addressee.server(destinationOf(target), target.label()),
        ProtocolMessage.newBuilder().setRecipientRefusal(RecipientRefusal.newBuilder().setLabel(target.label())
            .setRefusal(mailbox.sign(refusal))).build()));
  }

  private SignedEvidence codFor(MailPlan target, long now) {
    SignedEvidence cod = seen.get(target.label() + "|" + EvidenceKind.COD);
    return cod != null && random.nextBoolean() ? cod : forgedCodItem(target, now, mailbox);
  }

  private Sent forgedRodN(MailPlan target, long now) {
    SignedEvidence cod = codFor(target, now);
    Signatures signer = signer();
    EvidenceStatement rodN = EvidenceStatements.rodN(idOf(signer, server), target.label(), target.sender(),
        target.recipient(), cod.getStatement().toByteArray(), stamp(target, now));
    return new Sent(idOf(signer, server), new Outgoing(Addressee.server(pick(routeOf(target)), target.label()),
        ProtocolMessage.newBuilder().setDeliveryReport(DeliveryReport.newBuilder().setLabel(target.label())
            .setRodN(sign(signer, rodN)).setCod(cod)).build()));
  }

  private Sent forgedRod(MailPlan target, long now) {
    SignedEvidence cod = codFor(target, now);
    byte[] codBytes = cod.getStatement().toByteArray();
    SignedEvidence rodN = seen.get(target.label() + "|" + EvidenceKind.ROD_N);
    if (rodN == null || random.nextBoolean()) {
      rodN = server.sign(EvidenceStatements.rodN(Cast.ROGUE_SERVER, target.label(), target.sender(),
          target.recipient(), codBytes, stamp(target, now)));
    }
    SignedEvidence rod = server.sign(EvidenceStatements.rod(Cast.ROGUE_SERVER, destinationOf(target), target.label(),
        target.sender(), target.recipient(), codBytes, stamp(target, now)));
    return toSender(target, ProtocolMessage.newBuilder().setDeliveryReport(DeliveryReport.newBuilder()
        .setLabel(target.label()).setRodN(rodN).setCod(cod).setRod(rod)).build());
  }

  private Sent forgedNotification(MailPlan target, long now) {
    String from = random.nextBoolean() ? Cast.ROGUE_SERVER : Cast.ROGUE_MAILBOX;
    long deadline = deadlineOf(target);
    ProtocolMessage message;
    if (target.flavour() == Flavour.CEM || random.nextInt(4) == 0) {
      message = ProtocolMessage.newBuilder().setDelivery(Delivery.newBuilder().setLabel(target.label())
          .setSender(target.sender()).setContent(ByteString.copyFromUtf8("forged content"))
          .setDeadlineMillis(deadline).setCodDeadlineMillis(timings.codCutoff(deadline))).build();
    } else {
      message = ProtocolMessage.newBuilder().setNotification(Notification.newBuilder().setLabel(target.label())
          .setSender(target.sender()).setFlavour(target.flavour())
          .setLabelledContentHash(target.flavour() == Flavour.IP
              ? ByteString.copyFrom(ContentHash.labelled(target.label(), "forged".getBytes())) : ByteString.EMPTY)
          .setContentSize(6).setDeadlineMillis(deadline).setCodDeadlineMillis(timings.codCutoff(deadline))).build();
    }
    return new Sent(from, new Outgoing(Addressee.recipient(target.recipient(), target.label()), message));
  }

  private Sent forgedContent(MailPlan target, long now) {
    byte[] content = ("forged " + random.nextInt()).getBytes();
    EvidenceStatement handover = EvidenceStatements.contentHandover(Cast.ROGUE_SERVER, target.recipient(),
        target.label(), target.sender(), target.flavour(), ContentHash.of(content), stamp(target, now));
    return new Sent(Cast.ROGUE_SERVER, new Outgoing(Addressee.recipient(target.recipient(), target.label()),
        ProtocolMessage.newBuilder().setContent(Content.newBuilder().setLabel(target.label())
            .setContent(ByteString.copyFrom(content)).setHandover(server.sign(handover))).build()));
  }

  private Sent forgedStatusAnswer(MailPlan target, long now) {
    boolean delivered = random.nextBoolean();
    StatusAnswer.Builder answer = StatusAnswer.newBuilder().setSubmissionId(target.submissionId())
        .setLabel(target.label()).setStatus(delivered ? DeliveryStatus.DELIVERED : DeliveryStatus.NOT_DELIVERED);
    if (delivered) {
      answer.addAllEvidence(forgedRod(target, now).out().message().getDeliveryReport().getAllFields().values().stream()
          .filter(SignedEvidence.class::isInstance).map(SignedEvidence.class::cast).toList());
    } else {
      answer.addEvidence(ndnMessage(target, now).getNonDeliveryNotice().getNdn()).setReason(ReasonCode.RELAY_UNREACHABLE);
    }
    return new Sent(Cast.ROGUE_SERVER, new Outgoing(Addressee.sender(target.sender(), target.submissionId()),
        ProtocolMessage.newBuilder().setStatusAnswer(answer).build()));
  }

  // --- what the adversary saw, presented again ----------------------------------------------

  private List<Sent> foreignLabelEvidence(MailPlan target) {
    List<Observed> candidates = observed.stream()
        .filter(o -> !Messages.evidenceIn(o.out().message()).isEmpty()
            && !Messages.labelOf(o.out().message()).isEmpty()
            && !Messages.labelOf(o.out().message()).equals(target.label()))
        .toList();
    if (candidates.isEmpty()) {
      return List.of();
    }
    Observed seenMessage = candidates.get(random.nextInt(candidates.size()));
    ProtocolMessage message = Messages.relabelled(seenMessage.out().message(), target.label());
    Addressee original = seenMessage.out().to();
    Addressee to = switch (original.role()) {
      case SENDER -> Addressee.sender(target.sender(), target.submissionId());
      case SERVER -> Addressee.server(random.nextBoolean() ? original.principal() : pick(routeOf(target)), target.label());
      case RECIPIENT -> Addressee.recipient(target.recipient(), target.label());
    };
    return List.of(new Sent(random.nextBoolean() ? Cast.ROGUE_SERVER : Cast.ROGUE_MAILBOX, new Outgoing(to, message)));
  }

  private List<Sent> replay(MailPlan target, boolean verdictsOnly) {
    List<Observed> candidates = observed.stream()
        .filter(o -> !verdictsOnly || o.out().message().hasNonDeliveryNotice() || o.out().message().hasDeliveryReport()
            || o.out().message().hasStatusAnswer())
        .toList();
    if (candidates.isEmpty()) {
      return List.of();
    }
    Observed seenMessage = candidates.get(random.nextInt(candidates.size()));
    String from = random.nextBoolean() ? Cast.ROGUE_SERVER : Cast.ROGUE_MAILBOX;
    Addressee to = seenMessage.out().to();
    if (random.nextInt(3) == 0) {
      String label = Messages.labelOf(seenMessage.out().message());
      MailPlan mail = plans.stream().filter(p -> p.label().equals(label)).findFirst().orElse(target);
      to = switch (random.nextInt(4)) {
        case 0 -> Addressee.sender(mail.sender(), mail.submissionId());
        case 1 -> Addressee.server(mail.origin(), mail.label());
        case 2 -> Addressee.server(destinationOf(mail), mail.label());
        default -> Addressee.recipient(mail.recipient(), mail.label());
      };
    }
    return List.of(new Sent(from, new Outgoing(to, seenMessage.out().message())));
  }

  // --- what the adversary knows about its targets -------------------------------------------

  private Sent toOrigin(MailPlan target, ProtocolMessage message) {
    String from = Messages.evidenceIn(message).isEmpty() ? Cast.ROGUE_SERVER : Messages.evidenceIn(message).get(0).getSigner();
    return new Sent(from, new Outgoing(Addressee.server(target.origin(), target.label()), message));
  }

  private Sent toSender(MailPlan target, ProtocolMessage message) {
    String from = Messages.evidenceIn(message).isEmpty() ? Cast.ROGUE_SERVER : Messages.evidenceIn(message).get(0).getSigner();
    if (Cast.isHonest(from)) {
      from = Cast.ROGUE_SERVER; // a replayed honest item: the envelope is still the adversary's
    }
    return new Sent(from, new Outgoing(Addressee.sender(target.sender(), target.submissionId()), message));
  }

  private SignedEvidence seenOfAnotherLabel(MailPlan target, EvidenceKind kind) {
    for (Map.Entry<String, SignedEvidence> entry : seen.entrySet()) {
      if (entry.getKey().endsWith("|" + kind) && !entry.getKey().startsWith(target.label() + "|")) {
        return entry.getValue();
      }
    }
    return null;
  }

  private long deadlineOf(MailPlan target) {
    SignedEvidence cop = seen.get(target.label() + "|" + EvidenceKind.COP);
    EvidenceStatement statement = cop == null ? null : Messages.statementOf(cop);
    return statement != null ? statement.getDeadlineMillis() : target.submitAt() + target.leadMillis();
  }

  private List<String> routeOf(MailPlan target) {
    return network.routing().route(target.origin(), target.recipient()).orElse(List.of(target.origin()));
  }

  private String destinationOf(MailPlan target) {
    return Routing.domainOf(target.recipient());
  }

  private <T> T pick(List<T> items) {
    return items.get(random.nextInt(items.size()));
  }
}
