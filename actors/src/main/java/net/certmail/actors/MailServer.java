package net.certmail.actors;

import com.google.protobuf.ByteString;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.crypto.OpenedEnvelope;
import net.certmail.crypto.VerifiedEvidence;
import net.certmail.proto.v1.CodAccepted;
import net.certmail.proto.v1.Content;
import net.certmail.proto.v1.ContentReleased;
import net.certmail.proto.v1.CopReply;
import net.certmail.proto.v1.Delivery;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.StatusAnswer;
import net.certmail.proto.v1.DeliveryCertified;
import net.certmail.proto.v1.DeliveryReport;
import net.certmail.proto.v1.EtsiEvent;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.ForwardAcknowledged;
import net.certmail.proto.v1.LateEvidenceRecorded;
import net.certmail.proto.v1.MailInTransit;
import net.certmail.proto.v1.NonDeliveryIssued;
import net.certmail.proto.v1.NonDeliveryNotice;
import net.certmail.proto.v1.NonDeliveryRecorded;
import net.certmail.proto.v1.Notification;
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
import net.certmail.proto.v1.Submission;
import net.certmail.proto.v1.SubmissionAccepted;
import net.certmail.proto.v1.SubmissionDeclined;
import net.certmail.proto.v1.SubmissionRejected;
import net.certmail.proto.v1.UpstreamReceiptConfirmed;
import net.certmail.protocol.EvidenceChecks;
import net.certmail.protocol.Refusal;
import net.certmail.protocol.Routing;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerBuilder;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;

/**
 * A mail server's part in one label: the paper's P1 (origin), Pi (relay) and Pn (destination).
 * One entity per (server, label) plays every role the server has on the route, so a route of one
 * server (A and B at the same server) is P1 and Pn at once.
 *
 * <pre>
 *   Unassigned --Submission (P1: COP, step 2) / Relay (Pi+1: ACK_i, step 4)--> Carrying
 *   Unassigned --Submission or Relay refused------------------------------> Declined
 *
 *   Carrying, by stage (see {@link Carriage#stage()}):
 *     FORWARDING         relay to the next hop until ACK_i (step 3); relay timeout -> NDN
 *     DELIVERING         Pn: deliver or notify B until COD (step 5/6); refusal or timeout -> NDN
 *     REPORTING          Pn / Pi: send ROD_n + COD (step 8) or the NDN to P1 until it confirms
 *     AWAITING_VERDICT   P1: until ROD_n or an NDN arrives; at T minus margin -> own NDN
 *     REPORTING_VERDICT  P1: ROD + COD or NDN to A until A confirms
 *     SETTLED            nothing owed: passivate (NSR/IP content fetches still wake it)
 * </pre>
 *
 * Exactly one verdict per label: the first ROD or NDN at P1 wins, later evidence is recorded.
 */
public final class MailServer extends EventSourcedBehavior<MailServer.Command, ServerEvent, MailServer.State> {

  public sealed interface Command permits Inbound, Tick, GetPublicEvidence {}

  /**
   * The public directory of an origin server P1: what it published about a label it issued
   * (COP, ROD, COD, NDN). Anyone may ask; nothing here is secret, and other servers' entities
   * for the label (relays, the destination) answer that they published nothing.
   */
  public record GetPublicEvidence(ActorRef<PublicEvidence> replyTo) implements Command, CborSerializable {}

  /** {@code published}: false when this server issued no such label; evidence as SignedEvidence bytes. */
  public record PublicEvidence(String server, String label, boolean published, List<byte[]> evidence)
      implements CborSerializable {}

  private enum Tick implements Command { INSTANCE }

  public static EntityTypeKey<Command> typeKey(String server) {
    return Postman.key(Command.class, EntityKind.SERVER, server);
  }

  public static Behavior<Command> create(EntityContext<Command> context, ProtocolServices services) {
    return Behaviors.setup(actorContext -> Behaviors.withTimers(timers ->
        new MailServer(context, services, new EntityLifecycle<>(context, actorContext.getSelf(), timers, Tick.INSTANCE,
            java.time.Duration.ofMillis(250)), actorContext.getLog())));
  }

  // ---- state ----

  public sealed interface State permits Unassigned, Declined, Carrying {}

  public enum Unassigned implements State { INSTANCE }

  /** This server refused the mail; duplicates get the same signed refusal. */
  public record Declined(String counterpart, ProtocolMessage answer) implements State {}

  public record Carrying(Carriage carriage) implements State {}

  public enum Stage { FORWARDING, DELIVERING, REPORTING, AWAITING_VERDICT, REPORTING_VERDICT, SETTLED }

  /** Everything this server holds about the mail, and the evidence of each step it took part in. */
  public record Carriage(
      MailInTransit mail,
      boolean origin,
      String previousHop,
      SignedEvidence ackGiven,
      String nextHop,
      long acceptedAtMillis,
      SignedEvidence forwardAck,
      SignedEvidence cod,
      SignedEvidence rodN,
      SignedEvidence refusal,
      SignedEvidence handover,
      SignedEvidence ndn,
      SignedEvidence rod,
      boolean upstreamConfirmed,
      List<SignedEvidence> late) {

    boolean destination() {
      return nextHop.isEmpty();
    }

    boolean verdictReached() {
      return origin && (rod != null || ndn != null);
    }

    Stage stage() {
      if (ndn == null && !destination() && forwardAck == null) {
        return Stage.FORWARDING;
      }
      if (ndn == null && destination() && cod == null) {
        return Stage.DELIVERING;
      }
      if (!origin && (rodN != null || ndn != null) && !upstreamConfirmed) {
        return Stage.REPORTING;
      }
      if (origin && !verdictReached()) {
        return Stage.AWAITING_VERDICT;
      }
      if (origin && !upstreamConfirmed) {
        return Stage.REPORTING_VERDICT;
      }
      return Stage.SETTLED;
    }
  }

