package net.certmail.persistence.audit;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.Sha256;
import net.certmail.crypto.VerificationException;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.MailInTransit;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.protocol.Entitlements;
import net.certmail.protocol.MailFacts;
import net.certmail.proto.v1.SignedEvidence;

/**
 * The audit's rules, on events already read from the journal. No Pekko here: the rules take
 * events from any source. actors' JournalAuditTest runs them on a journal written by the real
 * engine, with violations planted in its database.
 *
 * <p>Each persistence id is checked on its own first (sequence numbers, decoding, every signature
 * and certificate). Then the ids are grouped by label into one evidence chain per mail: server and
 * inbox ids carry the label, an outbox id carries A's submission id and its label is the one in its
 * PostingCertified. The chain rules ({@link AuditRule}) compare what the principals recorded.
 */
public final class JournalAuditor {
  private final EvidenceVerifier verifier;
  private final long nowMillis;
  private final List<Violation> violations = new ArrayList<>();
  private final Map<String, LabelChain> chains = new TreeMap<>();
  // Evidence is stored by several principals (a COP by A, P1 and every hop): verify each item once.
  private final Map<ByteString, Optional<String>> verified = new HashMap<>();
  private long events;
  private long evidenceChecked;
  private long lateEvidenceSkipped;
  private long refusedSubmissions;
  private long shardingEvents;

  /**
   * Cluster sharding's remember-entities store persists its own events (which entities to restart
   * after a crash) in the same journal under these ids. They carry no evidence: not audited.
   */
  static final String SHARDING_PREFIX = "/sharding/";

  public JournalAuditor(EvidenceVerifier verifier, Instant now) {
    this.verifier = verifier;
    this.nowMillis = now.toEpochMilli();
  }

  /** Checks every stream and every label's chain; call once. */
  public AuditResult audit(List<List<JournalEvent>> streams) {
    List<List<JournalEvent>> sorted = new ArrayList<>(streams);
    sorted.sort(Comparator.comparing(stream -> stream.isEmpty() ? "" : stream.get(0).persistenceId()));
    for (List<JournalEvent> stream : sorted) {
      if (!stream.isEmpty() && stream.get(0).persistenceId().startsWith(SHARDING_PREFIX)) {
        shardingEvents += stream.size();
      } else if (!stream.isEmpty()) {
        checkStream(stream.stream().sorted(Comparator.comparingLong(JournalEvent::sequenceNr)).toList());
      }
    }
    Map<String, AuditResult.Outcome> outcomes = new LinkedHashMap<>();
    for (LabelChain chain : chains.values()) {
      outcomes.put(chain.label, checkChain(chain));
    }
    return new AuditResult(sorted.size(), events, shardingEvents, evidenceChecked, lateEvidenceSkipped, refusedSubmissions,
        outcomes, eventsPerLabel(), List.copyOf(violations));
  }

  // ---- one persistence id ----

  private void checkStream(List<JournalEvent> stream) {
    long expected = 1;
    for (JournalEvent event : stream) {
      events++;
      if (event.sequenceNr() != expected) {
        String label = stream.get(0).event() instanceof OutboxEvent ? "" : event.key();
        violations.add(new Violation(label, event.principal(), event.persistenceId(), expected, "(missing)",
            AuditRule.CONTIGUOUS_SEQUENCE_NUMBERS, event.sequenceNr() > expected
                ? "events " + expected + ".." + (event.sequenceNr() - 1) + " are missing (deleted from the journal)"
                : "sequence number " + event.sequenceNr() + " appears twice"));
      }
      expected = event.sequenceNr() + 1;
    }
    JournalEvent first = stream.get(0);
    Class<?> kind = first.event() == null ? null : first.event().getClass();
    for (JournalEvent event : stream) {
      if (event.event() == null || event.event().getClass() != kind) {
        violations.add(new Violation("", event.principal(), event.persistenceId(), event.sequenceNr(), event.name(),
            AuditRule.READABLE_EVENT, "not of the kind of this persistence id's first event (" + first.name() + ")"));
      }
    }
    if (first.event() instanceof ServerEvent) {
      chain(first.key()).servers.put(first.persistenceId(), stream);
    } else if (first.event() instanceof InboxEvent) {
      chain(first.key()).inboxes.put(first.persistenceId(), stream);
    } else if (first.event() instanceof OutboxEvent) {
      String label = labelOfOutbox(stream);
      if (!label.isEmpty()) {
        chain(label).outboxes.put(first.persistenceId(), stream);
      } else if (stream.stream().anyMatch(e -> e.event() instanceof OutboxEvent o && o.hasSubmissionRefused())) {
        refusedSubmissions++;
      }
    }
    String outboxLabel = first.event() instanceof OutboxEvent ? labelOfOutbox(stream) : null;
    for (JournalEvent event : stream) {
      String label = outboxLabel != null ? outboxLabel : event.key();
      for (SignedEvidence evidence : evidenceIn(event)) {
        verify(evidence, event, label);
      }
    }
  }

