package net.certmail.protocol.sender;

import static net.certmail.protocol.Problems.expect;
import static net.certmail.protocol.Problems.first;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.proto.v1.DeliveryConfirmed;
import net.certmail.proto.v1.DeliveryReport;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.LateEvidenceRecorded;
import net.certmail.proto.v1.MailDeclaredLost;
import net.certmail.proto.v1.MailSubmitted;
import net.certmail.proto.v1.NonDeliveryNotified;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.PostingCertified;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.Receipt;
import net.certmail.proto.v1.RecipientNotified;
import net.certmail.proto.v1.StatusAnswer;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.StatusQuery;
import net.certmail.proto.v1.Submission;
import net.certmail.proto.v1.SubmissionRefused;
import net.certmail.proto.v1.SubmissionUnanswered;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Entitlements;
import net.certmail.protocol.Ignored;
import net.certmail.protocol.Input;
import net.certmail.protocol.Labels;
import net.certmail.protocol.MailFacts;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.RoleMachine;
import net.certmail.protocol.Routing;
import net.certmail.protocol.Signatures;
import net.certmail.protocol.SubmissionId;
import net.certmail.protocol.Timings;
import net.certmail.protocol.sender.SenderStage.AwaitingCop;
import net.certmail.protocol.sender.SenderStage.CertifiedPosting;
import net.certmail.protocol.sender.SenderStage.Concluded;
import net.certmail.protocol.sender.SenderStage.Empty;
import net.certmail.protocol.sender.SenderStage.InDelivery;
import net.certmail.protocol.sender.SenderStage.Outcome;

/**
 * A's side of one submission as a pure machine (stages: {@link SenderStage}).
 *
 * <ul>
 *   <li>AwaitingCop: resend the submission to the origin P1 on the retry schedule until it answers
 *       with a COP that certifies exactly this submission, or a signed rejection of it; with
 *       neither by T plus grace, the mail was NOT_POSTED.</li>
 *   <li>InDelivery: wait for the verdict from the origin: ROD with ROD_n and COD, or an NDN, each
 *       checked against the COP's facts ({@link Entitlements}); from T on, ask the origin
 *       ({@code StatusQuery}) on the retry schedule; with no verdict by T plus grace the mail is
 *       LOST and A signs a compensation claim on the COP.</li>
 *   <li>Every verdict the origin sends is answered with a receipt, so that it stops resending.</li>
 *   <li>Concluded: later evidence from the origin is kept only when it verifies, is entitled and
 *       is new, at most {@value #MAX_LATE_ITEMS} items per mail; it never changes the outcome.</li>
 * </ul>
 *
 * Only the origin speaks to A about the mail: anything else is ignored as WRONG_PARTY.
 */
public final class SenderMachine implements RoleMachine<SenderStage, OutboxEvent> {
  /** Late evidence kept per mail at most: a peer cannot grow A's journal without bound. */
  public static final int MAX_LATE_ITEMS = 8;

  /**
   * The owner posts a mail. {@code originServer} null or blank: the sender's home server (the only
   * server whose COP for A's submission is valid, {@link Entitlements#cop}).
   */
  public record Submit(String recipient, byte[] content, long deadlineMillis, Flavour flavour, String originServer)
      implements Input {}

  private final String mailbox;
  private final String submissionId;
  private final Timings timings;
  private final Signatures signatures;

  public SenderMachine(String mailbox, String submissionId, Timings timings, Signatures signatures) {
    this.mailbox = mailbox;
    this.submissionId = submissionId;
    this.timings = timings;
    this.signatures = signatures;
  }

  @Override
  public SenderStage empty() {
    return Empty.INSTANCE;
  }

  // ---- events ----

  @Override
  public SenderStage apply(SenderStage stage, OutboxEvent event) {
    return after(stage, event);
  }