  private final EntityContext<Command> entity;
  private final ProtocolServices services;
  private final EntityLifecycle<Command> lifecycle;
  private final Logger log;
  private final String me;
  private final String label;
  private final Resends resends;
  private Stage lastStage;

  private MailServer(EntityContext<Command> entity, ProtocolServices services, EntityLifecycle<Command> lifecycle,
                     Logger log) {
    super(PersistenceId.ofUniqueId(entity.getEntityId()));
    this.entity = entity;
    this.services = services;
    this.lifecycle = lifecycle;
    this.log = log;
    this.me = EntityKind.principalOf(entity.getEntityId());
    this.label = EntityKind.keyOf(entity.getEntityId());
    this.resends = new Resends(services.timings);
  }

  @Override
  public State emptyState() {
    return Unassigned.INSTANCE;
  }

  @Override
  public CommandHandler<Command, ServerEvent, State> commandHandler() {
    CommandHandlerBuilder<Command, ServerEvent, State> builder = newCommandHandlerBuilder();
    builder.forStateType(Unassigned.class)
        .onCommand(Inbound.class, (state, inbound) -> {
          // Whatever this message leads to, an entity left without state passivates on the next
          // tick: stray or forged messages must not leave remembered entities behind.
          lifecycle.startTicking();
          return onInboundUnassigned(state, inbound);
        })
        .onCommand(Tick.class, (state, tick) -> passivate())
        .onCommand(GetPublicEvidence.class, (state, query) -> replyPublic(null, query));
    builder.forStateType(Declined.class)
        .onCommand(Inbound.class, this::onInboundDeclined)
        .onCommand(Tick.class, (state, tick) -> passivate())
        .onCommand(GetPublicEvidence.class, (state, query) -> replyPublic(null, query));
    builder.forStateType(Carrying.class)
        .onCommand(Inbound.class, this::onInboundCarrying)
        .onCommand(Tick.class, (state, tick) -> onTick(state.carriage()))
        .onCommand(GetPublicEvidence.class, (state, query) -> replyPublic(state.carriage(), query));
    return builder.build();
  }

  /** P1's directory entry: COP, then the verdict's evidence (ROD and COD, or NDN); late evidence is not published. */
  private Effect<ServerEvent, State> replyPublic(Carriage carriage, GetPublicEvidence query) {
    if (carriage == null || !carriage.origin()) {
      return Effect().reply(query.replyTo(), new PublicEvidence(me, label, false, List.of()));
    }
    List<byte[]> published = new ArrayList<>();
    for (SignedEvidence item : new SignedEvidence[] {carriage.mail().getCop(), carriage.rod(), carriage.cod(),
        carriage.ndn()}) {
      if (item != null && !item.getSignature().isEmpty()) {
        published.add(item.toByteArray());
      }
    }
    return Effect().reply(query.replyTo(), new PublicEvidence(me, label, true, published));
  }

  // ---- Unassigned: a submission (P1) or a relay (Pi+1) starts this server's part ----

  private Effect<ServerEvent, State> onInboundUnassigned(Unassigned state, Inbound inbound) {
    Optional<OpenedEnvelope> opened = InboundEnvelopes.open(services, inbound, entity.getEntityId(), log);
    if (opened.isEmpty()) {
      return Effect().none();
    }
    ProtocolMessage message = opened.get().message();
    return switch (message.getMessageCase()) {
      case SUBMISSION -> onSubmission(message.getSubmission(), opened.get().from());
      case RELAY -> onRelay(message.getRelay(), opened.get().from());
      case CONTENT_FETCH, COD_REPLY -> ignore("NO_SUCH_MAIL", message.getMessageCase() + " for a label never delivered here");
      default -> ignore("NO_SUCH_MAIL", message.getMessageCase() + " for a label this server does not carry");
    };
  }

  /** Steps 1 and 2: check A's submission against the policy, then sign the COP or a rejection. */
  private Effect<ServerEvent, State> onSubmission(Submission submission, String from) {
    long now = services.now();
    byte[] contentHash = ContentHash.of(submission.getContent().toByteArray());
    Optional<Refusal> refusal = services.submissionPolicy.check(submission, from, clockInstant(), services.routing)
        .or(() -> unknownLocalRecipient(submission.getRecipient()));
    Optional<List<String>> route = services.routing.route(me, submission.getRecipient());
    if (refusal.isEmpty() && route.isEmpty()) {
      refusal = Optional.of(new Refusal(ReasonCode.UNKNOWN_DOMAIN, "no loop-free route to " + submission.getRecipient()));
    }
    if (refusal.isPresent()) {
      SignedEvidence rejection = services.signer(me).sign(EvidenceStatements.submissionRejection(me,
          submission.getSender(), submission.getRecipient(), contentHash, submission.getDeadlineMillis(),
          submission.getFlavour(), submission.getSubmissionId(), refusal.get().reason(), refusal.get().detail(), now));
      SubmissionDeclined declined = SubmissionDeclined.newBuilder().setSubmissionId(submission.getSubmissionId())
          .setSender(submission.getSender()).setRejection(rejection).build();
      return Effect().persist(ServerEvent.newBuilder().setSubmissionDeclined(declined).build())
          .thenRun(newState -> answerDeclined((Declined) newState));
    }
    SignedEvidence cop = services.signer(me).sign(EvidenceStatements.cop(me, label, submission.getSender(),
        submission.getRecipient(), contentHash, submission.getDeadlineMillis(), submission.getFlavour(),
        submission.getSubmissionId(), route.get(), now));
    MailInTransit mail = MailInTransit.newBuilder().setLabel(label).setSender(submission.getSender())
        .setRecipient(submission.getRecipient()).setContent(submission.getContent())
        .setDeadlineMillis(submission.getDeadlineMillis()).setFlavour(submission.getFlavour())
        .setOriginServer(me).setCop(cop).setSubmissionId(submission.getSubmissionId()).build();
    SubmissionAccepted accepted = SubmissionAccepted.newBuilder().setMail(mail)
        .setNextHop(services.routing.nextHop(me, submission.getRecipient()).orElse(""))
        .setAcceptedAtMillis(now).build();
    return Effect().persist(ServerEvent.newBuilder().setSubmissionAccepted(accepted).build())
        .thenRun(newState -> {
          answerSubmission(((Carrying) newState).carriage());
          act(((Carrying) newState).carriage());
          startTicking();
        });
  }

