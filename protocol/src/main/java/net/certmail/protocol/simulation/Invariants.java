package net.certmail.protocol.simulation;

import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Optional;
import net.certmail.crypto.ContentHash;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.MailSubmitted;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Entitlements;
import net.certmail.protocol.Labels;
import net.certmail.protocol.MailFacts;
import net.certmail.protocol.RoleMachine;
import net.certmail.protocol.Routing;
import net.certmail.protocol.Signatures;

/**
 * The invariants checked when a schedule has run to its horizon (T + grace + a few handshakes
 * after the last deadline), over what every honest principal persisted. Who may issue which
 * evidence is {@link Entitlements}' to say: these checks call it and code no rule of their own.
 */
final class Invariants {
  private final Schedule schedule;
  private final Signatures verifier;
  private final Set<SignedEvidence> checked = new HashSet<>();

  private Invariants(Schedule schedule) {
    this.schedule = schedule;
    this.verifier = schedule.network.keyring().verifier();
  }

  static void checkAtHorizon(Schedule schedule) {
    new Invariants(schedule).check();
  }

  private void check() {
    for (Instance instance : List.copyOf(schedule.instances.values())) {
      quiescent(instance);
      evidenceKept(instance);
      switch (instance.entity.role()) {
        case SENDER -> sender(instance);
        case SERVER -> server(instance);
        case RECIPIENT -> recipient(instance);
      }
    }
  }

  private void violate(Invariant invariant, String label, String detail) {
    if (invariant.livenessOnly() && !schedule.shape.fair()) {
      return;
    }
    schedule.violate(invariant, label, detail);
  }

  /** No stage without an end: nothing is due any more at the horizon. */
  private void quiescent(Instance instance) {
    long local = schedule.localTime(instance.principal());
    long due;
    try {
      due = instance.machine.dueAt(instance.stage, local);
    } catch (RuntimeException e) {
      violate(Invariant.NO_EXCEPTION, instance.entity.key(), Step.entity(instance.entity) + " threw in dueAt: " + e);
      return;
    }
    if (due != RoleMachine.NEVER) {
      violate(Invariant.QUIESCENCE, instance.entity.key(), Step.entity(instance.entity) + " is still due at "
          + (due - local) + "ms after the horizon, in stage " + instance.stage.getClass().getSimpleName());
    }
  }

  // --- A ------------------------------------------------------------------------------------