  /**
   * The stage after an event, strict: an event A never persists in {@code stage} is an
   * {@link IllegalStateException}. Needs no keys or settings, so an audit replays with it.
   */
  public static SenderStage after(SenderStage stage, OutboxEvent event) {
    return switch (event.getEventCase()) {
      case MAIL_SUBMITTED -> {
        if (!(stage instanceof Empty)) {
          throw unexpected(stage, event);
        }
        yield new AwaitingCop(event.getMailSubmitted());
      }
      case POSTING_CERTIFIED -> {
        PostingCertified certified = event.getPostingCertified();
        yield new InDelivery(awaiting(stage, event).mail(),
            new CertifiedPosting(certified.getLabel(), certified.getCop(), statementOf(certified.getCop())), false);
      }
      case RECIPIENT_NOTIFIED -> {
        InDelivery delivery = inDelivery(stage, event);
        yield new InDelivery(delivery.mail(), delivery.posting(), true);
      }
      case SUBMISSION_REFUSED -> {
        SignedEvidence rejection = event.getSubmissionRefused().getRejection();
        yield new Concluded(awaiting(stage, event).mail(), Optional.empty(), Outcome.NOT_DELIVERED,
            statementOf(rejection).getReason(), List.of(rejection), List.of());
      }
      case SUBMISSION_UNANSWERED -> new Concluded(awaiting(stage, event).mail(), Optional.empty(), Outcome.NOT_POSTED,
          ReasonCode.REASON_UNSPECIFIED, List.of(), List.of());
      case DELIVERY_CONFIRMED -> {
        InDelivery delivery = inDelivery(stage, event);
        DeliveryConfirmed confirmed = event.getDeliveryConfirmed();
        yield new Concluded(delivery.mail(), Optional.of(delivery.posting()), Outcome.DELIVERED,
            ReasonCode.REASON_UNSPECIFIED,
            List.of(delivery.posting().cop(), confirmed.getRodN(), confirmed.getCod(), confirmed.getRod()), List.of());
      }
      case NON_DELIVERY_NOTIFIED -> {
        InDelivery delivery = inDelivery(stage, event);
        SignedEvidence ndn = event.getNonDeliveryNotified().getNdn();
        yield new Concluded(delivery.mail(), Optional.of(delivery.posting()), Outcome.NOT_DELIVERED,
            statementOf(ndn).getReason(), List.of(delivery.posting().cop(), ndn), List.of());
      }
      case MAIL_DECLARED_LOST -> {
        InDelivery delivery = inDelivery(stage, event);
        yield new Concluded(delivery.mail(), Optional.of(delivery.posting()), Outcome.LOST,
            ReasonCode.DEADLINE_EXPIRED, List.of(delivery.posting().cop(), event.getMailDeclaredLost().getClaim()),
            List.of());
      }
      case LATE_EVIDENCE_RECORDED -> {
        if (!(stage instanceof Concluded concluded)) {
          throw unexpected(stage, event);
        }
        yield concluded.withLate(event.getLateEvidenceRecorded().getEvidenceList());
      }
      case EVENT_NOT_SET -> throw new IllegalStateException("an outbox event without content");
    };
  }

  // ---- decisions ----

  @Override
  public Decision<OutboxEvent> decide(SenderStage stage, Input input, long now) {
    if (stage instanceof AwaitingCop awaiting) {
      return awaitingCop(awaiting, input, now);
    }
    if (stage instanceof InDelivery delivery) {
      return inDelivery(delivery, input, now);
    }
    if (stage instanceof Concluded concluded) {
      return concluded(concluded, input, now);
    }
    if (input instanceof Submit submit) {
      return submit(submit, now);
    }
    if (input instanceof Input.Received received) {
      return Decision.ignore("NO_SUCH_MAIL", received.message().getMessageCase() + " for a submission "
          + submissionId + " that " + mailbox + " never made");
    }
    return Decision.none();
  }