  /** Steps 3 and 4 on the receiving side: check what Pi relays, then sign ACK_i or a rejection. */
  private Effect<ServerEvent, State> onRelay(Relay relay, String previousHop) {
    long now = services.now();
    MailInTransit mail = MailInTransit.newBuilder().setLabel(relay.getLabel()).setSender(relay.getSender())
        .setRecipient(relay.getRecipient()).setContent(relay.getContent()).setDeadlineMillis(relay.getDeadlineMillis())
        .setFlavour(relay.getFlavour()).setOriginServer(relay.getOriginServer()).setCop(relay.getCop()).build();
    Optional<VerifiedEvidence> cop = services.verify(relay.getCop(), EvidenceKind.COP, log, entity.getEntityId());
    if (cop.isEmpty()) {
      return Effect().none();
    }
    Optional<String> problem = EvidenceChecks.relayedCop(cop.get().statement(), mail);
    if (problem.isPresent()) {
      return ignore("EVIDENCE_MISMATCH", problem.get());
    }
    Optional<Refusal> refusal = Optional.<Refusal>empty()
        .or(() -> services.routing.knowsDomain(mail.getRecipient()) ? Optional.empty()
            : Optional.of(new Refusal(ReasonCode.UNKNOWN_DOMAIN, "no server for " + Routing.domainOf(mail.getRecipient()))))
        .or(() -> unknownLocalRecipient(mail.getRecipient()))
        .or(() -> now < services.timings.codCutoff(mail.getDeadlineMillis()) ? Optional.empty()
            : Optional.of(new Refusal(ReasonCode.DEADLINE_EXPIRED, "too close to the deadline to deliver")));
    if (refusal.isPresent()) {
      SignedEvidence rejection = services.signer(me).sign(EvidenceStatements.relayRejection(me, previousHop, label,
          mail.getSender(), mail.getRecipient(), refusal.get().reason(), refusal.get().detail(), now));
      return Effect().persist(ServerEvent.newBuilder().setRelayDeclined(RelayDeclined.newBuilder()
              .setLabel(label).setPreviousHop(previousHop).setRejection(rejection)).build())
          .thenRun(newState -> answerDeclined((Declined) newState));
    }
    SignedEvidence ack = services.signer(me).sign(
        EvidenceStatements.relayAck(me, previousHop, label, mail.getSender(), mail.getRecipient(), now));
    RelayAccepted accepted = RelayAccepted.newBuilder().setMail(mail).setPreviousHop(previousHop).setAck(ack)
        .setNextHop(services.routing.nextHop(me, mail.getRecipient()).orElse("")).setAcceptedAtMillis(now).build();
    return Effect().persist(ServerEvent.newBuilder().setRelayAccepted(accepted).build())
        .thenRun(newState -> {
          answerRelay(((Carrying) newState).carriage());
          act(((Carrying) newState).carriage());
          startTicking();
        });
  }

  private Optional<Refusal> unknownLocalRecipient(String recipient) {
    if (Routing.domainOf(recipient).equals(me) && !services.trustStore.knows(recipient)) {
      return Optional.of(new Refusal(ReasonCode.UNKNOWN_RECIPIENT, "no mailbox " + recipient + " at " + me));
    }
    return Optional.empty();
  }

  // ---- Declined ----

  private Effect<ServerEvent, State> onInboundDeclined(Declined state, Inbound inbound) {
    Optional<OpenedEnvelope> opened = InboundEnvelopes.open(services, inbound, entity.getEntityId(), log);
    if (opened.isPresent() && opened.get().from().equals(state.counterpart())) {
      answerDeclined(state);
    }
    return Effect().none();
  }

  // ---- Carrying ----

