package net.certmail.persistence.audit;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.Supplier;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.Sha256;
import net.certmail.crypto.VerificationException;
import net.certmail.persistence.chain.EventChain;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.MailInTransit;
import net.certmail.proto.v1.MailSubmitted;
import net.certmail.proto.v1.NotificationReceived;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.Entitlements;
import net.certmail.protocol.MailFacts;
import net.certmail.protocol.recipient.RecipientMachine;
import net.certmail.protocol.recipient.RecipientStage;
import net.certmail.protocol.sender.SenderMachine;
import net.certmail.protocol.sender.SenderStage;
import net.certmail.protocol.server.ServerMachine;
import net.certmail.protocol.server.ServerStage;

/**
 * The audit of one label: every stream of the mail (A's submission, each server's part, B's
 * inbox entry), checked on its own and against the others. One instance per label, used once, so
 * labels are audited in parallel and only one label's events are held at a time.
 */
final class LabelAudit {
  private final String label;
  private final EvidenceVerifier verifier;
  private final long nowMillis;
  private final Predicate<String> journalHolds;
  private final List<Violation> violations = new ArrayList<>();
  // Evidence is stored by several principals (a COP by A, P1 and every hop): verify each item once.
  // Keyed by the whole item (statement, signature, signer, key id, algorithm): a copy that differs
  // in any field is verified on its own.
  private final Map<SignedEvidence, Optional<String>> verified = new HashMap<>();
  /** The stored copy of M whose hash is the COP's H(M), once found; other copies are compared with it. */
  private ByteString recordContent;
  private byte[] expectedCodHash;
  private final Map<ByteString, EvidenceStatement> statements = new HashMap<>();
  private final Map<String, List<JournalEvent>> servers = new TreeMap<>();
  private final Map<String, List<JournalEvent>> inboxes = new TreeMap<>();
  private final Map<String, List<JournalEvent>> outboxes = new TreeMap<>();
  private long events;
  private long chainedEvents;
  private long evidenceChecked;
  private long lateEvidenceSkipped;
  private int refusedSubmissions;

  /** What the audit found for one label. {@code flavour} is empty without a COP. */
  record Result(String label, AuditResult.Outcome outcome, String flavour, long events, long chainedEvents,
                long evidenceVerified, long lateEvidenceNotVerified, int refusedSubmissions,
                List<Violation> violations) {}

  /**
   * @param journalHolds whether this journal is the one an organisation writes to: a stream that
   *     evidence implies is required only of those
   */
  LabelAudit(String label, EvidenceVerifier verifier, long nowMillis, Predicate<String> journalHolds) {
    this.label = label;
    this.verifier = verifier;
    this.nowMillis = nowMillis;
    this.journalHolds = journalHolds;
  }

  Result audit(List<List<JournalEvent>> streams) {
    List<List<JournalEvent>> sorted = new ArrayList<>();
    for (List<JournalEvent> stream : streams) {
      if (!stream.isEmpty()) {
        sorted.add(stream.stream().sorted(Comparator.comparingLong(JournalEvent::sequenceNr)).toList());
      }
    }
    sorted.sort(Comparator.comparing(stream -> stream.get(0).persistenceId()));
    for (List<JournalEvent> stream : sorted) {
      checkStream(stream);
    }
    AuditResult.Outcome outcome = checkChain();
    String flavour = cops().isEmpty() ? "" : statementOf(cops().get(0).evidence).getFlavour().name();
    return new Result(label, outcome, flavour, events, chainedEvents, evidenceChecked, lateEvidenceSkipped,
        refusedSubmissions, List.copyOf(violations));
  }

  // ---- one persistence id ----

  private void checkStream(List<JournalEvent> stream) {
    JournalEvent first = stream.get(0);
    StreamId id = StreamId.parse(first.persistenceId());
    events += stream.size();
    checkSequence(stream);
    Class<? extends Message> kind = switch (id.role()) {
      case SENDER -> OutboxEvent.class;
      case SERVER -> ServerEvent.class;
      case RECIPIENT -> InboxEvent.class;
    };
    boolean readable = true;
    for (JournalEvent event : stream) {
      if (event.event() == null || event.event().getClass() != kind) {
        readable = false;
        violations.add(at(event, AuditRule.READABLE_EVENT, (event.event() == null ? event.name()
            : "a " + event.event().getClass().getSimpleName()) + " where a " + kind.getSimpleName() + " belongs (a "
            + id.role().name().toLowerCase() + "'s persistence id)"));
      }
    }
    checkHashChain(stream);
    if (readable) {
      replay(id, stream);
    }
    switch (id.role()) {
      case SERVER -> servers.put(id.persistenceId(), stream);
      case RECIPIENT -> inboxes.put(id.persistenceId(), stream);
      case SENDER -> {
        outboxes.put(id.persistenceId(), stream);
        if (stream.stream().anyMatch(e -> e.event() instanceof OutboxEvent o && o.hasSubmissionRefused())) {
          refusedSubmissions++;
        }
      }
    }
    for (JournalEvent event : stream) {
      for (SignedEvidence evidence : evidenceIn(event)) {
        verify(evidence, event);
      }
    }
  }