  private String labelOfOutbox(List<JournalEvent> stream) {
    return stream.stream().map(JournalEvent::event).filter(OutboxEvent.class::isInstance).map(OutboxEvent.class::cast)
        .filter(OutboxEvent::hasPostingCertified).map(e -> e.getPostingCertified().getLabel()).findFirst().orElse("");
  }

  private LabelChain chain(String label) {
    return chains.computeIfAbsent(label, LabelChain::new);
  }

  private void verify(SignedEvidence evidence, JournalEvent event, String label) {
    Optional<String> problem = verified.computeIfAbsent(evidence.getSignature().concat(evidence.getStatement()), key -> {
      evidenceChecked++;
      try {
        verifier.verify(evidence);
        return Optional.empty();
      } catch (VerificationException e) {
        return Optional.of(e.getMessage() + " (" + e.failure().explanation() + ")");
      }
    });
    if (problem.isPresent()) {
      violations.add(at(event, label, AuditRule.EVIDENCE_VERIFIES, problem.get()));
      return;
    }
    EvidenceStatement statement = statementOf(evidence);
    if (!label.isEmpty() && statement.getKind() != EvidenceKind.SUBMISSION_REJECTION
        && !statement.getLabel().equals(label)) {
      violations.add(at(event, label, AuditRule.EVIDENCE_MATCHES_LABEL,
          statement.getKind() + " for label " + statement.getLabel() + " stored under " + label));
    }
  }

  /** The evidence an event carries and an entity acted on. Late evidence is recorded unverified by design. */
  private List<SignedEvidence> evidenceIn(JournalEvent event) {
    if (event.event() instanceof OutboxEvent outbox) {
      return switch (outbox.getEventCase()) {
        case POSTING_CERTIFIED -> List.of(outbox.getPostingCertified().getCop());
        case SUBMISSION_REFUSED -> List.of(outbox.getSubmissionRefused().getRejection());
        case DELIVERY_CONFIRMED -> List.of(outbox.getDeliveryConfirmed().getRod(),
            outbox.getDeliveryConfirmed().getRodN(), outbox.getDeliveryConfirmed().getCod());
        case NON_DELIVERY_NOTIFIED -> List.of(outbox.getNonDeliveryNotified().getNdn());
        case MAIL_DECLARED_LOST -> List.of(outbox.getMailDeclaredLost().getClaim());
        case LATE_EVIDENCE_RECORDED -> skipLate(outbox.getLateEvidenceRecorded().getEvidenceCount());
        case MAIL_SUBMITTED, SUBMISSION_UNANSWERED, EVENT_NOT_SET -> List.of();
      };
    }
    if (event.event() instanceof ServerEvent server) {
      return switch (server.getEventCase()) {
        case SUBMISSION_ACCEPTED -> List.of(server.getSubmissionAccepted().getMail().getCop());
        case SUBMISSION_DECLINED -> List.of(server.getSubmissionDeclined().getRejection());
        case RELAY_ACCEPTED -> List.of(server.getRelayAccepted().getMail().getCop(), server.getRelayAccepted().getAck());
        case RELAY_DECLINED -> List.of(server.getRelayDeclined().getRejection());
        case FORWARD_ACKNOWLEDGED -> List.of(server.getForwardAcknowledged().getAck());
        case COD_ACCEPTED -> List.of(server.getCodAccepted().getCod(), server.getCodAccepted().getRodN());
        case REFUSAL_ACCEPTED -> List.of(server.getRefusalAccepted().getRefusal(), server.getRefusalAccepted().getNdn());
        case CONTENT_RELEASED -> List.of(server.getContentReleased().getHandover());
        case NON_DELIVERY_ISSUED -> List.of(server.getNonDeliveryIssued().getNdn());
        case DELIVERY_CERTIFIED -> List.of(server.getDeliveryCertified().getRodN(),
            server.getDeliveryCertified().getCod(), server.getDeliveryCertified().getRod());
        case NON_DELIVERY_RECORDED -> List.of(server.getNonDeliveryRecorded().getNdn());
        case LATE_EVIDENCE_RECORDED -> skipLate(server.getLateEvidenceRecorded().getEvidenceCount());
        case UPSTREAM_RECEIPT_CONFIRMED, DUTY_ENDED, EVENT_NOT_SET -> List.of();
      };
    }
    if (event.event() instanceof InboxEvent inbox) {
      return switch (inbox.getEventCase()) {
        case RECEIPT_SIGNED -> List.of(inbox.getReceiptSigned().getCod());
        case RECEIPT_REFUSED -> List.of(inbox.getReceiptRefused().getRefusal());
        case CONTENT_RETRIEVED -> List.of(inbox.getContentRetrieved().getHandover());
        case NOTIFICATION_RECEIVED, EVENT_NOT_SET -> List.of();
      };
    }
    return List.of();
  }