  private Effect<ServerEvent, State> onInboundCarrying(Carrying state, Inbound inbound) {
    Optional<OpenedEnvelope> opened = InboundEnvelopes.open(services, inbound, entity.getEntityId(), log);
    if (opened.isEmpty()) {
      return Effect().none();
    }
    Carriage carriage = state.carriage();
    String from = opened.get().from();
    ProtocolMessage message = opened.get().message();
    return switch (message.getMessageCase()) {
      case SUBMISSION -> duplicate(carriage.origin() && from.equals(carriage.mail().getSender()),
          () -> answerSubmission(carriage));
      case RELAY -> duplicate(from.equals(carriage.previousHop()), () -> answerRelay(carriage));
      case RELAY_ACK -> onRelayAck(carriage, message.getRelayAck(), from);
      case RELAY_REJECTED -> onRelayRejected(carriage, message.getRelayRejected(), from);
      case COD_REPLY -> onCod(carriage, message.getCodReply().getCod(), from);
      case RECIPIENT_REFUSAL -> onRefusal(carriage, message.getRecipientRefusal().getRefusal(), from);
      case CONTENT_FETCH -> onContentFetch(carriage, from);
      case DELIVERY_REPORT -> onDeliveryReport(carriage, message.getDeliveryReport(), from);
      case NON_DELIVERY_NOTICE -> onNonDeliveryNotice(carriage, message.getNonDeliveryNotice(), from);
      case RECEIPT -> onReceipt(carriage, from);
      case STATUS_ANSWER -> onProgressNote(carriage, message.getStatusAnswer(), from);
      default -> ignore("UNEXPECTED_MESSAGE", message.getMessageCase().name());
    };
  }

  /** Step 4 on the sending side: the next hop's ACK_i ends this server's relay duty. */
  private Effect<ServerEvent, State> onRelayAck(Carriage carriage, RelayAck ack, String from) {
    if (carriage.stage() != Stage.FORWARDING) {
      return Effect().none(); // a duplicate ACK, or one after this server gave up
    }
    Optional<VerifiedEvidence> verified = services.verify(ack.getAck(), EvidenceKind.RELAY_ACK, log, entity.getEntityId());
    if (verified.isEmpty()) {
      return Effect().none();
    }
    Optional<String> problem = EvidenceChecks.relayAck(verified.get().statement(), me, carriage.nextHop(), carriage.mail());
    if (problem.isPresent()) {
      return ignore("EVIDENCE_MISMATCH", problem.get());
    }
    return persistAndAct(ServerEvent.newBuilder()
        .setForwardAcknowledged(ForwardAcknowledged.newBuilder().setAck(ack.getAck())).build());
  }

  private Effect<ServerEvent, State> onRelayRejected(Carriage carriage, RelayRejected rejected, String from) {
    if (carriage.stage() != Stage.FORWARDING) {
      return Effect().none();
    }
    Optional<VerifiedEvidence> verified =
        services.verify(rejected.getRejection(), EvidenceKind.RELAY_REJECTION, log, entity.getEntityId());
    if (verified.isEmpty()) {
      return Effect().none();
    }
    Optional<String> problem = EvidenceChecks.relayRejection(verified.get().statement(), me, carriage.nextHop(), label);
    if (problem.isPresent()) {
      return ignore("EVIDENCE_MISMATCH", problem.get());
    }
    EvidenceStatement statement = verified.get().statement();
    ReasonCode reason = statement.getReason() == ReasonCode.UNKNOWN_RECIPIENT
        || statement.getReason() == ReasonCode.UNKNOWN_DOMAIN ? statement.getReason() : ReasonCode.RELAY_REJECTED;
    return issueNonDelivery(carriage, EtsiEvent.CONTENT_CONSIGNMENT_FAILURE, reason,
        carriage.nextHop() + " refused the mail: " + statement.getReasonDetail());
  }

  /** Step 6: B's COD. Accepted only before T minus the margin; ROD_n is signed in the same step. */
  private Effect<ServerEvent, State> onCod(Carriage carriage, SignedEvidence cod, String from) {
    if (!carriage.destination() || !from.equals(carriage.mail().getRecipient())) {
      return ignore("WRONG_PARTY", "COD from " + from);
    }
    if (carriage.stage() != Stage.DELIVERING) {
      return recordLate(carriage, List.of(cod));
    }
    long now = services.now();
    if (now > services.timings.codCutoff(carriage.mail().getDeadlineMillis())) {
      services.metrics.ignored(log, entity.getEntityId(), "COD_TOO_LATE", "COD after T minus margin");
      return Effect().none();
    }
    Optional<VerifiedEvidence> verified = services.verify(cod, EvidenceKind.COD, log, entity.getEntityId());
    if (verified.isEmpty()) {
      return Effect().none();
    }
    Optional<String> problem = EvidenceChecks.cod(verified.get().statement(), me, carriage.mail());
    if (problem.isPresent()) {
      return ignore("EVIDENCE_MISMATCH", problem.get());
    }
    byte[] codStatement = cod.getStatement().toByteArray();
    SignedEvidence rodN = services.signer(me).sign(EvidenceStatements.rodN(me, label, carriage.mail().getSender(),
        carriage.mail().getRecipient(), codStatement, now));
    List<ServerEvent> events = new ArrayList<>();
    events.add(ServerEvent.newBuilder().setCodAccepted(CodAccepted.newBuilder().setCod(cod).setRodN(rodN)).build());
    if (carriage.origin()) {
      events.add(certifyDelivery(carriage.mail(), rodN, cod, now));
    }
    return persistAndAct(events);
  }

  private Effect<ServerEvent, State> onRefusal(Carriage carriage, SignedEvidence refusal, String from) {
    if (!carriage.destination() || !from.equals(carriage.mail().getRecipient())) {
      return ignore("WRONG_PARTY", "refusal from " + from);
    }
    if (carriage.stage() != Stage.DELIVERING) {
      return recordLate(carriage, List.of(refusal));
    }
    Optional<VerifiedEvidence> verified =
        services.verify(refusal, EvidenceKind.RECIPIENT_REFUSAL, log, entity.getEntityId());
    if (verified.isEmpty()) {
      return Effect().none();
    }
    Optional<String> problem = EvidenceChecks.refusal(verified.get().statement(), me, carriage.mail());
    if (problem.isPresent()) {
      return ignore("EVIDENCE_MISMATCH", problem.get());
    }
    SignedEvidence ndn = signNonDelivery(carriage, EtsiEvent.CONTENT_CONSIGNMENT_FAILURE, ReasonCode.RECIPIENT_REFUSED,
        "the recipient refused: " + verified.get().statement().getReasonDetail());
    return persistAndAct(ServerEvent.newBuilder()
        .setRefusalAccepted(RefusalAccepted.newBuilder().setRefusal(refusal).setNdn(ndn)).build());
  }

