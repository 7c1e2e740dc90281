package net.certmail.actors;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.crypto.OpenedEnvelope;
import net.certmail.crypto.VerifiedEvidence;
import net.certmail.proto.v1.DeliveryConfirmed;
import net.certmail.proto.v1.DeliveryReport;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.LateEvidenceRecorded;
import net.certmail.proto.v1.MailDeclaredLost;
import net.certmail.proto.v1.MailInTransit;
import net.certmail.proto.v1.MailSubmitted;
import net.certmail.proto.v1.NonDeliveryNotice;
import net.certmail.proto.v1.NonDeliveryNotified;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.PostingCertified;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.Receipt;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.Submission;
import net.certmail.proto.v1.SubmissionRefused;
import net.certmail.protocol.EvidenceChecks;
import net.certmail.protocol.Labels;
import net.certmail.protocol.Routing;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandlerBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;

/**
 * A's side of one submission (the paper's mailbox program A): submit to P1 until it answers with
 * a COP or a rejection (steps 1-2), then wait for the verdict: ROD with COD (step 9) or a
 * non-delivery notice. If neither comes by T plus grace, the mail is LOST and A signs a
 * compensation claim that anyone can check against the COP.
 *
 * <pre>
 *   Empty --Submit--> AwaitingCop --COP--> InDelivery --ROD+COD | NDN | T+grace--> Concluded
 *                          \--rejection------------------------------------------^
 * </pre>
 */