  /** Step 1: the owner's mail becomes A's submission, sent at once to the origin. */
  private Decision<OutboxEvent> submit(Submit submit, long now) {
    Optional<String> problem = SubmissionId.check(submissionId)
        .or(() -> submit.flavour() == Flavour.CEM || submit.flavour() == Flavour.NSR || submit.flavour() == Flavour.IP
            ? Optional.empty() : Optional.of("choose a flavour: CEM, NSR or IP"))
        .or(() -> submit.recipient() != null && submit.content() != null ? Optional.empty()
            : Optional.of("a mail needs a recipient and content"));
    if (problem.isPresent()) {
      return Decision.refuse(problem.get());
    }
    MailSubmitted mail = MailSubmitted.newBuilder()
        .setSubmissionId(submissionId).setSender(mailbox).setOriginServer(originOf(submit))
        .setRecipient(submit.recipient()).setContent(ByteString.copyFrom(submit.content()))
        .setDeadlineMillis(submit.deadlineMillis()).setFlavour(submit.flavour())
        .setLostAfterMillis(timings.lostAfter(submit.deadlineMillis()))
        .setSubmittedAtMillis(now).build();
    return Decision.<OutboxEvent>persist(OutboxEvent.newBuilder().setMailSubmitted(mail).build())
        .andSend(submission(mail));
  }

  /** The same id again: the same mail is answered with its status, another mail is turned down. */
  private Decision<OutboxEvent> resubmit(MailSubmitted mail, Submit submit) {
    boolean same = mail.getRecipient().equals(submit.recipient())
        && submit.content() != null && Arrays.equals(mail.getContent().toByteArray(), submit.content())
        && mail.getDeadlineMillis() == submit.deadlineMillis()
        && mail.getFlavour() == submit.flavour()
        && mail.getOriginServer().equals(originOf(submit));
    return same ? Decision.none()
        : Decision.refuse("submission id " + submissionId + " was already used for another mail");
  }

  // ---- AwaitingCop: steps 1 and 2 ----

  private Decision<OutboxEvent> awaitingCop(AwaitingCop stage, Input input, long now) {
    MailSubmitted mail = stage.mail();
    if (input instanceof Submit submit) {
      return resubmit(mail, submit);
    }
    if (input instanceof Input.Received received) {
      if (!received.from().equals(mail.getOriginServer())) {
        return Decision.ignore("WRONG_PARTY", received.message().getMessageCase() + " from " + received.from()
            + ", not the origin " + mail.getOriginServer());
      }
      ProtocolMessage message = received.message();
      return switch (message.getMessageCase()) {
        case COP_REPLY -> onCop(mail, message.getCopReply().getCop(), now);
        case SUBMISSION_REJECTED -> onRejection(mail, message.getSubmissionRejected().getRejection());
        default -> Decision.ignore("UNEXPECTED_MESSAGE", message.getMessageCase() + " before the COP");
      };
    }
    if (now >= timings.lostAfter(mail.getDeadlineMillis())) {
      // Phase 1 never ended: nothing was posted, so nobody owes a verdict and there is nothing to claim on.
      return Decision.persist(OutboxEvent.newBuilder()
          .setSubmissionUnanswered(SubmissionUnanswered.newBuilder().setConcludedAtMillis(now)).build());
    }
    return Decision.send(submission(mail));
  }

  private Decision<OutboxEvent> onCop(MailSubmitted mail, SignedEvidence cop, long now) {
    EvidenceStatement statement;
    try {
      statement = signatures.verify(cop, EvidenceKind.COP);
    } catch (Signatures.InvalidEvidence e) {
      return Decision.ignore("INVALID_EVIDENCE", "COP: " + e.getMessage());
    }
    Optional<String> unfit = Entitlements.cop(statement);
    if (unfit.isPresent()) {
      return Decision.ignore("NOT_ENTITLED", unfit.get());
    }
    Optional<String> mismatch = copMismatch(statement, mail);
    if (mismatch.isPresent()) {
      return Decision.ignore("EVIDENCE_MISMATCH", mismatch.get());
    }
    return Decision.persist(OutboxEvent.newBuilder().setPostingCertified(PostingCertified.newBuilder()
        .setLabel(statement.getLabel()).setCop(cop).setCertifiedAtMillis(now)).build());
  }