  /** Step 7 of NSR and IP: M goes to B only after its COD, and not after T minus the margin. */
  private Effect<ServerEvent, State> onContentFetch(Carriage carriage, String from) {
    if (!carriage.destination() || !from.equals(carriage.mail().getRecipient())) {
      return ignore("WRONG_PARTY", "content fetch from " + from);
    }
    if (carriage.mail().getFlavour() == Flavour.CEM || carriage.cod() == null) {
      return ignore("CONTENT_NOT_RELEASABLE", "no content before the recipient's COD");
    }
    if (carriage.handover() != null) {
      sendContent(carriage, carriage.handover());
      return Effect().none();
    }
    long now = services.now();
    if (now > services.timings.codCutoff(carriage.mail().getDeadlineMillis())) {
      return ignore("CONTENT_NOT_RELEASABLE", "content is not released after T minus margin");
    }
    SignedEvidence handover = services.signer(me).sign(EvidenceStatements.contentHandover(me,
        carriage.mail().getRecipient(), label, carriage.mail().getSender(), carriage.mail().getFlavour(),
        ContentHash.of(carriage.mail().getContent().toByteArray()), now));
    return Effect().persist(ServerEvent.newBuilder()
            .setContentReleased(ContentReleased.newBuilder().setHandover(handover)).build())
        .thenRun(newState -> sendContent(carriage, handover));
  }

  /** Step 8 at P1: Pn's report; the first verdict wins. */
  private Effect<ServerEvent, State> onDeliveryReport(Carriage carriage, DeliveryReport report, String from) {
    if (!carriage.origin()) {
      return ignore("WRONG_PARTY", "delivery report to a server that is not the origin");
    }
    if (carriage.verdictReached()) {
      confirm(from, "delivery_report");
      return recordLate(carriage, List.of(report.getRodN(), report.getCod()));
    }
    Optional<VerifiedEvidence> rodN = services.verify(report.getRodN(), EvidenceKind.ROD_N, log, entity.getEntityId());
    Optional<VerifiedEvidence> cod = services.verify(report.getCod(), EvidenceKind.COD, log, entity.getEntityId());
    if (rodN.isEmpty() || cod.isEmpty()) {
      return Effect().none();
    }
    Optional<String> problem = EvidenceChecks.deliveryReport(rodN.get().statement(), cod.get().statement(),
        report.getCod().getStatement().toByteArray(), carriage.mail());
    if (problem.isPresent()) {
      return ignore("EVIDENCE_MISMATCH", problem.get());
    }
    return persistAndAct(List.of(certifyDelivery(carriage.mail(), report.getRodN(), report.getCod(), services.now())))
        .thenRun(newState -> confirm(from, "delivery_report"));
  }

  private Effect<ServerEvent, State> onNonDeliveryNotice(Carriage carriage, NonDeliveryNotice notice, String from) {
    if (!carriage.origin()) {
      return ignore("WRONG_PARTY", "non-delivery notice to a server that is not the origin");
    }
    if (carriage.verdictReached()) {
      confirm(from, "non_delivery_notice");
      return recordLate(carriage, List.of(notice.getNdn()));
    }
    Optional<VerifiedEvidence> ndn = services.verify(notice.getNdn(), EvidenceKind.NDN, log, entity.getEntityId());
    if (ndn.isEmpty()) {
      return Effect().none();
    }
    Optional<String> problem = EvidenceChecks.ndn(ndn.get().statement(), carriage.mail());
    if (problem.isPresent()) {
      return ignore("EVIDENCE_MISMATCH", problem.get());
    }
    return persistAndAct(ServerEvent.newBuilder()
            .setNonDeliveryRecorded(NonDeliveryRecorded.newBuilder().setNdn(notice.getNdn())).build())
        .thenRun(newState -> confirm(from, "non_delivery_notice"));
  }

  /** P1 passes Pn's "awaiting collection" note on to A while no verdict is reached. */
  private Effect<ServerEvent, State> onProgressNote(Carriage carriage, StatusAnswer note, String from) {
    if (carriage.origin() && !carriage.verdictReached() && from.equals(Routing.domainOf(carriage.mail().getRecipient()))
        && note.getStatus() == DeliveryStatus.AWAITING_COLLECTION) {
      services.postman.toOutbox(me, carriage.mail().getSender(), carriage.mail().getSubmissionId(),
          ProtocolMessage.newBuilder().setStatusAnswer(note).build());
    }
    return Effect().none();
  }

  /** The party upstream (P1 for a report, A for a verdict) has what this server owed it. */
  private Effect<ServerEvent, State> onReceipt(Carriage carriage, String from) {
    String upstream = carriage.origin() ? carriage.mail().getSender() : carriage.mail().getOriginServer();
    Stage stage = carriage.stage();
    if (!from.equals(upstream) || (stage != Stage.REPORTING && stage != Stage.REPORTING_VERDICT)) {
      return Effect().none();
    }
    return persistAndAct(ServerEvent.newBuilder().setUpstreamReceiptConfirmed(
        UpstreamReceiptConfirmed.newBuilder().setConfirmedAtMillis(services.now())).build());
  }