  // Entities record evidence that arrives after the verdict as it came, without acting on it
  // (a late forged NDN must not flip a verdict, nor be worth verifying first): count, do not verify.
  private List<SignedEvidence> skipLate(int count) {
    lateEvidenceSkipped += count;
    return List.of();
  }

  // ---- one label's evidence chain across principals ----

  private AuditResult.Outcome checkChain(LabelChain chain) {
    String origin = originOf(chain.label);
    List<Located> cops = chain.cops();
    if (cops.isEmpty()) {
      return AuditResult.Outcome.NO_COP; // declined relays, or a label nobody certified: nothing to account for
    }
    // The COP of record: the origin's own, else the first one found.
    Located cop = cops.stream().filter(c -> c.event.principal().equals(origin)).findFirst().orElse(cops.get(0));
    EvidenceStatement copStatement = statementOf(cop.evidence);
    for (Located other : cops) {
      if (!other.evidence.getStatement().equals(cop.evidence.getStatement())) {
        violations.add(at(other.event, chain.label, AuditRule.LABEL_ISSUED_ONCE,
            "a second, different COP for this label (first in " + cop.event.persistenceId() + " #"
                + cop.event.sequenceNr() + ")"));
      }
    }
    checkSubmissionIds(chain, copStatement);

    MailFacts facts = MailFacts.of(copStatement);
    long deadline = facts.deadlineMillis();
    Flavour flavour = copStatement.getFlavour();
    byte[] content = chain.content(copStatement.getContentHash().toByteArray());

    List<JournalEvent> originVerdicts = new ArrayList<>();
    for (Map.Entry<String, List<JournalEvent>> server : chain.servers.entrySet()) {
      boolean isOrigin = server.getValue().get(0).principal().equals(origin);
      JournalEvent cod = null;
      for (JournalEvent event : server.getValue()) {
        if (!(event.event() instanceof ServerEvent e)) {
          continue;
        }
        switch (e.getEventCase()) {
          case COD_ACCEPTED -> {
            cod = event;
            checkCod(chain, event, e.getCodAccepted().getCod(), e.getCodAccepted().getRodN(), null, copStatement,
                content);
          }
          case DELIVERY_CERTIFIED -> checkCod(chain, event, e.getDeliveryCertified().getCod(),
              e.getDeliveryCertified().getRodN(), e.getDeliveryCertified().getRod(), copStatement, content);
          case CONTENT_RELEASED -> checkRelease(chain, event, cod, flavour);
          case NON_DELIVERY_ISSUED -> checkNdn(chain, event, e.getNonDeliveryIssued().getNdn(), facts);
          case NON_DELIVERY_RECORDED -> checkNdn(chain, event, e.getNonDeliveryRecorded().getNdn(), facts);
          case REFUSAL_ACCEPTED -> checkNdn(chain, event, e.getRefusalAccepted().getNdn(), facts);
          default -> { }
        }
        if (isOrigin && isVerdict(e)) {
          originVerdicts.add(event);
        }
      }
    }
    for (JournalEvent extra : originVerdicts.subList(Math.min(1, originVerdicts.size()), originVerdicts.size())) {
      violations.add(at(extra, chain.label, AuditRule.ONE_VERDICT_PER_LABEL, "a second verdict at the origin: "
          + originVerdicts.get(0).name() + " (#" + originVerdicts.get(0).sequenceNr() + ") came first"));
    }

    for (List<JournalEvent> inbox : chain.inboxes.values()) {
      JournalEvent signed = null;
      for (JournalEvent event : inbox) {
        if (event.event() instanceof InboxEvent e && e.hasReceiptSigned()) {
          signed = event;
          checkCod(chain, event, e.getReceiptSigned().getCod(), null, null, copStatement, content);
        } else if (event.event() instanceof InboxEvent e && e.hasContentRetrieved() && flavour != Flavour.CEM
            && signed == null) {
          violations.add(at(event, chain.label, AuditRule.CONTENT_AFTER_COD,
              "the recipient holds the content of a " + flavour + " mail without having signed its COD"));
        }
      }
    }

    List<JournalEvent> senderVerdicts = new ArrayList<>();
    for (List<JournalEvent> outbox : chain.outboxes.values()) {
      for (JournalEvent event : outbox) {
        if (!(event.event() instanceof OutboxEvent e)) {
          continue;
        }
        switch (e.getEventCase()) {
          case DELIVERY_CONFIRMED -> checkCod(chain, event, e.getDeliveryConfirmed().getCod(),
              e.getDeliveryConfirmed().getRodN(), e.getDeliveryConfirmed().getRod(), copStatement, content);
          case NON_DELIVERY_NOTIFIED -> checkNdn(chain, event, e.getNonDeliveryNotified().getNdn(), facts);
          default -> { }
        }
        if (e.hasDeliveryConfirmed() || e.hasNonDeliveryNotified() || e.hasMailDeclaredLost()) {
          senderVerdicts.add(event);
        }
      }
    }
    for (JournalEvent extra : senderVerdicts.subList(Math.min(1, senderVerdicts.size()), senderVerdicts.size())) {
      violations.add(at(extra, chain.label, AuditRule.ONE_VERDICT_PER_LABEL, "a second verdict at the sender: "
          + senderVerdicts.get(0).name() + " came first"));
    }
    JournalEvent originVerdict = originVerdicts.isEmpty() ? null : originVerdicts.get(0);
    JournalEvent senderVerdict = senderVerdicts.isEmpty() ? null : senderVerdicts.get(0);
    if (originVerdict != null && senderVerdict != null) {
      compareVerdicts(chain, originVerdict, senderVerdict);
    }

    JournalEvent verdict = originVerdict != null ? originVerdict : senderVerdict;
    if (verdict == null) {
      if (nowMillis < deadline) {
        return AuditResult.Outcome.OPEN;
      }
      violations.add(at(cop.event, chain.label, AuditRule.COP_ACCOUNTED_FOR, "COP with deadline "
          + Instant.ofEpochMilli(deadline) + " has no verdict and no LOST claim at " + Instant.ofEpochMilli(nowMillis)));
      return AuditResult.Outcome.UNACCOUNTED;
    }
    if (verdict.event() instanceof OutboxEvent e && e.hasMailDeclaredLost()) {
      return AuditResult.Outcome.LOST;
    }
    boolean delivered = verdict.event() instanceof ServerEvent s ? s.hasDeliveryCertified()
        : ((OutboxEvent) verdict.event()).hasDeliveryConfirmed();
    return delivered ? AuditResult.Outcome.DELIVERED : AuditResult.Outcome.NOT_DELIVERED;
  }