  /** A's own check of the COP: the origin certified exactly the mail A submitted, under the label A expects. */
  private Optional<String> copMismatch(EvidenceStatement cop, MailSubmitted mail) {
    return first(aboutMySubmission(cop, mail),
        expect(cop.getLabel().equals(labelOf(mail)), "COP for label " + cop.getLabel() + ", not " + labelOf(mail)));
  }

  /**
   * A COP or a rejection answers exactly the mail A submitted: from its origin, for its sender and
   * submission id, over its recipient, content, deadline and flavour. A rejection of a submission
   * someone else sent under A's id (a spoofed one) answers nothing of A's.
   */
  private Optional<String> aboutMySubmission(EvidenceStatement answer, MailSubmitted mail) {
    String origin = mail.getOriginServer();
    String what = answer.getKind().name();
    return first(
        expect(answer.getIssuer().equals(origin), what + " issued by " + answer.getIssuer() + ", not the origin " + origin),
        expect(answer.getSender().equals(mailbox), what + " for another sender: " + answer.getSender()),
        expect(answer.getSubmissionId().equals(submissionId), what + " for another submission"),
        expect(answer.getRecipient().equals(mail.getRecipient()), what + " names another recipient"),
        expect(Arrays.equals(answer.getContentHash().toByteArray(), ContentHash.of(mail.getContent().toByteArray())),
            what + " over another content"),
        expect(answer.getDeadlineMillis() == mail.getDeadlineMillis(), what + " with another deadline"),
        expect(answer.getFlavour() == mail.getFlavour(), what + " of another flavour"));
  }

  private Decision<OutboxEvent> onRejection(MailSubmitted mail, SignedEvidence rejection) {
    EvidenceStatement statement;
    try {
      statement = signatures.verify(rejection, EvidenceKind.SUBMISSION_REJECTION);
    } catch (Signatures.InvalidEvidence e) {
      return Decision.ignore("INVALID_EVIDENCE", "submission rejection: " + e.getMessage());
    }
    Optional<String> mismatch = aboutMySubmission(statement, mail);
    if (mismatch.isPresent()) {
      return Decision.ignore("EVIDENCE_MISMATCH", mismatch.get());
    }
    return Decision.persist(OutboxEvent.newBuilder()
        .setSubmissionRefused(SubmissionRefused.newBuilder().setRejection(rejection)).build());
  }

  // ---- InDelivery: waiting for the verdict (step 9) ----

  /**
   * The origin's note that B was notified and has not decided (the paper's "card left"): recorded
   * once, so that A shows AWAITING_COLLECTION and still sleeps until its verdict or its deadline.
   */
  private Decision<OutboxEvent> progressNote(InDelivery stage, StatusAnswer note, long now) {
    if (stage.recipientNotified() || note.getStatus() != DeliveryStatus.AWAITING_COLLECTION
        || !note.getLabel().equals(stage.posting().label())) {
      return Decision.none();
    }
    return Decision.persist(OutboxEvent.newBuilder()
        .setRecipientNotified(RecipientNotified.newBuilder().setNotedAtMillis(now)).build());
  }