  // ---- time: retries, timeouts and the deadline ----

  private Effect<ServerEvent, State> onTick(Carriage carriage) {
    long now = services.now();
    long deadline = carriage.mail().getDeadlineMillis();
    return switch (carriage.stage()) {
      case FORWARDING -> now >= services.timings.relayGiveUp(carriage.acceptedAtMillis(), deadline)
          ? issueNonDelivery(carriage, EtsiEvent.RELAY_FAILURE, ReasonCode.RELAY_UNREACHABLE,
              carriage.nextHop() + " did not acknowledge the relay in time")
          : resendIfDue(carriage);
      case DELIVERING -> now >= services.timings.deliveryGiveUp(carriage.acceptedAtMillis(), deadline)
          ? issueNonDelivery(carriage, EtsiEvent.ACCEPTANCE_REJECTION_EXPIRY, ReasonCode.RECIPIENT_DID_NOT_ACKNOWLEDGE,
              carriage.mail().getRecipient() + " did not sign a certificate of delivery in time")
          : resendIfDue(carriage);
      case AWAITING_VERDICT -> now >= services.timings.verdictCutoff(deadline)
          ? issueNonDelivery(carriage, EtsiEvent.ACCEPTANCE_REJECTION_EXPIRY, ReasonCode.DEADLINE_EXPIRED,
              "no report of delivery before the deadline")
          : Effect().none();
      case REPORTING, REPORTING_VERDICT -> resendIfDue(carriage);
      case SETTLED -> passivate();
    };
  }

  private Effect<ServerEvent, State> resendIfDue(Carriage carriage) {
    if (resends.due(services.now())) {
      act(carriage);
    }
    return Effect().none();
  }

  /** Sends what the current stage owes: the relay, the delivery, the report or the verdict. */
  private void act(Carriage carriage) {
    Stage stage = carriage.stage();
    if (stage != lastStage) {
      lastStage = stage;
      resends.reset();
    }
    MailInTransit mail = carriage.mail();
    switch (stage) {
      case FORWARDING -> services.postman.toServer(me, carriage.nextHop(), label, ProtocolMessage.newBuilder()
          .setRelay(Relay.newBuilder().setLabel(label).setSender(mail.getSender()).setRecipient(mail.getRecipient())
              .setContent(mail.getContent()).setDeadlineMillis(mail.getDeadlineMillis()).setFlavour(mail.getFlavour())
              .setOriginServer(mail.getOriginServer()).setCop(mail.getCop())).build());
      case DELIVERING -> {
        services.postman.toInbox(me, mail.getRecipient(), label, deliveryMessage(mail));
        if (resends.firstAttempt()) {
          reportAwaitingCollection(carriage);
        }
      }
      case REPORTING -> services.postman.toServer(me, mail.getOriginServer(), label, carriage.ndn() != null
          ? ProtocolMessage.newBuilder().setNonDeliveryNotice(
              NonDeliveryNotice.newBuilder().setLabel(label).setNdn(carriage.ndn())).build()
          : ProtocolMessage.newBuilder().setDeliveryReport(DeliveryReport.newBuilder().setLabel(label)
              .setRodN(carriage.rodN()).setCod(carriage.cod())).build());
      case REPORTING_VERDICT -> services.postman.toOutbox(me, mail.getSender(), mail.getSubmissionId(),
          carriage.rod() != null
              ? ProtocolMessage.newBuilder().setDeliveryReport(DeliveryReport.newBuilder().setLabel(label)
                  .setRodN(carriage.rodN()).setCod(carriage.cod()).setRod(carriage.rod())).build()
              : ProtocolMessage.newBuilder().setNonDeliveryNotice(
                  NonDeliveryNotice.newBuilder().setLabel(label).setNdn(carriage.ndn())).build());
      case AWAITING_VERDICT, SETTLED -> {
        return;
      }
    }
    resends.sent(services.now());
  }

  /**
   * The paper's "card left to advise the recipient": a progress note, not evidence, that B has
   * been notified. Pn tells P1, P1 tells A. Sent once; if it is lost, A's status stays
   * IN_DELIVERY until the verdict, which is what matters.
   */
  private void reportAwaitingCollection(Carriage carriage) {
    ProtocolMessage note = ProtocolMessage.newBuilder().setStatusAnswer(StatusAnswer.newBuilder().setLabel(label)
        .setStatus(DeliveryStatus.AWAITING_COLLECTION)).build();
    if (carriage.origin()) {
      services.postman.toOutbox(me, carriage.mail().getSender(), carriage.mail().getSubmissionId(), note);
    } else {
      services.postman.toServer(me, carriage.mail().getOriginServer(), label, note);
    }
  }

  /** Step 5 per flavour: CEM sends M; NSR only L; IP L and H(L,M). */
  private ProtocolMessage deliveryMessage(MailInTransit mail) {
    long codDeadline = services.timings.codCutoff(mail.getDeadlineMillis());
    if (mail.getFlavour() == Flavour.CEM) {
      return ProtocolMessage.newBuilder().setDelivery(Delivery.newBuilder().setLabel(label).setSender(mail.getSender())
          .setContent(mail.getContent()).setDeadlineMillis(mail.getDeadlineMillis())
          .setCodDeadlineMillis(codDeadline)).build();
    }
    Notification.Builder notification = Notification.newBuilder().setLabel(label).setSender(mail.getSender())
        .setFlavour(mail.getFlavour()).setContentSize(mail.getContent().size())
        .setDeadlineMillis(mail.getDeadlineMillis()).setCodDeadlineMillis(codDeadline);
    if (mail.getFlavour() == Flavour.IP) {
      notification.setLabelledContentHash(ByteString.copyFrom(
          ContentHash.labelled(label, mail.getContent().toByteArray())));
    }
    return ProtocolMessage.newBuilder().setNotification(notification).build();
  }