  private void sender(Instance a) {
    MailSubmitted submitted = Schedule.submittedOf(a);
    if (submitted == null) {
      if (!a.events.isEmpty()) {
        violate(Invariant.EVERY_MAIL_ENDS, a.entity.key(), Step.entity(a.entity)
            + " persisted events without a submission of its owner");
      }
      return;
    }
    String label = Schedule.labelOfSender(a);
    List<OutboxEvent> outcomes = a.eventsOf(OutboxEvent.class).stream()
        .filter(e -> e.hasDeliveryConfirmed() || e.hasNonDeliveryNotified() || e.hasMailDeclaredLost()
            || e.hasSubmissionRefused() || e.hasSubmissionUnanswered())
        .toList();
    if (outcomes.size() != 1) {
      violate(Invariant.EVERY_MAIL_ENDS, label, a.principal() + " ended with " + outcomes.size() + " outcomes "
          + outcomes.stream().map(Messages::caseOf).toList());
    }
    Instance p1 = schedule.instances.get(Addressee.server(submitted.getOriginServer(), label));
    SignedEvidence genuineCop = p1 == null ? null : p1.eventsOf(ServerEvent.class).stream()
        .filter(ServerEvent::hasSubmissionAccepted).map(e -> e.getSubmissionAccepted().getMail().getCop())
        .findFirst().orElse(null);
    MailPlan plan = schedule.plans.stream().filter(p -> p.sender().equals(a.principal())
        && p.submissionId().equals(a.entity.key())).findFirst().orElse(null);
    copMatches(a, submitted, label, genuineCop);
    if (plan != null && genuineCop == null && validPlan(plan)) {
      violate(Invariant.VALID_MAIL_POSTED, label, "a valid " + plan.flavour() + " submission to " + plan.recipient()
          + " with " + plan.leadMillis() + "ms lead got no COP; A ended " + outcomes.stream().map(Messages::caseOf)
          .toList());
    }
    if (outcomes.isEmpty()) {
      return;
    }
    OutboxEvent outcome = outcomes.get(0);
    List<SignedEvidence> p1Verdicts = schedule.p1Verdicts(label);
    if (outcome.hasDeliveryConfirmed() || outcome.hasNonDeliveryNotified()) {
      SignedEvidence verdict = outcome.hasDeliveryConfirmed() ? outcome.getDeliveryConfirmed().getRod()
          : outcome.getNonDeliveryNotified().getNdn();
      if (p1Verdicts.size() != 1 || !p1Verdicts.get(0).equals(verdict)) {
        violate(Invariant.VERDICT_AGREES, label, "A holds " + describe(verdict) + ", P1's verdicts are "
            + p1Verdicts.stream().map(Invariants::describe).toList());
      }
    } else if (outcome.hasMailDeclaredLost()) {
      lost(a, submitted, label, outcome.getMailDeclaredLost().getClaim(), genuineCop, p1Verdicts);
    } else if (outcome.hasSubmissionUnanswered()) {
      if (a.eventsOf(OutboxEvent.class).stream().anyMatch(OutboxEvent::hasPostingCertified)) {
        violate(Invariant.LOST_WITH_CLAIM, label, "A holds a COP but concluded NOT_POSTED, without a claim");
      }
      if (genuineCop != null) {
        violate(Invariant.VERDICT_REACHES_SENDER, label, "P1 issued a COP (verdicts " + p1Verdicts.stream()
            .map(Invariants::describe).toList() + ") but A concluded NOT_POSTED");
      }
    } else if (outcome.hasSubmissionRefused()) {
      if (genuineCop != null) {
        violate(Invariant.VERDICT_AGREES, label, "A was told its submission was refused, but P1 issued a COP");
      }
      EvidenceStatement rejection = Messages.statementOf(outcome.getSubmissionRefused().getRejection());
      if (rejection == null || !rejection.getSender().equals(submitted.getSender())
          || !rejection.getSubmissionId().equals(submitted.getSubmissionId())
          || !Arrays.equals(rejection.getContentHash().toByteArray(),
              ContentHash.of(submitted.getContent().toByteArray()))) {
        violate(Invariant.ANSWER_MATCHES, label, "A accepted the refusal of another submission"
            + (rejection == null ? "" : " (content hash " + (Arrays.equals(rejection.getContentHash().toByteArray(),
                ContentHash.of(submitted.getContent().toByteArray())) ? "equal" : "differs") + ", recipient "
                + rejection.getRecipient() + ", reason " + rejection.getReason() + ": " + rejection.getReasonDetail()
                + ")"));
      }
    }
  }

  private boolean validPlan(MailPlan plan) {
    return Cast.MAILBOXES.contains(plan.recipient())
        && plan.leadMillis() >= schedule.network.policy().minLeadTime().toMillis() + schedule.timings.handshakeMillis();
  }