  private void checkSequence(List<JournalEvent> stream) {
    long expected = 1;
    for (JournalEvent event : stream) {
      if (event.sequenceNr() != expected) {
        violations.add(new Violation(label, event.principal(), event.persistenceId(), expected, "(missing)",
            AuditRule.CONTIGUOUS_SEQUENCE_NUMBERS, event.sequenceNr() > expected
                ? "events " + expected + ".." + (event.sequenceNr() - 1) + " are missing (deleted from the journal)"
                : "sequence number " + event.sequenceNr() + " appears twice"));
      }
      expected = event.sequenceNr() + 1;
    }
  }

  /**
   * Each chained event must carry its predecessor's chain hash; the first chained event of a
   * stream (after any events written before journals had chains) the persistence id's genesis.
   */
  private void checkHashChain(List<JournalEvent> stream) {
    JournalEvent previous = null;
    byte[] genesis = EventChain.genesis(stream.get(0).persistenceId());
    for (JournalEvent event : stream) {
      if (event.chained()) {
        chainedEvents++;
        byte[] expected = previous != null && previous.chained() ? previous.chainHash() : genesis;
        if (!Arrays.equals(expected, event.previousHash().toByteArray())) {
          String before = previous == null ? "the stream's genesis" : previous.chained()
              ? "event #" + previous.sequenceNr() + " as stored" : "the stream's genesis (the chain starts here)";
          violations.add(at(event, AuditRule.HASH_CHAIN_INTACT, "carries predecessor hash "
              + Sha256.hex(event.previousHash().toByteArray()).substring(0, 16) + "…, expected "
              + Sha256.hex(expected).substring(0, 16) + "… of " + before + ": an event before this one was edited,"
              + " removed, reordered or inserted, or this one belongs to another stream"));
        }
      } else if (previous != null && previous.chained()) {
        violations.add(at(event, AuditRule.HASH_CHAIN_INTACT,
            "an event without a chain link after the chain began: written around the journal, not by certmail"));
      }
      previous = event;
    }
  }

  /** Folds the stream through its role's pure machine: the first event it would not persist there is named. */
  private void replay(StreamId id, List<JournalEvent> stream) {
    Object stage = switch (id.role()) {
      case SENDER -> SenderStage.Empty.INSTANCE;
      case SERVER -> ServerStage.Unassigned.INSTANCE;
      case RECIPIENT -> new RecipientStage.Empty();
    };
    for (JournalEvent event : stream) {
      try {
        stage = switch (id.role()) {
          case SENDER -> SenderMachine.after((SenderStage) stage, (OutboxEvent) event.event());
          case SERVER -> ServerMachine.after(id.principal(), (ServerStage) stage, (ServerEvent) event.event());
          case RECIPIENT -> RecipientMachine.after((RecipientStage) stage, (InboxEvent) event.event());
        };
      } catch (RuntimeException e) {
        violations.add(at(event, AuditRule.STREAM_FOLLOWS_MACHINE, "the " + id.role().name().toLowerCase()
            + "'s machine never persists this here: " + e.getMessage()));
        return; // the stage is unknown from here on
      }
    }
  }