  // ---- verdicts ----

  private ServerEvent certifyDelivery(MailInTransit mail, SignedEvidence rodN, SignedEvidence cod, long now) {
    String pn = Routing.domainOf(mail.getRecipient());
    SignedEvidence rod = services.signer(me).sign(EvidenceStatements.rod(me, pn, label, mail.getSender(),
        mail.getRecipient(), cod.getStatement().toByteArray(), now));
    return ServerEvent.newBuilder().setDeliveryCertified(
        DeliveryCertified.newBuilder().setRodN(rodN).setCod(cod).setRod(rod)).build();
  }

  private Effect<ServerEvent, State> issueNonDelivery(Carriage carriage, EtsiEvent event, ReasonCode reason,
                                                      String detail) {
    SignedEvidence ndn = signNonDelivery(carriage, event, reason, detail);
    log.info("{}: non-delivery ({}): {}", entity.getEntityId(), reason, detail);
    return persistAndAct(ServerEvent.newBuilder().setNonDeliveryIssued(NonDeliveryIssued.newBuilder().setNdn(ndn)).build());
  }

  private SignedEvidence signNonDelivery(Carriage carriage, EtsiEvent event, ReasonCode reason, String detail) {
    return services.signer(me).sign(EvidenceStatements.ndn(me, label, carriage.mail().getSender(),
        carriage.mail().getRecipient(), event, reason, detail, services.now()));
  }

  private Effect<ServerEvent, State> recordLate(Carriage carriage, List<SignedEvidence> evidence) {
    List<SignedEvidence> unseen = evidence.stream().filter(item -> !carriage.late().contains(item)
        && !item.equals(carriage.cod()) && !item.equals(carriage.rodN()) && !item.equals(carriage.refusal())).toList();
    if (unseen.isEmpty()) {
      return Effect().none();
    }
    return Effect().persist(ServerEvent.newBuilder().setLateEvidenceRecorded(LateEvidenceRecorded.newBuilder()
        .addAllEvidence(unseen).setRecordedAtMillis(services.now())).build());
  }

  // ---- answers ----

  private void answerSubmission(Carriage carriage) {
    services.postman.toOutbox(me, carriage.mail().getSender(), carriage.mail().getSubmissionId(),
        ProtocolMessage.newBuilder().setCopReply(CopReply.newBuilder().setSubmissionId(carriage.mail().getSubmissionId())
            .setLabel(label).setCop(carriage.mail().getCop())).build());
  }

  private void answerRelay(Carriage carriage) {
    services.postman.toServer(me, carriage.previousHop(), label, ProtocolMessage.newBuilder()
        .setRelayAck(RelayAck.newBuilder().setLabel(label).setAck(carriage.ackGiven())).build());
  }

  private void answerDeclined(Declined declined) {
    if (declined.answer().hasSubmissionRejected()) {
      services.postman.toOutbox(me, declined.counterpart(),
          declined.answer().getSubmissionRejected().getSubmissionId(), declined.answer());
    } else {
      services.postman.toServer(me, declined.counterpart(), label, declined.answer());
    }
  }

  private void sendContent(Carriage carriage, SignedEvidence handover) {
    services.postman.toInbox(me, carriage.mail().getRecipient(), label, ProtocolMessage.newBuilder()
        .setContent(Content.newBuilder().setLabel(label).setContent(carriage.mail().getContent()).setHandover(handover))
        .build());
  }

  private void confirm(String to, String acknowledged) {
    services.postman.toServer(me, to, label, ProtocolMessage.newBuilder()
        .setReceipt(Receipt.newBuilder().setLabel(label).setAcknowledged(acknowledged)).build());
  }

  private Effect<ServerEvent, State> duplicate(boolean fromTheRightParty, Runnable answerAgain) {
    if (fromTheRightParty) {
      answerAgain.run();
    }
    return Effect().none();
  }

  private EffectBuilder<ServerEvent, State> persistAndAct(ServerEvent event) {
    return persistAndAct(List.of(event));
  }

  private EffectBuilder<ServerEvent, State> persistAndAct(List<ServerEvent> events) {
    return Effect().persist(events).thenRun(newState -> act(((Carrying) newState).carriage()));
  }

  private Effect<ServerEvent, State> ignore(String reason, String detail) {
    services.metrics.ignored(log, entity.getEntityId(), reason, detail);
    return Effect().none();
  }

  private Instant clockInstant() {
    return Instant.ofEpochMilli(services.now());
  }

  // ---- timers ----

  private void startTicking() {
    lifecycle.startTicking();
  }