  private static boolean isVerdict(ServerEvent event) {
    return event.hasDeliveryCertified() || event.hasNonDeliveryIssued() || event.hasNonDeliveryRecorded()
        || event.hasRefusalAccepted();
  }

  /** A label is derived from (P1, A, submission id): the COP must name the submission that holds it. */
  private void checkSubmissionIds(LabelChain chain, EvidenceStatement cop) {
    if (chain.outboxes.size() > 1) {
      chain.outboxes.values().stream().skip(1).forEach(stream -> violations.add(at(stream.get(0), chain.label,
          AuditRule.LABEL_ISSUED_ONCE, "a second submission holds a COP for this label")));
    }
    for (List<JournalEvent> outbox : chain.outboxes.values()) {
      for (JournalEvent event : outbox) {
        if (event.event() instanceof OutboxEvent e && e.hasPostingCertified()
            && !statementOf(e.getPostingCertified().getCop()).getSubmissionId().equals(event.key())) {
          violations.add(at(event, chain.label, AuditRule.LABEL_ISSUED_ONCE,
              "the COP names submission " + statementOf(e.getPostingCertified().getCop()).getSubmissionId()));
        }
      }
    }
    for (List<JournalEvent> server : chain.servers.values()) {
      for (JournalEvent event : server) {
        if (event.event() instanceof ServerEvent e && e.hasSubmissionAccepted()
            && !e.getSubmissionAccepted().getMail().getSubmissionId().equals(cop.getSubmissionId())) {
          violations.add(at(event, chain.label, AuditRule.LABEL_ISSUED_ONCE, "the origin accepted submission "
              + e.getSubmissionAccepted().getMail().getSubmissionId() + " but the COP names " + cop.getSubmissionId()));
        }
      }
    }
  }