  private Decision<OutboxEvent> inDelivery(InDelivery stage, Input input, long now) {
    MailSubmitted mail = stage.mail();
    CertifiedPosting posting = stage.posting();
    if (input instanceof Submit submit) {
      return resubmit(mail, submit);
    }
    if (input instanceof Input.Received received) {
      if (!received.from().equals(mail.getOriginServer())) {
        return Decision.ignore("WRONG_PARTY", received.message().getMessageCase() + " from " + received.from()
            + ", not the origin " + mail.getOriginServer());
      }
      ProtocolMessage message = received.message();
      return switch (message.getMessageCase()) {
        case DELIVERY_REPORT -> {
          DeliveryReport report = message.getDeliveryReport();
          Optional<Ignored> unfit = reportProblem(stage.facts(), mail, report);
          yield unfit.isPresent() ? ignored(unfit.get())
              : Decision.<OutboxEvent>persist(OutboxEvent.newBuilder().setDeliveryConfirmed(DeliveryConfirmed
                  .newBuilder().setRod(report.getRod()).setRodN(report.getRodN()).setCod(report.getCod())).build())
              .andSend(receipt(mail, posting, "delivery_report"));
        }
        case NON_DELIVERY_NOTICE -> {
          SignedEvidence ndn = message.getNonDeliveryNotice().getNdn();
          Optional<Ignored> unfit = noticeProblem(stage.facts(), ndn);
          yield unfit.isPresent() ? ignored(unfit.get())
              : Decision.<OutboxEvent>persist(OutboxEvent.newBuilder()
                  .setNonDeliveryNotified(NonDeliveryNotified.newBuilder().setNdn(ndn)).build())
              .andSend(receipt(mail, posting, "non_delivery_notice"));
        }
        case STATUS_ANSWER -> progressNote(stage, message.getStatusAnswer(), now);
        // Answers to A's own resends.
        case COP_REPLY, SUBMISSION_REJECTED -> Decision.none();
        default -> Decision.ignore("UNEXPECTED_MESSAGE", message.getMessageCase() + " while in delivery");
      };
    }
    long deadline = mail.getDeadlineMillis();
    if (now >= timings.lostAfter(deadline)) {
      // No verdict by T plus grace, though the origin was asked: the mail is lost; claim on the COP.
      SignedEvidence claim = signatures.sign(EvidenceStatements.compensationClaim(mailbox, posting.cop(),
          posting.statement(), timings.grace().toMillis(), now));
      return Decision.persist(OutboxEvent.newBuilder()
          .setMailDeclaredLost(MailDeclaredLost.newBuilder().setClaim(claim)).build());
    }
    if (now >= deadline) {
      // The verdict is overdue: ask the origin, which answers by resending its verdict if it has one.
      return Decision.send(new Outgoing(Addressee.server(mail.getOriginServer(), posting.label()),
          ProtocolMessage.newBuilder().setStatusQuery(StatusQuery.newBuilder()
              .setSubmissionId(submissionId).setLabel(posting.label())).build()));
    }
    return Decision.none();
  }

  // ---- Concluded: the outcome stands; later evidence is kept, bounded, never flips it ----

  private Decision<OutboxEvent> concluded(Concluded stage, Input input, long now) {
    MailSubmitted mail = stage.mail();
    if (input instanceof Submit submit) {
      return resubmit(mail, submit);
    }
    if (!(input instanceof Input.Received received)) {
      return Decision.none();
    }
    ProtocolMessage message = received.message();
    boolean verdict = message.getMessageCase() == ProtocolMessage.MessageCase.DELIVERY_REPORT
        || message.getMessageCase() == ProtocolMessage.MessageCase.NON_DELIVERY_NOTICE;
    if (!verdict) {
      return Decision.none(); // answers to A's own resends, progress notes: nothing left to do
    }
    if (!received.from().equals(mail.getOriginServer())) {
      return Decision.ignore("WRONG_PARTY", message.getMessageCase() + " from " + received.from()
          + ", not the origin " + mail.getOriginServer());
    }
    if (stage.posting().isEmpty()) {
      return Decision.ignore("UNEXPECTED_MESSAGE", message.getMessageCase() + " for a submission that was "
          + stage.status() + " without a COP");
    }
    CertifiedPosting posting = stage.posting().get();
    List<SignedEvidence> items = message.getMessageCase() == ProtocolMessage.MessageCase.DELIVERY_REPORT
        ? List.of(message.getDeliveryReport().getRod(), message.getDeliveryReport().getRodN(),
            message.getDeliveryReport().getCod())
        : List.of(message.getNonDeliveryNotice().getNdn());
    String acknowledged = message.getMessageCase() == ProtocolMessage.MessageCase.DELIVERY_REPORT
        ? "delivery_report" : "non_delivery_notice";
    if (items.stream().allMatch(stage::holds)) {
      // The origin resent what A holds (its receipt crossed the resend): these exact bytes were
      // verified when A took them, so A only confirms again.
      return Decision.send(receipt(mail, posting, acknowledged));
    }
    if (message.getMessageCase() == ProtocolMessage.MessageCase.DELIVERY_REPORT) {
      DeliveryReport report = message.getDeliveryReport();
      Optional<Ignored> unfit = reportProblem(posting.facts(), mail, report);
      return unfit.isPresent() ? ignored(unfit.get()) : late(stage, items, acknowledged, now);
    }
    SignedEvidence ndn = message.getNonDeliveryNotice().getNdn();
    Optional<Ignored> unfit = noticeProblem(posting.facts(), ndn);
    return unfit.isPresent() ? ignored(unfit.get()) : late(stage, items, acknowledged, now);
  }