  /** A's COP is its origin's one COP for the label, about exactly what A submitted. */
  private void copMatches(Instance a, MailSubmitted submitted, String label, SignedEvidence genuineCop) {
    for (OutboxEvent event : a.eventsOf(OutboxEvent.class)) {
      if (!event.hasPostingCertified()) {
        continue;
      }
      SignedEvidence cop = event.getPostingCertified().getCop();
      if (genuineCop == null || !genuineCop.getStatement().equals(cop.getStatement())) {
        violate(Invariant.LABEL_ISSUED_ONCE, label, "A holds a COP its origin did not issue"
            + (genuineCop == null ? " (the origin issued none)" : " (the origin issued another)"));
      }
      EvidenceStatement statement = Messages.statementOf(cop);
      if (statement == null || !statement.getSender().equals(submitted.getSender())
          || !statement.getSubmissionId().equals(submitted.getSubmissionId())
          || !statement.getRecipient().equals(submitted.getRecipient())
          || statement.getDeadlineMillis() != submitted.getDeadlineMillis()
          || statement.getFlavour() != submitted.getFlavour()
          || !Arrays.equals(statement.getContentHash().toByteArray(), ContentHash.of(submitted.getContent().toByteArray()))) {
        violate(Invariant.ANSWER_MATCHES, label, "A accepted a COP that certifies something else than its submission");
      }
    }
  }