  /** A COD (and the ROD_n / ROD reporting it) must be the recipient's, over L and the flavour's hash. */
  private void checkCod(LabelChain chain, JournalEvent event, SignedEvidence cod, SignedEvidence rodN,
                        SignedEvidence rod, EvidenceStatement cop, byte[] content) {
    String what = rod != null ? "ROD" : rodN != null ? "ROD_n" : "COD";
    Optional<String> problem = problemOf(cod);
    if (problem.isPresent()) {
      violations.add(at(event, chain.label, AuditRule.ROD_NEEDS_VALID_COD, what + " with a COD that does not verify: "
          + problem.get()));
      return;
    }
    EvidenceStatement c = statementOf(cod);
    String pn = domainOf(cop.getRecipient());
    List<String> problems = new ArrayList<>();
    if (c.getKind() != EvidenceKind.COD) {
      problems.add("the COD is a " + c.getKind());
    }
    if (!c.getLabel().equals(chain.label)) {
      problems.add("the COD is for label " + c.getLabel());
    }
    if (!c.getIssuer().equals(cop.getRecipient())) {
      problems.add("the COD is signed by " + c.getIssuer() + ", not the recipient " + cop.getRecipient());
    }
    if (!c.getCounterparty().equals(pn)) {
      problems.add("the COD names agent " + c.getCounterparty() + ", not " + pn);
    }
    byte[] expected = switch (cop.getFlavour()) {
      case CEM -> cop.getContentHash().toByteArray();
      case IP -> content == null ? null : ContentHash.labelled(chain.label, content);
      default -> new byte[0];
    };
    if (expected == null) {
      problems.add("no copy of the content in the journal to check H(L,M) against");
    } else if (!Arrays.equals(expected, c.getContentHash().toByteArray())) {
      problems.add("the COD's hash " + Sha256.hex(c.getContentHash().toByteArray()) + " is not the " + cop.getFlavour()
          + " hash " + Sha256.hex(expected) + (cop.getFlavour() == Flavour.IP ? " = H(L,M)" : " = H(M)"));
    }
    byte[] codHash = Sha256.hash(cod.getStatement().toByteArray());
    if (rodN != null && !Arrays.equals(codHash, statementOf(rodN).getCodStatementHash().toByteArray())) {
      problems.add("the ROD_n reports another COD");
    }
    if (rodN != null && !statementOf(rodN).getIssuer().equals(pn)) {
      problems.add("the ROD_n is signed by " + statementOf(rodN).getIssuer() + ", not " + pn);
    }
    if (rod != null && !Arrays.equals(codHash, statementOf(rod).getCodStatementHash().toByteArray())) {
      problems.add("the ROD reports another COD");
    }
    if (rod != null && !statementOf(rod).getIssuer().equals(originOf(chain.label))) {
      problems.add("the ROD is signed by " + statementOf(rod).getIssuer() + ", not the origin");
    }
    if (!problems.isEmpty()) {
      violations.add(at(event, chain.label, AuditRule.ROD_NEEDS_VALID_COD, what + ": " + String.join("; ", problems)));
    }
  }