  /** Records what is new of a fit verdict, within the bound, and confirms its receipt either way. */
  private Decision<OutboxEvent> late(Concluded stage, List<SignedEvidence> items, String acknowledged, long now) {
    Outgoing receipt = receipt(stage.mail(), stage.posting().orElseThrow(), acknowledged);
    List<SignedEvidence> unseen = items.stream().filter(item -> !stage.holds(item)).distinct().toList();
    if (unseen.isEmpty()) {
      return Decision.send(receipt); // a duplicate of what A holds: it only needs the receipt
    }
    int room = Math.max(0, MAX_LATE_ITEMS - stage.late().size());
    List<SignedEvidence> kept = unseen.subList(0, Math.min(room, unseen.size()));
    List<OutboxEvent> events = kept.isEmpty() ? List.of() : List.of(OutboxEvent.newBuilder()
        .setLateEvidenceRecorded(LateEvidenceRecorded.newBuilder().addAllEvidence(kept).setRecordedAtMillis(now))
        .build());
    List<Ignored> dropped = kept.size() == unseen.size() ? List.of() : List.of(new Ignored("LATE_EVIDENCE_LIMIT",
        (unseen.size() - kept.size()) + " late item(s) beyond the " + MAX_LATE_ITEMS + " kept per mail"));
    return new Decision<>(events, List.of(receipt), dropped, null);
  }

  // ---- checks of the verdicts against the COP's facts ----

  /** ROD_n, COD and ROD: each verifies, each is its issuer's to give, ROD_n and ROD are bound to this COD. */
  private Optional<Ignored> reportProblem(MailFacts facts, MailSubmitted mail, DeliveryReport report) {
    EvidenceStatement rod;
    EvidenceStatement rodN;
    EvidenceStatement cod;
    try {
      rodN = signatures.verify(report.getRodN(), EvidenceKind.ROD_N);
      cod = signatures.verify(report.getCod(), EvidenceKind.COD);
      rod = signatures.verify(report.getRod(), EvidenceKind.ROD);
    } catch (Signatures.InvalidEvidence e) {
      return Optional.of(new Ignored("INVALID_EVIDENCE", "delivery report: " + e.getMessage()));
    }
    Optional<String> unfit = Entitlements.check(rodN, facts)
        .or(() -> Entitlements.cod(cod, facts, mail.getContent().toByteArray()))
        .or(() -> Entitlements.check(rod, facts));
    if (unfit.isPresent()) {
      return Optional.of(new Ignored("NOT_ENTITLED", unfit.get()));
    }
    byte[] codStatement = report.getCod().getStatement().toByteArray();
    return Entitlements.boundToCod(rodN, codStatement)
        .or(() -> Entitlements.boundToCod(rod, codStatement))
        .map(problem -> new Ignored("EVIDENCE_MISMATCH", problem));
  }