  /** LOST: a claim A signed at or after T + grace on the COP its origin issued; never when P1 answered within bounds. */
  private void lost(Instance a, MailSubmitted submitted, String label, SignedEvidence claim, SignedEvidence genuineCop,
                    List<SignedEvidence> p1Verdicts) {
    EvidenceStatement statement;
    try {
      statement = verifier.verify(claim, EvidenceKind.COMPENSATION_CLAIM);
    } catch (Signatures.InvalidEvidence e) {
      violate(Invariant.LOST_WITH_CLAIM, label, "the claim does not verify: " + e.getMessage());
      return;
    }
    List<String> problems = new ArrayList<>();
    if (!statement.getIssuer().equals(a.principal())) {
      problems.add("claim issued by " + statement.getIssuer());
    }
    if (statement.getIssuedAtMillis() < schedule.timings.lostAfter(submitted.getDeadlineMillis())) {
      problems.add("claim issued at " + statement.getIssuedAtMillis() + ", before T + grace = "
          + schedule.timings.lostAfter(submitted.getDeadlineMillis()));
    }
    if (genuineCop == null || !statement.getClaimedCop().getStatement().equals(genuineCop.getStatement())) {
      problems.add("the claim is not on the COP the origin issued");
    } else {
      try {
        verifier.verify(statement.getClaimedCop(), EvidenceKind.COP);
      } catch (Signatures.InvalidEvidence e) {
        problems.add("the claimed COP does not verify: " + e.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      violate(Invariant.LOST_WITH_CLAIM, label, String.join("; ", problems));
    }
    if (genuineCop != null) {
      violate(Invariant.VERDICT_REACHES_SENDER, label, "A declared the mail LOST; P1's verdicts are "
          + p1Verdicts.stream().map(Invariants::describe).toList());
    }
  }

  /** "NDN by beta.example (RECIPIENT_REFUSED)", "ROD by alpha.example". */
  static String describe(SignedEvidence item) {
    EvidenceStatement statement = Messages.statementOf(item);
    if (statement == null) {
      return "an unparseable item";
    }
    return statement.getKind() + " by " + statement.getIssuer()
        + (statement.getKind() == EvidenceKind.NDN ? " (" + statement.getReason() + ")" : "");
  }

  // --- P1, Pi, Pn ---------------------------------------------------------------------------

  private void server(Instance server) {
    String label = server.entity.key();
    List<ServerEvent> events = server.eventsOf(ServerEvent.class);
    boolean origin = server.principal().equals(Labels.originOf(label));
    if (origin && events.stream().anyMatch(ServerEvent::hasSubmissionAccepted)
        && events.stream().noneMatch(e -> Schedule.verdictOf(e) != null)) {
      violate(Invariant.P1_DECIDES, label, server.principal() + " issued a COP and reached no verdict");
    }
    MailFacts facts = schedule.facts(label);
    if (facts == null) {
      return;
    }
    for (ServerEvent event : events) {
      if (event.hasSubmissionAccepted() || event.hasRelayAccepted()) {
        byte[] content = (event.hasSubmissionAccepted() ? event.getSubmissionAccepted().getMail()
            : event.getRelayAccepted().getMail()).getContent().toByteArray();
        if (!Arrays.equals(ContentHash.of(content), facts.contentHash())) {
          violate(Invariant.RIGHT_CONTENT, label, server.principal() + " carries content the COP does not certify");
        }
      }
    }
    if (!schedule.shape.fair() || !server.principal().equals(facts.destination())
        || events.stream().noneMatch(ServerEvent::hasCodAccepted)) {
      return;
    }
    Instance b = schedule.instances.get(Addressee.recipient(facts.recipient(), label));
    // a dishonest recipient may sign and never fetch: only its mail's verdict is owed
    if (!Cast.isRogue(facts.recipient()) && (b == null || contentOf(b, facts.flavour()) == null)) {
      violate(Invariant.COD_MEANS_CONTENT, label, server.principal() + " accepted " + facts.recipient()
          + "'s COD, but " + facts.recipient() + " never got the content");
    }
    List<SignedEvidence> verdicts = schedule.p1Verdicts(label);
    if (verdicts.isEmpty() || Messages.statementOf(verdicts.get(0)).getKind() != EvidenceKind.ROD) {
      violate(Invariant.COD_MEANS_CONTENT, label, server.principal() + " accepted " + facts.recipient()
          + "'s COD, but P1's verdict is " + verdicts.stream().map(Invariants::describe).toList());
    }
  }

  // --- B ------------------------------------------------------------------------------------

  private void recipient(Instance b) {
    String label = b.entity.key();
    MailFacts facts = schedule.facts(label);
    List<InboxEvent> events = b.eventsOf(InboxEvent.class);
    Flavour flavour = events.stream().filter(InboxEvent::hasNotificationReceived)
        .map(e -> e.getNotificationReceived().getFlavour()).findFirst().orElse(Flavour.FLAVOUR_UNSPECIFIED);
    byte[] content = contentOf(b, flavour);
    if (content != null && (facts == null || !Arrays.equals(ContentHash.of(content), facts.contentHash()))) {
      violate(Invariant.RIGHT_CONTENT, label, b.principal() + " holds content "
          + (facts == null ? "for a label its origin never issued" : "the COP does not certify"));
    }
  }

  /** B's M: with the delivery in CEM, fetched in NSR and IP; null when B has none. */
  private static byte[] contentOf(Instance b, Flavour flavour) {
    for (InboxEvent event : b.eventsOf(InboxEvent.class)) {
      if (event.hasContentRetrieved()) {
        return event.getContentRetrieved().getContent().toByteArray();
      }
      if (flavour == Flavour.CEM && event.hasNotificationReceived()
          && !event.getNotificationReceived().getContent().isEmpty()) {
        return event.getNotificationReceived().getContent().toByteArray();
      }
    }
    return null;
  }

  // --- every item every honest principal keeps ----------------------------------------------

  private void evidenceKept(Instance instance) {
    for (Object event : instance.events) {
      if (!(event instanceof Message message)) {
        continue;
      }
      for (SignedEvidence item : Messages.evidenceIn(message)) {
        item(instance, message, item);
      }
      reportsBoundToCod(instance, message);
    }
  }

  private void item(Instance instance, Message event, SignedEvidence item) {
    if (!checked.add(item)) {
      return; // the same item kept elsewhere: the same verdict, already given
    }
    String where = Step.entity(instance.entity) + " kept in " + Messages.caseOf(event);
    EvidenceStatement statement = Messages.statementOf(item);
    if (statement == null) {
      violate(Invariant.EVIDENCE_ENTITLED, instance.entity.key(), where + " an item whose statement does not parse");
      return;
    }
    String label = statement.getLabel();
    String what = statement.getKind() + " by " + statement.getIssuer();
    try {
      verifier.verify(item, statement.getKind());
    } catch (Signatures.InvalidEvidence e) {
      violate(Invariant.EVIDENCE_ENTITLED, label, where + " " + what + " that does not verify: " + e.getMessage());
      return;
    }
    switch (statement.getKind()) {
      case SUBMISSION_REJECTION -> {
        if (!statement.getIssuer().equals(Routing.domainOf(statement.getSender()))) {
          violate(Invariant.EVIDENCE_ENTITLED, label, where + " a submission rejection by " + statement.getIssuer()
              + ", not " + statement.getSender() + "'s home server");
        }
      }
      case COMPENSATION_CLAIM -> {
        if (!statement.getIssuer().equals(statement.getSender())) {
          violate(Invariant.EVIDENCE_ENTITLED, label, where + " a claim by " + statement.getIssuer()
              + ", not the sender");
        }
      }
      default -> {
        MailFacts facts = schedule.facts(label);
        if (facts == null) {
          violate(Invariant.EVIDENCE_ENTITLED, label, where + " " + what + " for a label its origin never issued");
          return;
        }
        Optional<String> problem = Entitlements.check(statement, facts);
        problem.ifPresent(p -> violate(Invariant.EVIDENCE_ENTITLED, label, where + " " + what + ": " + p));
        if (statement.getKind() == EvidenceKind.COP) {
          EvidenceStatement genuine = schedule.genuineCop(label);
          if (genuine != null && !genuine.equals(statement)) {
            violate(Invariant.LABEL_ISSUED_ONCE, label, where + " a second, different COP for the label");
          }
        }
      }
    }
  }

  /** A COD kept with a report is over the certified content, and ROD_n / ROD are bound to exactly that COD. */
  private void reportsBoundToCod(Instance instance, Message event) {
    SignedEvidence cod = null;
    List<SignedEvidence> reports = new ArrayList<>();
    if (event instanceof ServerEvent server && server.hasCodAccepted()) {
      cod = server.getCodAccepted().getCod();
      reports.add(server.getCodAccepted().getRodN());
    } else if (event instanceof ServerEvent server && server.hasDeliveryCertified()) {
      cod = server.getDeliveryCertified().getCod();
      reports.add(server.getDeliveryCertified().getRodN());
      reports.add(server.getDeliveryCertified().getRod());
    } else if (event instanceof OutboxEvent outbox && outbox.hasDeliveryConfirmed()) {
      cod = outbox.getDeliveryConfirmed().getCod();
      reports.add(outbox.getDeliveryConfirmed().getRodN());
      reports.add(outbox.getDeliveryConfirmed().getRod());
    }
    if (cod == null) {
      return;
    }
    EvidenceStatement codStatement = Messages.statementOf(cod);
    if (codStatement == null) {
      return; // reported as unparseable by item()
    }
    String label = codStatement.getLabel();
    MailFacts facts = schedule.facts(label);
    Instance p1 = facts == null ? null : schedule.instances.get(Addressee.server(facts.origin(), label));
    byte[] content = p1 == null ? null : p1.eventsOf(ServerEvent.class).stream()
        .filter(ServerEvent::hasSubmissionAccepted)
        .map(e -> e.getSubmissionAccepted().getMail().getContent().toByteArray()).findFirst().orElse(null);
    String where = Step.entity(instance.entity) + " kept in " + Messages.caseOf(event);
    if (facts != null && content != null) {
      Entitlements.cod(codStatement, facts, content).ifPresent(p ->
          violate(Invariant.EVIDENCE_ENTITLED, label, where + " a COD: " + p));
    }
    byte[] codBytes = cod.getStatement().toByteArray();
    for (SignedEvidence report : reports) {
      EvidenceStatement reportStatement = Messages.statementOf(report);
      if (reportStatement != null) {
        Entitlements.boundToCod(reportStatement, codBytes).ifPresent(p ->
            violate(Invariant.EVIDENCE_ENTITLED, label, where + " " + p));
      }
    }
  }
}