public final class OutboxEntry
    extends EventSourcedBehaviorWithEnforcedReplies<OutboxEntry.Command, OutboxEvent, OutboxEntry.State> {

  public sealed interface Command permits Submit, GetStatus, Inbound, Tick {}

  /** The owner posts a mail; answered at once with its status (SUBMITTED until P1 answers). */
  public record Submit(String recipient, byte[] content, long deadlineMillis, String flavour, String originServer,
                       ActorRef<MailStatus> replyTo) implements Command, CborSerializable {}

  public record GetStatus(ActorRef<MailStatus> replyTo) implements Command, CborSerializable {}

  private enum Tick implements Command { INSTANCE }

  public static EntityTypeKey<Command> typeKey(String mailbox) {
    return Postman.key(Command.class, EntityKind.OUTBOX, mailbox);
  }

  public static Behavior<Command> create(EntityContext<Command> context, ProtocolServices services) {
    return Behaviors.setup(actorContext -> Behaviors.withTimers(timers ->
        new OutboxEntry(context, services, new EntityLifecycle<>(context, actorContext.getSelf(), timers, Tick.INSTANCE,
            java.time.Duration.ofMillis(250)), actorContext.getLog())));
  }

  // ---- state: one type per stage ----

  public sealed interface State permits Empty, AwaitingCop, InDelivery, Concluded {}

  public enum Empty implements State { INSTANCE }

  public record AwaitingCop(MailSubmitted mail) implements State {}

  public record InDelivery(MailSubmitted mail, String label, SignedEvidence cop) implements State {}

  public record Concluded(MailSubmitted mail, String label, SignedEvidence cop, DeliveryStatus status,
                          ReasonCode reason, List<SignedEvidence> evidence, List<SignedEvidence> late)
      implements State {}

  private final EntityContext<Command> entity;
  private final ProtocolServices services;
  private final EntityLifecycle<Command> lifecycle;
  private final Logger log;
  private final String sender;
  private final String submissionId;
  private final Resends resends;
  private boolean awaitingCollection;

  private OutboxEntry(EntityContext<Command> entity, ProtocolServices services, EntityLifecycle<Command> lifecycle,
                      Logger log) {
    super(PersistenceId.ofUniqueId(entity.getEntityId()));
    this.entity = entity;
    this.services = services;
    this.lifecycle = lifecycle;
    this.log = log;
    this.sender = EntityKind.principalOf(entity.getEntityId());
    this.submissionId = EntityKind.keyOf(entity.getEntityId());
    this.resends = new Resends(services.timings);
  }

  @Override
  public State emptyState() {
    return Empty.INSTANCE;
  }

  @Override
  public CommandHandlerWithReply<Command, OutboxEvent, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, OutboxEvent, State> builder = newCommandHandlerWithReplyBuilder();
    builder.forStateType(Empty.class)
        .onCommand(Submit.class, this::onSubmit)
        .onCommand(GetStatus.class, (state, command) -> {
          passivateSoon(); // a query for an unknown submission must not leave a remembered entity
          return Effect().reply(command.replyTo(), unknown());
        })
        .onCommand(Inbound.class, (state, command) -> ignoreStray(command))
        .onCommand(Tick.class, (state, command) -> passivate());
    builder.forStateType(AwaitingCop.class)
        .onCommand(Submit.class, this::onResubmit)
        .onCommand(GetStatus.class, this::replyStatus)
        .onCommand(Inbound.class, this::onInboundAwaitingCop)
        .onCommand(Tick.class, this::onTickAwaitingCop);
    builder.forStateType(InDelivery.class)
        .onCommand(Submit.class, this::onResubmit)
        .onCommand(GetStatus.class, this::replyStatus)
        .onCommand(Inbound.class, this::onInboundInDelivery)
        .onCommand(Tick.class, this::onTickInDelivery);
    builder.forStateType(Concluded.class)
        .onCommand(Submit.class, this::onResubmit)
        .onCommand(GetStatus.class, this::replyStatus)
        .onCommand(Inbound.class, this::onInboundConcluded)
        .onCommand(Tick.class, (state, command) -> passivate());
    return builder.build();
  }

  // ---- Empty ----

  private ReplyEffect<OutboxEvent, State> onSubmit(Empty state, Submit submit) {
    if (submissionId.isBlank() || submissionId.contains("/") || submissionId.contains("|")) {
      // A label contains '/': an id like a label would give this entry the persistence id of an
      // inbox entry ("<mailbox>|<label>"), and two entities must never write one journal stream.
      passivateSoon();
      return Effect().reply(submit.replyTo(), problem("a submission id must not be empty or contain '/' or '|'"));
    }
    Flavour flavour;
    try {
      flavour = Flavour.valueOf(submit.flavour());
    } catch (IllegalArgumentException e) {
      return Effect().reply(submit.replyTo(), problem("unknown flavour \"" + submit.flavour() + "\": use CEM, NSR or IP"));
    }
    String origin = submit.originServer() == null || submit.originServer().isBlank()
        ? Routing.domainOf(sender) : submit.originServer();
    long now = services.now();
    MailSubmitted submitted = MailSubmitted.newBuilder()
        .setSubmissionId(submissionId).setSender(sender).setOriginServer(origin)
        .setRecipient(submit.recipient()).setContent(ByteString.copyFrom(submit.content()))
        .setDeadlineMillis(submit.deadlineMillis()).setFlavour(flavour)
        .setLostAfterMillis(services.timings.lostAfter(submit.deadlineMillis()))
        .setSubmittedAtMillis(now).build();
    return Effect().persist(event(OutboxEvent.newBuilder().setMailSubmitted(submitted)))
        .thenRun(newState -> {
          sendSubmission(submitted);
          startTicking();
        })
        .thenReply(submit.replyTo(), this::statusOf);
  }

  // ---- AwaitingCop: steps 1 and 2 ----

  private ReplyEffect<OutboxEvent, State> onInboundAwaitingCop(AwaitingCop state, Inbound inbound) {
    Optional<OpenedEnvelope> opened = open(state.mail(), inbound);
    if (opened.isEmpty()) {
      return Effect().noReply();
    }
    ProtocolMessage message = opened.get().message();
    return switch (message.getMessageCase()) {
      case COP_REPLY -> onCopReply(state, message.getCopReply().getCop(), opened.get().from());
      case SUBMISSION_REJECTED -> onRejection(state, message.getSubmissionRejected().getRejection(), opened.get().from());
      default -> ignore("UNEXPECTED_MESSAGE", message.getMessageCase() + " before the COP");
    };
  }

  private ReplyEffect<OutboxEvent, State> onCopReply(AwaitingCop state, SignedEvidence cop, String from) {
    MailSubmitted mail = state.mail();
    if (!from.equals(mail.getOriginServer())) {
      return ignore("WRONG_PARTY", "COP sent by " + from);
    }
    Optional<VerifiedEvidence> verified = services.verify(cop, EvidenceKind.COP, log, entity.getEntityId());
    if (verified.isEmpty()) {
      return Effect().noReply();
    }
    Optional<String> problem = EvidenceChecks.cop(verified.get().statement(), mail.getOriginServer(), submissionId,
        mail.getRecipient(), mail.getContent().toByteArray(), mail.getDeadlineMillis(), mail.getFlavour());
    if (problem.isPresent()) {
      return ignore("EVIDENCE_MISMATCH", problem.get());
    }
    PostingCertified certified = PostingCertified.newBuilder()
        .setLabel(verified.get().statement().getLabel()).setCop(cop).build();
    return Effect().persist(event(OutboxEvent.newBuilder().setPostingCertified(certified)))
        .thenRun(newState -> resends.reset())
        .thenNoReply();
  }

  private ReplyEffect<OutboxEvent, State> onRejection(AwaitingCop state, SignedEvidence rejection, String from) {
    if (!from.equals(state.mail().getOriginServer())) {
      return ignore("WRONG_PARTY", "rejection sent by " + from);
    }
    Optional<VerifiedEvidence> verified =
        services.verify(rejection, EvidenceKind.SUBMISSION_REJECTION, log, entity.getEntityId());
    if (verified.isEmpty()) {
      return Effect().noReply();
    }
    if (!verified.get().statement().getSubmissionId().equals(submissionId)) {
      return ignore("EVIDENCE_MISMATCH", "rejection of another submission");
    }
    return Effect().persist(event(OutboxEvent.newBuilder()
            .setSubmissionRefused(SubmissionRefused.newBuilder().setRejection(rejection))))
        .thenRun(newState -> passivateSoon())
        .thenNoReply();
  }

  private ReplyEffect<OutboxEvent, State> onTickAwaitingCop(AwaitingCop state, Tick tick) {
    if (resends.due(services.now())) {
      sendSubmission(state.mail());
    }
    return Effect().noReply();
  }

  // ---- InDelivery: waiting for the verdict (step 9) ----

  private ReplyEffect<OutboxEvent, State> onInboundInDelivery(InDelivery state, Inbound inbound) {
    Optional<OpenedEnvelope> opened = open(state.mail(), inbound);
    if (opened.isEmpty()) {
      return Effect().noReply();
    }
    ProtocolMessage message = opened.get().message();
    if (!opened.get().from().equals(state.mail().getOriginServer())) {
      return ignore("WRONG_PARTY", message.getMessageCase() + " from " + opened.get().from());
    }
    return switch (message.getMessageCase()) {
      case DELIVERY_REPORT -> verifiedReport(state.mail(), state.label(), message.getDeliveryReport())
          .map(confirmed -> Effect().persist(event(OutboxEvent.newBuilder().setDeliveryConfirmed(confirmed)))
              .thenRun(newState -> confirmReceipt(state.mail(), state.label(), "delivery_report"))
              .thenNoReply())
          .orElseGet(() -> Effect().noReply());
      case NON_DELIVERY_NOTICE -> verifiedNotice(state.mail(), state.label(), message.getNonDeliveryNotice())
          .map(ndn -> Effect().persist(event(OutboxEvent.newBuilder()
                  .setNonDeliveryNotified(NonDeliveryNotified.newBuilder().setNdn(ndn))))
              .thenRun(newState -> confirmReceipt(state.mail(), state.label(), "non_delivery_notice"))
              .thenNoReply())
          .orElseGet(() -> Effect().noReply());
      case COP_REPLY, SUBMISSION_REJECTED -> Effect().noReply(); // answers to our own resends
      case STATUS_ANSWER -> {
        // Progress, not evidence: kept in memory; after a restart the status is IN_DELIVERY again.
        awaitingCollection = message.getStatusAnswer().getStatus() == DeliveryStatus.AWAITING_COLLECTION;
        yield Effect().noReply();
      }
      default -> ignore("UNEXPECTED_MESSAGE", message.getMessageCase() + " while in delivery");
    };
  }

  private ReplyEffect<OutboxEvent, State> onTickInDelivery(InDelivery state, Tick tick) {
    if (services.now() < state.mail().getLostAfterMillis()) {
      return Effect().noReply();
    }
    // T plus grace has passed with neither ROD nor NDN: the mail is lost; claim compensation.
    byte[] copStatement = state.cop().getStatement().toByteArray();
    EvidenceStatement cop;
    try {
      cop = EvidenceStatement.parseFrom(copStatement);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a persisted COP no longer parses", e);
    }
    SignedEvidence claim = services.signer(sender).sign(EvidenceStatements.compensationClaim(
        sender, state.cop(), cop, services.timings.grace().toMillis(), services.now()));
    log.warn("{}: no verdict for {} by T plus grace; mail LOST, compensation claim signed", entity.getEntityId(),
        state.label());
    return Effect().persist(event(OutboxEvent.newBuilder()
            .setMailDeclaredLost(MailDeclaredLost.newBuilder().setClaim(claim))))
        .thenRun(newState -> passivateSoon())
        .thenNoReply();
  }

  // ---- Concluded: the verdict stands; later evidence is recorded, never flips it ----

  private ReplyEffect<OutboxEvent, State> onInboundConcluded(Concluded state, Inbound inbound) {
    Optional<OpenedEnvelope> opened = open(state.mail(), inbound);
    if (opened.isEmpty() || state.label().isEmpty()) {
      return Effect().noReply();
    }
    ProtocolMessage message = opened.get().message();
    List<SignedEvidence> arrived = switch (message.getMessageCase()) {
      case DELIVERY_REPORT -> verifiedReport(state.mail(), state.label(), message.getDeliveryReport())
          .map(report -> List.of(report.getRod(), report.getRodN(), report.getCod())).orElse(List.of());
      case NON_DELIVERY_NOTICE -> verifiedNotice(state.mail(), state.label(), message.getNonDeliveryNotice())
          .map(List::of).orElse(List.of());
      default -> List.of();
    };
    if (arrived.isEmpty()) {
      return Effect().noReply();
    }
    String acknowledged = message.getMessageCase().name().toLowerCase(Locale.ROOT);
    List<SignedEvidence> unseen = arrived.stream()
        .filter(item -> !state.evidence().contains(item) && !state.late().contains(item)).toList();
    if (unseen.isEmpty()) {
      confirmReceipt(state.mail(), state.label(), acknowledged);
      return Effect().noReply();
    }
    return Effect().persist(event(OutboxEvent.newBuilder().setLateEvidenceRecorded(
            LateEvidenceRecorded.newBuilder().addAllEvidence(unseen).setRecordedAtMillis(services.now()))))
        .thenRun(newState -> confirmReceipt(state.mail(), state.label(), acknowledged))
        .thenNoReply();
  }

  // ---- shared handlers ----

  private ReplyEffect<OutboxEvent, State> onResubmit(State state, Submit submit) {
    MailSubmitted mail = mailOf(state);
    boolean same = mail.getRecipient().equals(submit.recipient())
        && mail.getContent().equals(ByteString.copyFrom(submit.content()))
        && mail.getDeadlineMillis() == submit.deadlineMillis()
        && mail.getFlavour().name().equals(submit.flavour());
    MailStatus status = statusOf(state);
    if (!same) {
      status = withProblem(status, "submission id " + submissionId + " was already used for another mail");
    }
    return Effect().reply(submit.replyTo(), status);
  }

  private ReplyEffect<OutboxEvent, State> replyStatus(State state, GetStatus query) {
    return Effect().reply(query.replyTo(), statusOf(state));
  }

  private ReplyEffect<OutboxEvent, State> ignoreStray(Inbound inbound) {
    passivateSoon();
    return ignore("NO_SUCH_SUBMISSION", "message for a submission this mailbox never made");
  }

  private ReplyEffect<OutboxEvent, State> ignore(String reason, String detail) {
    services.metrics.ignored(log, entity.getEntityId(), reason, detail);
    return Effect().noReply();
  }

  private Optional<OpenedEnvelope> open(MailSubmitted mail, Inbound inbound) {
    String label = Labels.forSubmission(mail.getOriginServer(), sender, submissionId);
    return InboundEnvelopes.open(services, inbound, entity.getEntityId(), label, log);
  }

  private Optional<DeliveryConfirmed> verifiedReport(MailSubmitted mail, String label, DeliveryReport report) {
    Optional<VerifiedEvidence> rod = services.verify(report.getRod(), EvidenceKind.ROD, log, entity.getEntityId());
    Optional<VerifiedEvidence> rodN = services.verify(report.getRodN(), EvidenceKind.ROD_N, log, entity.getEntityId());
    Optional<VerifiedEvidence> cod = services.verify(report.getCod(), EvidenceKind.COD, log, entity.getEntityId());
    if (rod.isEmpty() || rodN.isEmpty() || cod.isEmpty()) {
      return Optional.empty();
    }
    Optional<String> problem = EvidenceChecks.deliveryReport(rodN.get().statement(), cod.get().statement(),
        report.getCod().getStatement().toByteArray(), inTransit(mail, label));
    if (problem.isEmpty() && !(rod.get().statement().getIssuer().equals(mail.getOriginServer())
        && rod.get().statement().getLabel().equals(label))) {
      problem = Optional.of("ROD not issued by " + mail.getOriginServer() + " for " + label);
    }
    if (problem.isPresent()) {
      services.metrics.ignored(log, entity.getEntityId(), "EVIDENCE_MISMATCH", problem.get());
      return Optional.empty();
    }
    return Optional.of(DeliveryConfirmed.newBuilder()
        .setRod(report.getRod()).setRodN(report.getRodN()).setCod(report.getCod()).build());
  }

  private Optional<SignedEvidence> verifiedNotice(MailSubmitted mail, String label, NonDeliveryNotice notice) {
    Optional<VerifiedEvidence> ndn = services.verify(notice.getNdn(), EvidenceKind.NDN, log, entity.getEntityId());
    if (ndn.isEmpty()) {
      return Optional.empty();
    }
    Optional<String> problem = EvidenceChecks.ndn(ndn.get().statement(), inTransit(mail, label));
    if (problem.isPresent()) {
      services.metrics.ignored(log, entity.getEntityId(), "EVIDENCE_MISMATCH", problem.get());
      return Optional.empty();
    }
    return Optional.of(notice.getNdn());
  }

  private static MailInTransit inTransit(MailSubmitted mail, String label) {
    return MailInTransit.newBuilder().setLabel(label).setSender(mail.getSender())
        .setRecipient(mail.getRecipient()).setContent(mail.getContent()).setDeadlineMillis(mail.getDeadlineMillis())
        .setFlavour(mail.getFlavour()).setOriginServer(mail.getOriginServer()).build();
  }

  private void sendSubmission(MailSubmitted mail) {
    Submission submission = Submission.newBuilder()
        .setSubmissionId(submissionId).setSender(sender).setRecipient(mail.getRecipient())
        .setContent(mail.getContent()).setDeadlineMillis(mail.getDeadlineMillis()).setFlavour(mail.getFlavour())
        .build();
    String label = Labels.forSubmission(mail.getOriginServer(), sender, submissionId);
    services.postman.toServer(sender, mail.getOriginServer(), label,
        ProtocolMessage.newBuilder().setSubmission(submission).build());
    resends.sent(services.now());
  }

  private void confirmReceipt(MailSubmitted mail, String label, String acknowledged) {
    services.postman.toServer(sender, mail.getOriginServer(), label, ProtocolMessage.newBuilder()
        .setReceipt(Receipt.newBuilder().setLabel(label).setAcknowledged(acknowledged)).build());
  }

  // ---- timers and passivation ----

  private void startTicking() {
    lifecycle.startTicking();
  }

  private ReplyEffect<OutboxEvent, State> passivate() {
    lifecycle.passivate();
    return Effect().noReply();
  }

  /** Concluded: the next tick passivates, after any reply now in flight. */
  private void passivateSoon() {
    startTicking();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          // Timers do not survive a restart: re-arm from the persisted stage and instants.
          if (!(state instanceof Empty)) {
            startTicking();
          }
        })
        .build();
  }

  // ---- events ----

  private static OutboxEvent event(OutboxEvent.Builder builder) {
    return builder.build();
  }

  @Override
  public EventHandler<State, OutboxEvent> eventHandler() {
    EventHandlerBuilder<State, OutboxEvent> builder = newEventHandlerBuilder();
    builder.forAnyState().onEvent(OutboxEvent.class, OutboxEntry::apply);
    return builder.build();
  }

  static State apply(State state, OutboxEvent event) {
    return switch (event.getEventCase()) {
      case MAIL_SUBMITTED -> new AwaitingCop(event.getMailSubmitted());
      case POSTING_CERTIFIED -> new InDelivery(mailOf(state), event.getPostingCertified().getLabel(),
          event.getPostingCertified().getCop());
      case SUBMISSION_REFUSED -> {
        SignedEvidence rejection = event.getSubmissionRefused().getRejection();
        yield new Concluded(mailOf(state), "", null, DeliveryStatus.NOT_DELIVERED, reasonOf(rejection),
            List.of(rejection), List.of());
      }
      case DELIVERY_CONFIRMED -> {
        InDelivery delivery = (InDelivery) state;
        DeliveryConfirmed confirmed = event.getDeliveryConfirmed();
        yield new Concluded(delivery.mail(), delivery.label(), delivery.cop(), DeliveryStatus.DELIVERED,
            ReasonCode.REASON_UNSPECIFIED,
            List.of(delivery.cop(), confirmed.getRodN(), confirmed.getCod(), confirmed.getRod()), List.of());
      }
      case NON_DELIVERY_NOTIFIED -> {
        InDelivery delivery = (InDelivery) state;
        SignedEvidence ndn = event.getNonDeliveryNotified().getNdn();
        yield new Concluded(delivery.mail(), delivery.label(), delivery.cop(), DeliveryStatus.NOT_DELIVERED,
            reasonOf(ndn), List.of(delivery.cop(), ndn), List.of());
      }
      case MAIL_DECLARED_LOST -> {
        InDelivery delivery = (InDelivery) state;
        yield new Concluded(delivery.mail(), delivery.label(), delivery.cop(), DeliveryStatus.LOST,
            ReasonCode.DEADLINE_EXPIRED,
            List.of(delivery.cop(), event.getMailDeclaredLost().getClaim()), List.of());
      }
      case LATE_EVIDENCE_RECORDED -> {
        Concluded concluded = (Concluded) state;
        List<SignedEvidence> late = new ArrayList<>(concluded.late());
        late.addAll(event.getLateEvidenceRecorded().getEvidenceList());
        yield new Concluded(concluded.mail(), concluded.label(), concluded.cop(), concluded.status(),
            concluded.reason(), concluded.evidence(), List.copyOf(late));
      }
      case SUBMISSION_UNANSWERED -> new Concluded(mailOf(state), "", null, DeliveryStatus.NOT_POSTED,
          ReasonCode.REASON_UNSPECIFIED, List.of(), List.of());
      case EVENT_NOT_SET -> throw new IllegalStateException("an outbox event without content");
    };
  }

  private static MailSubmitted mailOf(State state) {
    if (state instanceof AwaitingCop awaiting) {
      return awaiting.mail();
    }
    if (state instanceof InDelivery delivery) {
      return delivery.mail();
    }
    if (state instanceof Concluded concluded) {
      return concluded.mail();
    }
    throw new IllegalStateException("no mail submitted yet");
  }

  private static ReasonCode reasonOf(SignedEvidence evidence) {
    try {
      return EvidenceStatement.parseFrom(evidence.getStatement()).getReason();
    } catch (InvalidProtocolBufferException e) {
      return ReasonCode.TECHNICAL_MALFUNCTION;
    }
  }

  // ---- status ----

  private MailStatus statusOf(State state) {
    if (state instanceof AwaitingCop) {
      return status("", DeliveryStatus.SUBMITTED, ReasonCode.REASON_UNSPECIFIED, List.of(), List.of());
    }
    if (state instanceof InDelivery delivery) {
      return status(delivery.label(),
          awaitingCollection ? DeliveryStatus.AWAITING_COLLECTION : DeliveryStatus.IN_DELIVERY,
          ReasonCode.REASON_UNSPECIFIED, List.of(delivery.cop()), List.of());
    }
    if (state instanceof Concluded concluded) {
      return status(concluded.label(), concluded.status(), concluded.reason(), concluded.evidence(), concluded.late());
    }
    return unknown();
  }

  private MailStatus status(String label, DeliveryStatus status, ReasonCode reason, List<SignedEvidence> evidence,
                            List<SignedEvidence> late) {
    return new MailStatus(sender, submissionId, label, status.name(),
        reason == ReasonCode.REASON_UNSPECIFIED ? "" : reason.name(),
        evidence.stream().map(SignedEvidence::toByteArray).toList(),
        late.stream().map(SignedEvidence::toByteArray).toList(), null);
  }

  private MailStatus unknown() {
    return new MailStatus(sender, submissionId, "", MailStatus.UNKNOWN, "", List.of(), List.of(),
        "no submission " + submissionId + " from " + sender);
  }

  private MailStatus problem(String problem) {
    return withProblem(unknown(), problem);
  }

  private static MailStatus withProblem(MailStatus status, String problem) {
    return new MailStatus(status.sender(), status.submissionId(), status.label(), status.status(), status.reason(),
        status.evidence(), status.lateEvidence(), problem);
  }
}