  private void verify(SignedEvidence evidence, JournalEvent event) {
    Optional<String> problem = verified.computeIfAbsent(evidence, key -> {
      evidenceChecked++;
      try {
        statements.putIfAbsent(evidence.getStatement(), verifier.verify(evidence).statement());
        return Optional.empty();
      } catch (VerificationException e) {
        return Optional.of(e.getMessage() + " (" + e.failure().explanation() + ")");
      }
    });
    if (problem.isPresent()) {
      violations.add(at(event, AuditRule.EVIDENCE_VERIFIES, problem.get()));
      return;
    }
    EvidenceStatement statement = statementOf(evidence);
    if (statement.getKind() != EvidenceKind.SUBMISSION_REJECTION && !statement.getLabel().equals(label)) {
      violations.add(at(event, AuditRule.EVIDENCE_MATCHES_LABEL,
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
        case MAIL_SUBMITTED, SUBMISSION_UNANSWERED, RECIPIENT_NOTIFIED, EVENT_NOT_SET -> List.of();
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
        case UPSTREAM_RECEIPT_CONFIRMED, DUTY_ENDED, HOLD_ACKNOWLEDGED, EVENT_NOT_SET -> List.of();
      };
    }
    if (event.event() instanceof InboxEvent inbox) {
      return switch (inbox.getEventCase()) {
        case RECEIPT_SIGNED -> List.of(inbox.getReceiptSigned().getCod());
        case RECEIPT_REFUSED -> List.of(inbox.getReceiptRefused().getRefusal());
        case CONTENT_RETRIEVED -> List.of(inbox.getContentRetrieved().getHandover());
        case NOTIFICATION_RECEIVED, DECISION_CONFIRMED, EVENT_NOT_SET -> List.of();
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

  // ---- the label's evidence chain across principals ----

  private AuditResult.Outcome checkChain() {
    String origin = originOf(label);
    List<Located> cops = cops();
    if (cops.isEmpty()) {
      return AuditResult.Outcome.NO_COP; // declined relays or submissions: nothing to account for
    }
    // The COP of record: the origin's own, else the first one found.
    Located cop = cops.stream().filter(c -> c.event.principal().equals(origin)).findFirst().orElse(cops.get(0));
    EvidenceStatement copStatement = statementOf(cop.evidence);
    for (Located other : cops) {
      if (!other.evidence.getStatement().equals(cop.evidence.getStatement())) {
        violations.add(at(other.event, AuditRule.LABEL_ISSUED_ONCE,
            "a second, different COP for this label (first in " + cop.event.persistenceId() + " #"
                + cop.event.sequenceNr() + ")"));
      }
    }
    checkSubmissionIds(copStatement);

    MailFacts facts = MailFacts.of(copStatement);
    Flavour flavour = copStatement.getFlavour();
    byte[] content = contentOfRecord(facts.contentHash());
    checkStoredFacts(facts, content);
    new Implications(facts).check();
    checkWitnessedHeads(facts);

    List<JournalEvent> originVerdicts = new ArrayList<>();
    for (List<JournalEvent> server : servers.values()) {
      boolean isOrigin = server.get(0).principal().equals(origin);
      JournalEvent cod = null;
      for (JournalEvent event : server) {
        if (!(event.event() instanceof ServerEvent e)) {
          continue;
        }
        switch (e.getEventCase()) {
          case COD_ACCEPTED -> {
            cod = event;
            checkCod(event, e.getCodAccepted().getCod(), e.getCodAccepted().getRodN(), null, copStatement, content);
          }
          case DELIVERY_CERTIFIED -> checkCod(event, e.getDeliveryCertified().getCod(),
              e.getDeliveryCertified().getRodN(), e.getDeliveryCertified().getRod(), copStatement, content);
          case CONTENT_RELEASED -> checkRelease(event, cod, flavour);
          default -> { }
        }
        if (isOrigin && isVerdict(e)) {
          originVerdicts.add(event);
        }
      }
    }
    for (JournalEvent extra : originVerdicts.subList(Math.min(1, originVerdicts.size()), originVerdicts.size())) {
      violations.add(at(extra, AuditRule.ONE_VERDICT_PER_LABEL, "a second verdict at the origin: "
          + originVerdicts.get(0).name() + " (#" + originVerdicts.get(0).sequenceNr() + ") came first"));
    }

    for (List<JournalEvent> inbox : inboxes.values()) {
      JournalEvent signed = null;
      for (JournalEvent event : inbox) {
        if (event.event() instanceof InboxEvent e && e.hasReceiptSigned()) {
          signed = event;
          checkCod(event, e.getReceiptSigned().getCod(), null, null, copStatement, content);
        } else if (event.event() instanceof InboxEvent e && e.hasContentRetrieved() && flavour != Flavour.CEM
            && signed == null) {
          violations.add(at(event, AuditRule.CONTENT_AFTER_COD,
              "the recipient holds the content of a " + flavour + " mail without having signed its COD"));
        }
      }
    }

    List<JournalEvent> senderVerdicts = new ArrayList<>();
    for (List<JournalEvent> outbox : outboxes.values()) {
      for (JournalEvent event : outbox) {
        if (!(event.event() instanceof OutboxEvent e)) {
          continue;
        }
        if (e.hasDeliveryConfirmed()) {
          checkCod(event, e.getDeliveryConfirmed().getCod(), e.getDeliveryConfirmed().getRodN(),
              e.getDeliveryConfirmed().getRod(), copStatement, content);
        }
        if (e.hasDeliveryConfirmed() || e.hasNonDeliveryNotified() || e.hasMailDeclaredLost()) {
          senderVerdicts.add(event);
        }
      }
    }
    for (JournalEvent extra : senderVerdicts.subList(Math.min(1, senderVerdicts.size()), senderVerdicts.size())) {
      violations.add(at(extra, AuditRule.ONE_VERDICT_PER_LABEL, "a second verdict at the sender: "
          + senderVerdicts.get(0).name() + " came first"));
    }
    JournalEvent originVerdict = originVerdicts.isEmpty() ? null : originVerdicts.get(0);
    JournalEvent senderVerdict = senderVerdicts.isEmpty() ? null : senderVerdicts.get(0);
    if (originVerdict != null && senderVerdict != null) {
      compareVerdicts(originVerdict, senderVerdict);
    }

    JournalEvent verdict = originVerdict != null ? originVerdict : senderVerdict;
    long deadline = facts.deadlineMillis();
    if (verdict == null) {
      if (nowMillis < deadline) {
        return AuditResult.Outcome.OPEN;
      }
      violations.add(at(cop.event, AuditRule.COP_ACCOUNTED_FOR, "COP with deadline "
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
  private void checkSubmissionIds(EvidenceStatement cop) {
    if (outboxes.size() > 1) {
      outboxes.values().stream().skip(1).forEach(stream -> violations.add(at(stream.get(0),
          AuditRule.LABEL_ISSUED_ONCE, "a second submission holds a COP for this label")));
    }
    for (List<JournalEvent> outbox : outboxes.values()) {
      for (JournalEvent event : outbox) {
        if (event.event() instanceof OutboxEvent e && e.hasPostingCertified()
            && !statementOf(e.getPostingCertified().getCop()).getSubmissionId().equals(event.key())) {
          violations.add(at(event, AuditRule.LABEL_ISSUED_ONCE,
              "the COP names submission " + statementOf(e.getPostingCertified().getCop()).getSubmissionId()));
        }
      }
    }
    for (List<JournalEvent> server : servers.values()) {
      for (JournalEvent event : server) {
        if (event.event() instanceof ServerEvent e && e.hasSubmissionAccepted()
            && !e.getSubmissionAccepted().getMail().getSubmissionId().equals(cop.getSubmissionId())) {
          violations.add(at(event, AuditRule.LABEL_ISSUED_ONCE, "the origin accepted submission "
              + e.getSubmissionAccepted().getMail().getSubmissionId() + " but the COP names " + cop.getSubmissionId()));
        }
      }
    }
  }

  // ---- every stored fact against what was signed ----

  /**
   * Copies of M against H(M) of the COP (and H(L,M) where B expects it), event fields against
   * the COP, every evidence item against who may issue it and T.
   */
  private void checkStoredFacts(MailFacts facts, byte[] content) {
    for (List<JournalEvent> stream : outboxes.values()) {
      for (JournalEvent event : stream) {
        if (event.event() instanceof OutboxEvent e && e.hasMailSubmitted()) {
          MailSubmitted mail = e.getMailSubmitted();
          checkContent(event, mail.getContent(), facts, "the submitted content");
          expectField(event, mail.getSender().equals(facts.sender()) && mail.getRecipient().equals(facts.recipient())
              && mail.getDeadlineMillis() == facts.deadlineMillis() && mail.getFlavour() == facts.flavour()
              && mail.getOriginServer().equals(facts.origin()) && mail.getSubmissionId().equals(facts.submissionId()),
              () -> "the submission (" + mail.getSender() + " to " + mail.getRecipient() + ", T " + mail.getDeadlineMillis()
                  + ", " + mail.getFlavour() + ") is not what the COP certifies");
        } else if (event.event() instanceof OutboxEvent e && e.hasPostingCertified()) {
          expectField(event, e.getPostingCertified().getLabel().equals(label),
              () -> "PostingCertified names label " + e.getPostingCertified().getLabel());
        }
      }
    }
    for (List<JournalEvent> stream : servers.values()) {
      String server = stream.get(0).principal();
      int position = facts.positionOf(server);
      for (JournalEvent event : stream) {
        if (!(event.event() instanceof ServerEvent e)) {
          continue;
        }
        if (e.hasSubmissionAccepted()) {
          checkCarriage(event, e.getSubmissionAccepted().getMail(), facts);
          expectField(event, server.equals(facts.origin()), () -> server + " accepted a submission for a label of "
              + facts.origin());
          expectField(event, e.getSubmissionAccepted().getNextHop().equals(hopAfter(facts, 0)),
              () -> "next hop " + e.getSubmissionAccepted().getNextHop() + ", the COP's route says " + hopAfter(facts, 0));
        } else if (e.hasRelayAccepted()) {
          checkCarriage(event, e.getRelayAccepted().getMail(), facts);
          expectField(event, position > 0 && e.getRelayAccepted().getPreviousHop().equals(facts.route().get(position - 1))
                  && e.getRelayAccepted().getNextHop().equals(hopAfter(facts, position)),
              () -> "hops " + e.getRelayAccepted().getPreviousHop() + " -> " + server + " -> "
                  + e.getRelayAccepted().getNextHop() + " are not on the COP's route " + facts.route());
          expectIssuer(event, e.getRelayAccepted().getAck(), server, "its own ACK");
        } else if (e.hasForwardAcknowledged()) {
          expectIssuer(event, e.getForwardAcknowledged().getAck(), hopAfter(facts, position), "the next hop's ACK");
        } else if (e.hasCodAccepted()) {
          expectIssuer(event, e.getCodAccepted().getRodN(), server, "its own ROD_n");
          expectCutOff(event, e.getCodAccepted().getAtMillis(), facts, "COD accepted");
        } else if (e.hasContentReleased()) {
          expectIssuer(event, e.getContentReleased().getHandover(), server, "its own content handover");
        } else if (e.hasNonDeliveryIssued()) {
          expectIssuer(event, e.getNonDeliveryIssued().getNdn(), server, "its own NDN");
        } else if (e.hasRefusalAccepted()) {
          expectIssuer(event, e.getRefusalAccepted().getNdn(), server, "its own NDN");
        } else if (e.hasDeliveryCertified()) {
          expectIssuer(event, e.getDeliveryCertified().getRod(), server, "its own ROD");
          expectCutOff(event, e.getDeliveryCertified().getAtMillis(), facts, "delivery certified");
        }
        for (SignedEvidence item : evidenceIn(event)) {
          checkEntitled(event, item, facts);
        }
      }
    }
    for (List<JournalEvent> stream : inboxes.values()) {
      for (JournalEvent event : stream) {
        if (event.event() instanceof InboxEvent e && e.hasNotificationReceived()) {
          NotificationReceived notice = e.getNotificationReceived();
          expectField(event, notice.getLabel().equals(label) && notice.getSender().equals(facts.sender())
                  && notice.getFlavour() == facts.flavour() && notice.getDeadlineMillis() == facts.deadlineMillis()
                  && notice.getAgent().equals(facts.destination()) && event.principal().equals(facts.recipient()),
              () -> "the notification (from " + notice.getAgent() + ", sender " + notice.getSender() + ", "
                  + notice.getFlavour() + ", T " + notice.getDeadlineMillis() + ") is not what the COP certifies");
          if (facts.flavour() == Flavour.CEM) {
            checkContent(event, notice.getContent(), facts, "the delivered content");
          }
          if (content != null && facts.flavour() != Flavour.NSR && !Arrays.equals(notice.getExpectedHash().toByteArray(),
              expectedCodHash(facts.flavour(), content))) {
            violations.add(at(event, AuditRule.CONTENT_MATCHES_COP, "the recipient expects hash "
                + Sha256.hex(notice.getExpectedHash().toByteArray()) + ", not the " + facts.flavour() + " hash "
                + Sha256.hex(expectedCodHash(facts.flavour(), content))));
          }
        } else if (event.event() instanceof InboxEvent e && e.hasContentRetrieved()) {
          checkContent(event, e.getContentRetrieved().getContent(), facts, "the retrieved content");
        }
        for (SignedEvidence item : evidenceIn(event)) {
          checkEntitled(event, item, facts);
        }
      }
    }
    for (List<JournalEvent> stream : outboxes.values()) {
      for (JournalEvent event : stream) {
        if (event.event() instanceof OutboxEvent e && (e.hasDeliveryConfirmed() || e.hasNonDeliveryNotified())) {
          for (SignedEvidence item : evidenceIn(event)) {
            checkEntitled(event, item, facts);
          }
        }
      }
    }
  }

  private void checkCarriage(JournalEvent event, MailInTransit mail, MailFacts facts) {
    checkContent(event, mail.getContent(), facts, "the carried content");
    expectField(event, mail.getLabel().equals(label) && mail.getSender().equals(facts.sender())
            && mail.getRecipient().equals(facts.recipient()) && mail.getDeadlineMillis() == facts.deadlineMillis()
            && mail.getFlavour() == facts.flavour() && mail.getOriginServer().equals(facts.origin()),
        () -> "the carried mail (" + mail.getLabel() + ", " + mail.getSender() + " to " + mail.getRecipient() + ", T "
            + mail.getDeadlineMillis() + ", " + mail.getFlavour() + ") is not what the COP certifies");
  }

  private void checkContent(JournalEvent event, ByteString content, MailFacts facts, String what) {
    if (content.equals(recordContent)) {
      return; // the same bytes as the copy whose hash is the COP's: no second SHA-256 over M
    }
    byte[] hash = ContentHash.of(content.toByteArray());
    if (!Arrays.equals(hash, facts.contentHash())) {
      violations.add(at(event, AuditRule.CONTENT_MATCHES_COP, what + " (" + content.size() + " bytes) hashes to "
          + Sha256.hex(hash) + ", but the COP certifies H(M) = " + Sha256.hex(facts.contentHash())));
    }
  }

  /** The problem is described only when it is one: the check runs for every event, a violation is rare. */
  private void expectField(JournalEvent event, boolean holds, Supplier<String> problem) {
    if (!holds) {
      violations.add(at(event, AuditRule.EVENT_MATCHES_EVIDENCE, problem.get()));
    }
  }

  private void expectIssuer(JournalEvent event, SignedEvidence item, String issuer, String what) {
    String actual = statementOf(item).getIssuer();
    expectField(event, actual.equals(issuer), () -> what + " is signed by " + actual + ", expected " + issuer);
  }

  /** A step that certifies delivery is taken before T (no verdict and no COD after T). */
  private void expectCutOff(JournalEvent event, long atMillis, MailFacts facts, String what) {
    if (atMillis != 0 && atMillis >= facts.deadlineMillis()) {
      violations.add(at(event, AuditRule.EVIDENCE_BEFORE_DEADLINE, what + " at " + Instant.ofEpochMilli(atMillis)
          + ", not before the deadline " + Instant.ofEpochMilli(facts.deadlineMillis())));
    }
  }

  /** Who may issue an item and until when: Entitlements, the one place of those rules. */
  private void checkEntitled(JournalEvent event, SignedEvidence item, MailFacts facts) {
    if (problemOf(item).isPresent()) {
      return; // reported by evidence-verifies
    }
    EvidenceStatement statement = statementOf(item);
    if (statement.getKind() == EvidenceKind.COP) {
      return; // compared with the COP of record by label-issued-once
    }
    boolean timed = switch (statement.getKind()) {
      case COD, ROD_N, ROD, NDN, CONTENT_HANDOVER -> true;
      default -> false;
    };
    if (timed && statement.getIssuedAtMillis() >= facts.deadlineMillis()) {
      violations.add(at(event, AuditRule.EVIDENCE_BEFORE_DEADLINE, statement.getKind() + " issued at "
          + Instant.ofEpochMilli(statement.getIssuedAtMillis()) + ", not before the deadline "
          + Instant.ofEpochMilli(facts.deadlineMillis())));
      return;
    }
    Entitlements.check(statement, facts).ifPresent(problem ->
        violations.add(at(event, AuditRule.EVIDENCE_ENTITLED, statement.getKind() + " from "
            + statement.getIssuer() + ": " + problem)));
  }

  private static String hopAfter(MailFacts facts, int position) {
    return position >= 0 && position + 1 < facts.route().size() ? facts.route().get(position + 1) : "";
  }

  /** A COD (and the ROD_n / ROD reporting it) must be the recipient's, over L and the flavour's hash. */
  private void checkCod(JournalEvent event, SignedEvidence cod, SignedEvidence rodN, SignedEvidence rod,
                        EvidenceStatement cop, byte[] content) {
    String what = rod != null ? "ROD" : rodN != null ? "ROD_n" : "COD";
    Optional<String> problem = problemOf(cod);
    if (problem.isPresent()) {
      violations.add(at(event, AuditRule.ROD_NEEDS_VALID_COD, what + " with a COD that does not verify: "
          + problem.get()));
      return;
    }
    EvidenceStatement c = statementOf(cod);
    String pn = domainOf(cop.getRecipient());
    List<String> problems = new ArrayList<>();
    if (c.getKind() != EvidenceKind.COD) {
      problems.add("the COD is a " + c.getKind());
    }
    if (!c.getLabel().equals(label)) {
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
      case IP -> content == null ? null : expectedCodHash(Flavour.IP, content);
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
    if (rod != null && !statementOf(rod).getIssuer().equals(originOf(label))) {
      problems.add("the ROD is signed by " + statementOf(rod).getIssuer() + ", not the origin");
    }
    if (!problems.isEmpty()) {
      violations.add(at(event, AuditRule.ROD_NEEDS_VALID_COD, what + ": " + String.join("; ", problems)));
    }
  }

  private void checkRelease(JournalEvent release, JournalEvent cod, Flavour flavour) {
    if (flavour == Flavour.CEM) {
      return; // in CEM the content travels with the delivery: selective receipt is the flavour's known weakness
    }
    if (cod == null) {
      violations.add(at(release, AuditRule.CONTENT_AFTER_COD,
          "content released to the recipient of a " + flavour + " mail before any COD"));
    }
  }

  private void compareVerdicts(JournalEvent origin, JournalEvent sender) {
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
      violations.add(at(sender, AuditRule.SENDER_VERDICT_MATCHES_ORIGIN, problem));
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

  // ---- what evidence held by one principal implies about the others' streams ----

  /**
   * Every principal persists before it sends (CoreShell), so a signed item another principal
   * holds proves that its issuer had recorded the step that produced it: a COP proves A's
   * submission and P1's acceptance; ACK_i that Pi+1 accepted the relay; a COD that B signed it
   * (after its notification, which proves Pn's carriage); a ROD_n that Pn accepted the COD; A's
   * verdict that P1 reached it; an NDN in P1's verdict that its issuer gave up. A missing or
   * shortened stream is reported where it should be, for organisations this journal holds.
   */
  private final class Implications {
    private final MailFacts facts;

    Implications(MailFacts facts) {
      this.facts = facts;
    }

    void check() {
      String origin = facts.origin();
      String senderStream = facts.sender() + "|" + facts.submissionId();
      String originStream = origin + "|" + label;
      String recipientStream = facts.recipient() + "|" + label;
      String destinationStream = facts.destination() + "|" + label;
      for (List<JournalEvent> stream : all()) {
        for (JournalEvent event : stream) {
          Message e = event.event();
          if (e instanceof ServerEvent s && s.hasSubmissionAccepted()) {
            require(senderStream, isOutbox(OutboxEvent::hasMailSubmitted), "outbox.v1/mail_submitted", event,
                () -> "the origin accepted a submission from " + facts.sender());
          }
          if (e instanceof ServerEvent s && s.hasRelayAccepted() || e instanceof OutboxEvent o && o.hasPostingCertified()) {
            require(originStream, isServer(ServerEvent::hasSubmissionAccepted), "server.v1/submission_accepted", event,
                () -> "it holds the COP " + origin + " signed");
          }
          if (e instanceof ServerEvent s && s.hasRelayAccepted()) {
            int position = facts.positionOf(event.principal());
            if (position > 1) {
              require(facts.route().get(position - 1) + "|" + label, isServer(ServerEvent::hasRelayAccepted),
                  "server.v1/relay_accepted", event, () -> "the mail was relayed to " + event.principal() + " by "
                      + facts.route().get(position - 1));
            }
          }
          if (e instanceof ServerEvent s && s.hasForwardAcknowledged()) {
            String issuer = statementOf(s.getForwardAcknowledged().getAck()).getIssuer();
            require(issuer + "|" + label, isServer(ServerEvent::hasRelayAccepted), "server.v1/relay_accepted", event,
                () -> "it holds " + issuer + "'s ACK");
          }
          if (e instanceof InboxEvent i && i.hasNotificationReceived()) {
            require(destinationStream, isServer(x -> x.hasRelayAccepted() || x.hasSubmissionAccepted()),
                "server.v1/relay_accepted", event, () -> "the recipient was notified by " + facts.destination());
          }
          if (e instanceof ServerEvent s && s.hasCodAccepted()) {
            require(recipientStream, isInbox(InboxEvent::hasReceiptSigned), "inbox.v1/receipt_signed", event,
                () -> "it holds " + facts.recipient() + "'s COD");
          }
          if (e instanceof ServerEvent s && s.hasRefusalAccepted()) {
            require(recipientStream, isInbox(InboxEvent::hasReceiptRefused), "inbox.v1/receipt_refused", event,
                () -> "it holds " + facts.recipient() + "'s refusal");
          }
          if (e instanceof InboxEvent i && i.hasContentRetrieved()) {
            require(destinationStream, isServer(ServerEvent::hasContentReleased), "server.v1/content_released", event,
                () -> "it holds " + facts.destination() + "'s content handover");
          }
          if (e instanceof ServerEvent s && s.hasDeliveryCertified() && !event.principal().equals(facts.destination())
              || e instanceof OutboxEvent o && o.hasDeliveryConfirmed()) {
            require(destinationStream, isServer(ServerEvent::hasCodAccepted), "server.v1/cod_accepted", event,
                () -> "it holds " + facts.destination() + "'s ROD_n");
            require(recipientStream, isInbox(InboxEvent::hasReceiptSigned), "inbox.v1/receipt_signed", event,
                () -> "it holds " + facts.recipient() + "'s COD");
          }
          if (e instanceof OutboxEvent o && o.hasDeliveryConfirmed()) {
            require(originStream, isServer(ServerEvent::hasDeliveryCertified), "server.v1/delivery_certified", event,
                () -> "the sender holds " + origin + "'s ROD");
          }
          if (e instanceof OutboxEvent o && o.hasNonDeliveryNotified()) {
            SignedEvidence ndn = o.getNonDeliveryNotified().getNdn();
            require(originStream, isServer(x -> isVerdict(x) && ndnOf(x).equals(ndn)), "server.v1/non_delivery_recorded",
                event, () -> "the sender holds the NDN as " + origin + "'s verdict");
          }
          if (e instanceof ServerEvent s && s.hasNonDeliveryRecorded()) {
            SignedEvidence ndn = s.getNonDeliveryRecorded().getNdn();
            String issuer = statementOf(ndn).getIssuer();
            require(issuer + "|" + label, isServer(x -> (x.hasNonDeliveryIssued() || x.hasRefusalAccepted())
                && ndnOf(x).equals(ndn)), "server.v1/non_delivery_issued", event, () -> "it holds " + issuer + "'s NDN");
          }
        }
      }
    }

    private List<List<JournalEvent>> all() {
      List<List<JournalEvent>> all = new ArrayList<>(outboxes.values());
      all.addAll(servers.values());
      all.addAll(inboxes.values());
      return all;
    }

    private void require(String persistenceId, Predicate<Message> recorded, String expected, JournalEvent because,
                         Supplier<String> why) {
      if (!heldHere(persistenceId)) {
        return; // another organisation's journal: audited there, against the same evidence
      }
      List<JournalEvent> stream = outboxes.getOrDefault(persistenceId,
          servers.getOrDefault(persistenceId, inboxes.get(persistenceId)));
      if (stream != null && stream.stream().anyMatch(event -> event.event() != null && recorded.test(event.event()))) {
        return;
      }
      long next = stream == null ? 1 : stream.get(stream.size() - 1).sequenceNr() + 1;
      String principal = StreamId.principalOf(persistenceId);
      violations.add(new Violation(label, principal, persistenceId, next, "(missing) " + expected,
          AuditRule.IMPLIED_STREAM_PRESENT, principal + " must have recorded " + expected + ": "
              + because.principal() + " (" + because.persistenceId() + " #" + because.sequenceNr() + ") shows it, as "
              + why.get() + "; " + (stream == null ? "the stream is missing" : "the stream ends at #" + (next - 1))));
    }
  }

  // ---- heads of the issuers' streams, witnessed by whoever holds their evidence ----

  /**
   * Every verified item that names its issuer's stream head ({@code issuer_head}) is a witness,
   * held by another principal, of the issuer's stream for this mail: that stream must reach the
   * head's sequence number, with the same chain hash there.
   */
  private void checkWitnessedHeads(MailFacts facts) {
    Map<ByteString, JournalEvent> checked = new HashMap<>();
    for (Map<String, List<JournalEvent>> streams : List.of(outboxes, servers, inboxes)) {
      for (List<JournalEvent> stream : streams.values()) {
        for (JournalEvent holder : stream) {
          for (SignedEvidence item : evidenceIn(holder)) {
            EvidenceStatement statement = statementOf(item);
            if (!statement.hasIssuerHead() || problemOf(item).isPresent() || holder.principal().equals(
                statement.getIssuer()) || checked.putIfAbsent(item.getSignature(), holder) != null) {
              continue; // no head, not genuine, the issuer's own copy, or seen already
            }
            String issuerStream = statement.getIssuer().equals(facts.sender()) ? facts.sender() + "|"
                + facts.submissionId() : statement.getIssuer() + "|" + label;
            checkHead(issuerStream, statement, holder);
          }
        }
      }
    }
  }

  private void checkHead(String persistenceId, EvidenceStatement statement, JournalEvent witness) {
    if (!heldHere(persistenceId)) {
      return; // the issuer keeps its journal elsewhere: its audit checks this witness
    }
    String principal = StreamId.principalOf(persistenceId);
    long sequenceNr = statement.getIssuerHead().getSequenceNr();
    byte[] hash = statement.getIssuerHead().getChainHash().toByteArray();
    List<JournalEvent> stream = outboxes.getOrDefault(persistenceId,
        servers.getOrDefault(persistenceId, inboxes.getOrDefault(persistenceId, List.of())));
    // Named only in a violation: built for every witness, it cost more than the check.
    Supplier<String> where = () -> statement.getKind() + " held by " + witness.principal() + " ("
        + witness.persistenceId() + " #" + witness.sequenceNr() + ") witnesses " + principal + "'s stream at #"
        + sequenceNr + " with hash " + Sha256.hex(hash).substring(0, 16) + "…";
    if (sequenceNr == 0) {
      if (!Arrays.equals(hash, EventChain.genesis(persistenceId))) {
        violations.add(new Violation(label, principal, persistenceId, 0, "(genesis)",
            AuditRule.WITNESSED_HEAD_MATCHES, where.get() + ", which is not this stream's genesis"));
      }
      return;
    }
    JournalEvent at = stream.stream().filter(e -> e.sequenceNr() == sequenceNr).findFirst().orElse(null);
    if (at == null) {
      long last = stream.isEmpty() ? 0 : stream.get(stream.size() - 1).sequenceNr();
      violations.add(new Violation(label, principal, persistenceId, last + 1, "(missing)",
          AuditRule.WITNESSED_HEAD_MATCHES, where.get() + ", but the stream " + (stream.isEmpty() ? "is missing"
              : "ends at #" + last) + ": truncated after the head was witnessed"));
    } else if (!at.chained() || !Arrays.equals(hash, at.chainHash())) {
      violations.add(at(at, AuditRule.WITNESSED_HEAD_MATCHES, where.get() + ", but the event stored there hashes to "
          + (at.chained() ? Sha256.hex(at.chainHash()).substring(0, 16) + "…" : "nothing (no chain link)")
          + ": the stream was rewritten up to there after the head was witnessed"));
    }
  }

  private static Predicate<Message> isServer(Predicate<ServerEvent> test) {
    return message -> message instanceof ServerEvent e && test.test(e);
  }

  private static Predicate<Message> isInbox(Predicate<InboxEvent> test) {
    return message -> message instanceof InboxEvent e && test.test(e);
  }

  private static Predicate<Message> isOutbox(Predicate<OutboxEvent> test) {
    return message -> message instanceof OutboxEvent e && test.test(e);
  }

  // ---- helpers ----

  /**
   * Whether the stream belongs to an organisation this journal is written by (what
   * {@link StreamId#parse} names, without deriving an outbox's label: asked many times a label).
   */
  private boolean heldHere(String persistenceId) {
    String organisation = StreamId.organisationOf(persistenceId);
    return organisation != null && journalHolds.test(organisation);
  }

  private Optional<String> problemOf(SignedEvidence evidence) {
    return verified.getOrDefault(evidence, Optional.empty());
  }

  private Violation at(JournalEvent event, AuditRule rule, String detail) {
    return new Violation(label, event.principal(), event.persistenceId(), event.sequenceNr(), event.name(), rule,
        detail);
  }

  /** The statement of an evidence item, parsed once per label (the checks ask for it many times). */
  private EvidenceStatement statementOf(SignedEvidence evidence) {
    return statements.computeIfAbsent(evidence.getStatement(), LabelAudit::parseStatement);
  }

  private static EvidenceStatement parseStatement(ByteString statement) {
    try {
      return EvidenceStatement.parseFrom(statement);
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

  /** Every COP stored for this label, by A (PostingCertified), P1 and each hop (the mail's COP). */
  private List<Located> cops() {
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
  private byte[] contentOfRecord(byte[] copHash) {
    List<ByteString> candidates = new ArrayList<>();
    for (List<JournalEvent> stream : servers.values()) {
      for (JournalEvent event : stream) {
        if (event.event() instanceof ServerEvent e) {
          MailInTransit mail = e.hasSubmissionAccepted() ? e.getSubmissionAccepted().getMail()
              : e.hasRelayAccepted() ? e.getRelayAccepted().getMail() : null;
          if (mail != null) {
            candidates.add(mail.getContent());
          }
        }
      }
    }
    for (List<JournalEvent> stream : outboxes.values()) {
      for (JournalEvent event : stream) {
        if (event.event() instanceof OutboxEvent e && e.hasMailSubmitted()) {
          candidates.add(e.getMailSubmitted().getContent());
        }
      }
    }
    for (ByteString candidate : candidates) {
      byte[] bytes = candidate.toByteArray();
      if (Arrays.equals(ContentHash.of(bytes), copHash)) {
        recordContent = candidate;
        return bytes;
      }
    }
    return null;
  }

  /** The hash the recipient's COD must carry (Entitlements), computed once: every principal stores M. */
  private byte[] expectedCodHash(Flavour flavour, byte[] content) {
    if (expectedCodHash == null) {
      expectedCodHash = Entitlements.expectedCodHash(flavour, label, content);
    }
    return expectedCodHash;
  }

  static Set<String> organisationsOf(Iterable<String> persistenceIds) {
    Set<String> organisations = new java.util.TreeSet<>();
    for (String id : persistenceIds) {
      StreamId stream = StreamId.parse(id);
      if (stream != null) {
        organisations.add(stream.organisation());
      }
    }
    return organisations;
  }
}