  /** An NDN: verifies, and was issued before T by a server on the route for a reason that fits its place. */
  private Optional<Ignored> noticeProblem(MailFacts facts, SignedEvidence ndn) {
    EvidenceStatement statement;
    try {
      statement = signatures.verify(ndn, EvidenceKind.NDN);
    } catch (Signatures.InvalidEvidence e) {
      return Optional.of(new Ignored("INVALID_EVIDENCE", "non-delivery notice: " + e.getMessage()));
    }
    return Entitlements.ndn(statement, facts).map(problem -> new Ignored("NOT_ENTITLED", problem));
  }

  // ---- when to wake ----

  @Override
  public long dueAt(SenderStage stage, long now) {
    if (stage instanceof AwaitingCop awaiting) {
      MailSubmitted mail = awaiting.mail();
      return Math.min(timings.nextResend(mail.getSubmittedAtMillis(), now), timings.lostAfter(mail.getDeadlineMillis()));
    }
    if (stage instanceof InDelivery delivery) {
      long deadline = delivery.mail().getDeadlineMillis();
      if (now < deadline) {
        return deadline;
      }
      return Math.min(timings.nextResend(deadline, now), timings.lostAfter(deadline));
    }
    return NEVER;
  }

  // ---- messages ----

  private Outgoing submission(MailSubmitted mail) {
    Submission submission = Submission.newBuilder()
        .setSubmissionId(submissionId).setSender(mailbox).setRecipient(mail.getRecipient())
        .setContent(mail.getContent()).setDeadlineMillis(mail.getDeadlineMillis()).setFlavour(mail.getFlavour())
        .build();
    return new Outgoing(Addressee.server(mail.getOriginServer(), labelOf(mail)),
        ProtocolMessage.newBuilder().setSubmission(submission).build());
  }

  private static Outgoing receipt(MailSubmitted mail, CertifiedPosting posting, String acknowledged) {
    return new Outgoing(Addressee.server(mail.getOriginServer(), posting.label()), ProtocolMessage.newBuilder()
        .setReceipt(Receipt.newBuilder().setLabel(posting.label()).setAcknowledged(acknowledged)).build());
  }

  // ---- helpers ----

  /** The label the origin derives for this submission: the only one A accepts a COP for. */
  public String labelOf(MailSubmitted mail) {
    return Labels.forSubmission(mail.getOriginServer(), mailbox, submissionId);
  }

  private String originOf(Submit submit) {
    return submit.originServer() == null || submit.originServer().isBlank()
        ? Routing.domainOf(mailbox) : submit.originServer();
  }

  private static Decision<OutboxEvent> ignored(Ignored why) {
    return Decision.ignore(why.reason(), why.detail());
  }

  private static AwaitingCop awaiting(SenderStage stage, OutboxEvent event) {
    if (stage instanceof AwaitingCop awaiting) {
      return awaiting;
    }
    throw unexpected(stage, event);
  }

  private static InDelivery inDelivery(SenderStage stage, OutboxEvent event) {
    if (stage instanceof InDelivery delivery) {
      return delivery;
    }
    throw unexpected(stage, event);
  }

  private static IllegalStateException unexpected(SenderStage stage, OutboxEvent event) {
    return new IllegalStateException(event.getEventCase() + " in stage " + stage.getClass().getSimpleName());
  }

  /** The statement of an item A stored after verifying it. */
  private static EvidenceStatement statementOf(SignedEvidence item) {
    try {
      return EvidenceStatement.parseFrom(item.getStatement());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a stored evidence statement no longer parses", e);
    }
  }

  /** The mailbox this machine speaks for. */
  public String mailbox() {
    return mailbox;
  }

  public String submissionId() {
    return submissionId;
  }
}