  private void checkNdn(LabelChain chain, JournalEvent event, SignedEvidence ndn, MailFacts facts) {
    EvidenceStatement statement = statementOf(ndn);
    long issued = statement.getIssuedAtMillis();
    if (issued >= facts.deadlineMillis()) {
      violations.add(at(event, chain.label, AuditRule.NDN_BEFORE_DEADLINE, "NDN issued at "
          + Instant.ofEpochMilli(issued) + ", not before the deadline " + Instant.ofEpochMilli(facts.deadlineMillis())));
      return;
    }
    Entitlements.ndn(statement, facts).ifPresent(problem ->
        violations.add(at(event, chain.label, AuditRule.EVIDENCE_ENTITLED, problem)));
  }

  private void checkRelease(LabelChain chain, JournalEvent release, JournalEvent cod, Flavour flavour) {
    if (flavour == Flavour.CEM) {
      return; // in CEM the content travels with the delivery: selective receipt is the flavour's known weakness
    }
    if (cod == null) {
      violations.add(at(release, chain.label, AuditRule.CONTENT_AFTER_COD,
          "content released to the recipient of a " + flavour + " mail before any COD"));
    }
  }

  private void compareVerdicts(LabelChain chain, JournalEvent origin, JournalEvent sender) {
    ServerEvent o = (ServerEvent) origin.event();
    OutboxEvent s = (OutboxEvent) sender.event();
    String problem = null;
    if (s.hasMailDeclaredLost()) {
      problem = "the sender declared the mail LOST, but the origin reached " + origin.name();
    } else if (s.hasDeliveryConfirmed()) {
      if (!o.hasDeliveryCertified()) {
        problem = "the sender holds a delivery, but the origin reached " + origin.name();
      } else if (!o.getDeliveryCertified().getRod().equals(s.getDeliveryConfirmed().getRod())) {
        problem = "the sender's ROD is not the one the origin signed";
      }
    } else if (o.hasDeliveryCertified()) {
      problem = "the sender holds a non-delivery notice, but the origin certified delivery";
    } else if (!ndnOf(o).equals(s.getNonDeliveryNotified().getNdn())) {
      problem = "the sender's NDN is not the one the origin recorded";
    }
    if (problem != null) {
      violations.add(at(sender, chain.label, AuditRule.SENDER_VERDICT_MATCHES_ORIGIN, problem));
    }
  }

  private static SignedEvidence ndnOf(ServerEvent verdict) {
    return switch (verdict.getEventCase()) {
      case NON_DELIVERY_ISSUED -> verdict.getNonDeliveryIssued().getNdn();
      case NON_DELIVERY_RECORDED -> verdict.getNonDeliveryRecorded().getNdn();
      case REFUSAL_ACCEPTED -> verdict.getRefusalAccepted().getNdn();
      default -> SignedEvidence.getDefaultInstance();
    };
  }

  private Optional<String> problemOf(SignedEvidence evidence) {
    return verified.getOrDefault(evidence.getSignature().concat(evidence.getStatement()), Optional.empty());
  }