  private Effect<ServerEvent, State> passivate() {
    lifecycle.passivate();
    return Effect().none();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          // Timers do not survive a restart: every deadline is a persisted instant, so ticking
          // again re-evaluates them all; an entity with nothing owed passivates on its first tick.
          if (state instanceof Carrying carrying) {
            startTicking();
            if (carrying.carriage().stage() != Stage.SETTLED) {
              act(carrying.carriage());
            }
          }
        })
        .build();
  }

  // ---- events ----

  @Override
  public EventHandler<State, ServerEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onEvent(ServerEvent.class, MailServer::apply).build();
  }

  static State apply(State state, ServerEvent event) {
    return switch (event.getEventCase()) {
      case SUBMISSION_ACCEPTED -> {
        SubmissionAccepted accepted = event.getSubmissionAccepted();
        yield new Carrying(new Carriage(accepted.getMail(), true, "", null, accepted.getNextHop(),
            accepted.getAcceptedAtMillis(), null, null, null, null, null, null, null, false, List.of()));
      }
      case SUBMISSION_DECLINED -> new Declined(event.getSubmissionDeclined().getSender(), ProtocolMessage.newBuilder()
          .setSubmissionRejected(SubmissionRejected.newBuilder()
              .setSubmissionId(event.getSubmissionDeclined().getSubmissionId())
              .setRejection(event.getSubmissionDeclined().getRejection())).build());
      case RELAY_ACCEPTED -> {
        RelayAccepted accepted = event.getRelayAccepted();
        yield new Carrying(new Carriage(accepted.getMail(), false, accepted.getPreviousHop(), accepted.getAck(),
            accepted.getNextHop(), accepted.getAcceptedAtMillis(), null, null, null, null, null, null, null, false,
            List.of()));
      }
      case RELAY_DECLINED -> new Declined(event.getRelayDeclined().getPreviousHop(), ProtocolMessage.newBuilder()
          .setRelayRejected(RelayRejected.newBuilder().setLabel(event.getRelayDeclined().getLabel())
              .setRejection(event.getRelayDeclined().getRejection())).build());
      case FORWARD_ACKNOWLEDGED -> change(state, c -> new Carriage(c.mail(), c.origin(), c.previousHop(), c.ackGiven(),
          c.nextHop(), c.acceptedAtMillis(), event.getForwardAcknowledged().getAck(), c.cod(), c.rodN(), c.refusal(),
          c.handover(), c.ndn(), c.rod(), c.upstreamConfirmed(), c.late()));
      case COD_ACCEPTED -> change(state, c -> new Carriage(c.mail(), c.origin(), c.previousHop(), c.ackGiven(),
          c.nextHop(), c.acceptedAtMillis(), c.forwardAck(), event.getCodAccepted().getCod(),
          event.getCodAccepted().getRodN(), c.refusal(), c.handover(), c.ndn(), c.rod(), c.upstreamConfirmed(), c.late()));
      case REFUSAL_ACCEPTED -> change(state, c -> new Carriage(c.mail(), c.origin(), c.previousHop(), c.ackGiven(),
          c.nextHop(), c.acceptedAtMillis(), c.forwardAck(), c.cod(), c.rodN(), event.getRefusalAccepted().getRefusal(),
          c.handover(), event.getRefusalAccepted().getNdn(), c.rod(), c.upstreamConfirmed(), c.late()));
      case CONTENT_RELEASED -> change(state, c -> new Carriage(c.mail(), c.origin(), c.previousHop(), c.ackGiven(),
          c.nextHop(), c.acceptedAtMillis(), c.forwardAck(), c.cod(), c.rodN(), c.refusal(),
          event.getContentReleased().getHandover(), c.ndn(), c.rod(), c.upstreamConfirmed(), c.late()));
      case NON_DELIVERY_ISSUED -> change(state, c -> withNdn(c, event.getNonDeliveryIssued().getNdn()));
      case NON_DELIVERY_RECORDED -> change(state, c -> withNdn(c, event.getNonDeliveryRecorded().getNdn()));
      case DELIVERY_CERTIFIED -> change(state, c -> new Carriage(c.mail(), c.origin(), c.previousHop(), c.ackGiven(),
          c.nextHop(), c.acceptedAtMillis(), c.forwardAck(), event.getDeliveryCertified().getCod(),
          event.getDeliveryCertified().getRodN(), c.refusal(), c.handover(), c.ndn(),
          event.getDeliveryCertified().getRod(), c.upstreamConfirmed(), c.late()));
      case UPSTREAM_RECEIPT_CONFIRMED -> change(state, c -> new Carriage(c.mail(), c.origin(), c.previousHop(),
          c.ackGiven(), c.nextHop(), c.acceptedAtMillis(), c.forwardAck(), c.cod(), c.rodN(), c.refusal(),
          c.handover(), c.ndn(), c.rod(), true, c.late()));
      case LATE_EVIDENCE_RECORDED -> change(state, c -> {
        List<SignedEvidence> late = new ArrayList<>(c.late());
        late.addAll(event.getLateEvidenceRecorded().getEvidenceList());
        return new Carriage(c.mail(), c.origin(), c.previousHop(), c.ackGiven(), c.nextHop(), c.acceptedAtMillis(),
            c.forwardAck(), c.cod(), c.rodN(), c.refusal(), c.handover(), c.ndn(), c.rod(), c.upstreamConfirmed(),
            List.copyOf(late));
      });
      case DUTY_ENDED -> state;
      case EVENT_NOT_SET -> throw new IllegalStateException("a server event without content");
    };
  }

  private static Carriage withNdn(Carriage c, SignedEvidence ndn) {
    return new Carriage(c.mail(), c.origin(), c.previousHop(), c.ackGiven(), c.nextHop(), c.acceptedAtMillis(),
        c.forwardAck(), c.cod(), c.rodN(), c.refusal(), c.handover(), ndn, c.rod(), c.upstreamConfirmed(), c.late());
  }

  /** One event's change to the carriage (records have no withers). */
  private static State change(State state, UnaryOperator<Carriage> change) {
    if (!(state instanceof Carrying carrying)) {
      throw new IllegalStateException("event for a mail this server does not carry");
    }
    return new Carrying(change.apply(carrying.carriage()));
  }
}