  private Map<String, Map<String, Long>> eventsPerLabel() {
    // flavour -> label -> events of every principal for that label (the cost of one mail)
    Map<String, Map<String, Long>> result = new TreeMap<>();
    for (LabelChain chain : chains.values()) {
      List<Located> cops = chain.cops();
      if (cops.isEmpty()) {
        continue;
      }
      String flavour = statementOf(cops.get(0).evidence).getFlavour().name();
      long count = chain.servers.values().stream().mapToLong(List::size).sum()
          + chain.inboxes.values().stream().mapToLong(List::size).sum()
          + chain.outboxes.values().stream().mapToLong(List::size).sum();
      result.computeIfAbsent(flavour, f -> new TreeMap<>()).put(chain.label, count);
    }
    return result;
  }

  private static Violation at(JournalEvent event, String label, AuditRule rule, String detail) {
    return new Violation(label, event.principal(), event.persistenceId(), event.sequenceNr(), event.name(), rule,
        detail);
  }

  static EvidenceStatement statementOf(SignedEvidence evidence) {
    try {
      return EvidenceStatement.parseFrom(evidence.getStatement());
    } catch (InvalidProtocolBufferException e) {
      return EvidenceStatement.getDefaultInstance(); // reported by evidence-verifies as MALFORMED
    }
  }

  /** P1 namespaces its labels: "alpha.example/…". */
  static String originOf(String label) {
    int slash = label.indexOf('/');
    return slash < 0 ? "" : label.substring(0, slash);
  }

  /** B's home server Pn: the mailbox's domain. */
  static String domainOf(String mailbox) {
    return mailbox.substring(mailbox.indexOf('@') + 1);
  }

  private record Located(SignedEvidence evidence, JournalEvent event) {}

  /** Everything the principals recorded about one label. */
  private static final class LabelChain {
    final String label;
    final Map<String, List<JournalEvent>> servers = new TreeMap<>();
    final Map<String, List<JournalEvent>> inboxes = new TreeMap<>();
    final Map<String, List<JournalEvent>> outboxes = new TreeMap<>();

    LabelChain(String label) {
      this.label = label;
    }

    /** Every COP stored for this label, by A (PostingCertified), P1 and each hop (the mail's COP). */
    List<Located> cops() {
      List<Located> cops = new ArrayList<>();
      for (List<JournalEvent> stream : servers.values()) {
        for (JournalEvent event : stream) {
          if (event.event() instanceof ServerEvent e && e.hasSubmissionAccepted()) {
            cops.add(new Located(e.getSubmissionAccepted().getMail().getCop(), event));
          } else if (event.event() instanceof ServerEvent e && e.hasRelayAccepted()) {
            cops.add(new Located(e.getRelayAccepted().getMail().getCop(), event));
          }
        }
      }
      for (List<JournalEvent> stream : outboxes.values()) {
        for (JournalEvent event : stream) {
          if (event.event() instanceof OutboxEvent e && e.hasPostingCertified()) {
            cops.add(new Located(e.getPostingCertified().getCop(), event));
          }
        }
      }
      return cops;
    }

    /** A copy of M whose H(M) is the COP's, from any principal that holds one; null if none does. */
    byte[] content(byte[] copHash) {
      List<byte[]> candidates = new ArrayList<>();
      for (List<JournalEvent> stream : servers.values()) {
        for (JournalEvent event : stream) {
          if (event.event() instanceof ServerEvent e) {
            MailInTransit mail = e.hasSubmissionAccepted() ? e.getSubmissionAccepted().getMail()
                : e.hasRelayAccepted() ? e.getRelayAccepted().getMail() : null;
            if (mail != null) {
              candidates.add(mail.getContent().toByteArray());
            }
          }
        }
      }
      for (List<JournalEvent> stream : outboxes.values()) {
        for (JournalEvent event : stream) {
          if (event.event() instanceof OutboxEvent e && e.hasMailSubmitted()) {
            candidates.add(e.getMailSubmitted().getContent().toByteArray());
          }
        }
      }
      return candidates.stream().filter(c -> Arrays.equals(ContentHash.of(c), copHash)).findFirst().orElse(null);
    }
  }
}
