package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.ALPHA;
import static net.certmail.actors.TestNetwork.BETA;
import static net.certmail.actors.TestNetwork.BOB;
import static net.certmail.actors.TestNetwork.GAMMA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.persistence.EmbeddedJournalSchema;
import net.certmail.persistence.JournalBackend;
import net.certmail.persistence.audit.AuditResult;
import net.certmail.persistence.audit.AuditRule;
import net.certmail.persistence.audit.JournalAudit;
import net.certmail.persistence.audit.Violation;
import net.certmail.proto.v1.CodAccepted;
import net.certmail.proto.v1.EtsiEvent;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.LateEvidenceRecorded;
import net.certmail.proto.v1.MailDeclaredLost;
import net.certmail.proto.v1.NonDeliveryIssued;
import net.certmail.proto.v1.NonDeliveryRecorded;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.PostingCertified;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.SubmissionAccepted;
import net.certmail.proto.v1.UpstreamReceiptConfirmed;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal audit over a real embedded journal: mails of every kind pass it; then violations
 * planted straight into the database (as someone with access to the file could) are each caught
 * and named with the right rule, persistence id and sequence number. Every test starts from the
 * journal as the engine wrote it (the planted events of the one before are taken out again), so
 * the tests hold in any order.
 */
@ExtendWith(LogCapturingExtension.class)
class JournalAuditTest {
  @TempDir
  static Path directory;

  static TestNetwork network;
  static ManualClock clock;
  static EngineNode node;
  static Config journal;
  static JournalTampering tampering;
  static Map<String, String> labels;

  @BeforeAll
  static void runMails() throws Exception {
    network = new TestNetwork();
    clock = new ManualClock(Instant.now());
    journal = JournalBackend.EMBEDDED.config(ConfigFactory.parseString(
        "certmail.journal.embedded.path = \"" + directory.resolve("journal") + "\""));
    node = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS, journal, null);
    EmbeddedJournalSchema.ensureCreated(node.system);
    tampering = new JournalTampering(journal);
    labels = new MailScenarios(node.engine, clock).deliveries().heldAndAccepted().failures().labels;
    // The last receipts between servers are events too: the journal is complete once it passes.
    EngineNode.awaitCondition(() -> audit().result().violations().isEmpty(), MailScenarios.WAIT,
        "the journal of the finished mails passes the audit (the last receipts between servers written)");
    tampering.keepPristineCopy();
  }

  @BeforeEach
  void startFromTheJournalTheEngineWrote() throws Exception {
    tampering.restore();
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void journalOfRealMailsOfEveryKindPassesTheAudit() throws Exception {
    JournalAudit.Report report = audit();
    AuditResult result = report.result();
    assertEquals(List.of(), result.violations().stream().map(Violation::describe).toList());
    Map<AuditResult.Outcome, Long> outcomes = result.outcomeCounts();
    assertEquals(7L, outcomes.get(AuditResult.Outcome.DELIVERED), outcomes.toString());
    assertEquals(3L, outcomes.get(AuditResult.Outcome.NOT_DELIVERED), outcomes.toString());
    assertEquals(1L, result.refusedSubmissions());
    assertTrue(result.evidenceVerified() > 40, "every evidence item checked: " + result.evidenceVerified());
    assertEquals(Map.of("CEM", true, "IP", true, "NSR", true),
        Map.of("CEM", result.eventsPerLabel().containsKey("CEM"), "IP", result.eventsPerLabel().containsKey("IP"),
            "NSR", result.eventsPerLabel().containsKey("NSR")));

    Path json = directory.resolve("report.json");
    report.writeJson(json);
    String text = Files.readString(json);
    assertTrue(text.contains("\"passed\" : true"), text);
    assertTrue(text.contains("\"violations\" : [ ]"), text);
  }

  @Test
  void forgedEventWithOneSignatureByteChangedIsCaught() throws Exception {
    String label = labels.get("cem-3-servers");
    String origin = ALPHA + "|" + label;
    JournalTampering.Row row = tampering.first(origin, "server.v1/submission_accepted");
    ServerEvent event = ServerEvent.parseFrom(row.payload());
    SubmissionAccepted accepted = event.getSubmissionAccepted();
    SignedEvidence cop = accepted.getMail().getCop();
    byte[] signature = cop.getSignature().toByteArray();
    signature[7] ^= 0x01;
    SignedEvidence forged = cop.toBuilder().setSignature(ByteString.copyFrom(signature)).build();
    tampering.replacePayload(origin, row.sequenceNr(), event.toBuilder().setSubmissionAccepted(accepted.toBuilder()
        .setMail(accepted.getMail().toBuilder().setCop(forged))).build().toByteArray());

    Violation found = findOne(AuditRule.EVIDENCE_VERIFIES, origin);
    assertEquals(row.sequenceNr(), found.sequenceNr());
    assertEquals(label, found.label());
    assertEquals(ALPHA, found.principal());
    assertEquals("server.v1/submission_accepted", found.event());
    assertTrue(found.detail().startsWith("BAD_SIGNATURE"), found.detail());
  }

  @Test
  void deletedEventShowsAsAGap() throws Exception {
    String label = labels.get("nsr-2-servers");
    String destination = GAMMA + "|" + label;
    JournalTampering.Row cod = tampering.first(destination, "server.v1/cod_accepted");
    tampering.delete(destination, cod.sequenceNr());

    Violation found = findOne(AuditRule.CONTIGUOUS_SEQUENCE_NUMBERS, destination);
    assertEquals(cod.sequenceNr(), found.sequenceNr());
    assertEquals("(missing)", found.event());
    assertEquals(label, found.label());
  }

  @Test
  void secondVerdictAfterDeliveryIsCaught() throws Exception {
    String label = labels.get("ip-1-server");
    String origin = ALPHA + "|" + label;
    EvidenceStatement cop = copOf(origin);
    // A properly signed notice, in time: only its being a second verdict is wrong.
    SignedEvidence ndn = new EvidenceSigner(network.keys.get(ALPHA)).sign(EvidenceStatements.ndn(ALPHA, label,
        ALICE, cop.getRecipient(), EtsiEvent.CONTENT_CONSIGNMENT_FAILURE, ReasonCode.TECHNICAL_MALFUNCTION,
        "planted", cop.getDeadlineMillis() - 60_000));
    long sequenceNr = tampering.append(origin, "server.v1/non_delivery_recorded", ServerEvent.newBuilder()
        .setNonDeliveryRecorded(NonDeliveryRecorded.newBuilder().setNdn(ndn)).build());

    Violation found = findOne(AuditRule.ONE_VERDICT_PER_LABEL, origin);
    assertEquals(sequenceNr, found.sequenceNr());
    assertEquals("server.v1/non_delivery_recorded", found.event());
    assertTrue(found.detail().contains("delivery_certified"), found.detail());
  }

  @Test
  void codSignedByTheRecipientOverAnotherHashIsCaught() throws Exception {
    String label = labels.get("ip-3-servers");
    String destination = BETA + "|" + label;
    JournalTampering.Row row = tampering.first(destination, "server.v1/cod_accepted");
    ServerEvent event = ServerEvent.parseFrom(row.payload());
    EvidenceStatement genuine = EvidenceStatement.parseFrom(event.getCodAccepted().getCod().getStatement());
    // Bob's own key, the right label and agent: only H(L,M) is over another content.
    SignedEvidence wrongHash = new EvidenceSigner(network.keys.get(BOB)).sign(EvidenceStatements.cod(BOB, BETA, label,
        ALICE, Flavour.IP, ContentHash.labelled(label, "another content".getBytes()), genuine.getIssuedAtMillis()));
    tampering.replacePayload(destination, row.sequenceNr(), ServerEvent.newBuilder().setCodAccepted(
        CodAccepted.newBuilder().setCod(wrongHash).setRodN(event.getCodAccepted().getRodN())).build().toByteArray());

    Violation found = findOne(AuditRule.ROD_NEEDS_VALID_COD, destination);
    assertEquals(row.sequenceNr(), found.sequenceNr());
    assertEquals(BETA, found.principal());
    assertTrue(found.detail().contains("is not the IP hash"), found.detail());
    assertTrue(audit().result().violations().stream().noneMatch(v -> v.rule() == AuditRule.EVIDENCE_VERIFIES
        && v.persistenceId().equals(destination)), "the planted COD itself verifies: only its hash is wrong");
  }

  @Test
  void nonDeliveryNoticeIssuedAfterTheDeadlineIsCaught() throws Exception {
    String label = labels.get("cem-not-acknowledged");
    String destination = BETA + "|" + label;
    JournalTampering.Row row = tampering.first(destination, "server.v1/non_delivery_issued");
    EvidenceStatement cop = copOf(ALPHA + "|" + label);
    SignedEvidence late = new EvidenceSigner(network.keys.get(BETA)).sign(EvidenceStatements.ndn(BETA, label, ALICE,
        cop.getRecipient(), EtsiEvent.ACCEPTANCE_REJECTION_EXPIRY, ReasonCode.RECIPIENT_DID_NOT_ACKNOWLEDGE, "late",
        cop.getDeadlineMillis() + 60_000));
    tampering.replacePayload(destination, row.sequenceNr(), ServerEvent.newBuilder()
        .setNonDeliveryIssued(NonDeliveryIssued.newBuilder().setNdn(late)).build().toByteArray());

    Violation found = findOne(AuditRule.EVIDENCE_BEFORE_DEADLINE, destination);
    assertEquals(row.sequenceNr(), found.sequenceNr());
    assertTrue(found.detail().contains("not before the deadline"), found.detail());
  }

  @Test
  void nonDeliveryNoticeFromAPrincipalOffTheRouteIsCaught() throws Exception {
    // erin holds a valid certificate of the network, but no mailbox may issue an NDN for a label.
    String label = labels.get("cem-not-acknowledged");
    String destination = BETA + "|" + label;
    JournalTampering.Row row = tampering.first(destination, "server.v1/non_delivery_issued");
    EvidenceStatement cop = copOf(ALPHA + "|" + label);
    SignedEvidence offRoute = new EvidenceSigner(network.keys.get(TestNetwork.ERIN)).sign(EvidenceStatements.ndn(
        TestNetwork.ERIN, label, ALICE, cop.getRecipient(), EtsiEvent.CONTENT_CONSIGNMENT_FAILURE,
        ReasonCode.RELAY_UNREACHABLE, "not mine to say", cop.getDeadlineMillis() - 60_000));
    tampering.replacePayload(destination, row.sequenceNr(), ServerEvent.newBuilder()
        .setNonDeliveryIssued(NonDeliveryIssued.newBuilder().setNdn(offRoute)).build().toByteArray());

    Violation found = findOne(AuditRule.EVIDENCE_ENTITLED, destination);
    assertEquals(row.sequenceNr(), found.sequenceNr());
    assertTrue(found.detail().contains("not on the route"), found.detail());
  }

  @Test
  void contentReleasedBeforeTheCodInNsrIsCaught() throws Exception {
    String label = labels.get("nsr-held-accepted");
    String destination = BETA + "|" + label;
    JournalTampering.Row cod = tampering.first(destination, "server.v1/cod_accepted");
    JournalTampering.Row release = tampering.first(destination, "server.v1/content_released");
    // the journal now says: content released, then the COD accepted
    tampering.replaceEvent(destination, cod.sequenceNr(), release.manifest(), release.payload());
    tampering.replaceEvent(destination, release.sequenceNr(), cod.manifest(), cod.payload());

    Violation found = findOne(AuditRule.CONTENT_AFTER_COD, destination);
    assertEquals(cod.sequenceNr(), found.sequenceNr());
    assertEquals("server.v1/content_released", found.event());
  }

  @Test
  void copNamingAnotherSubmissionIsCaught() throws Exception {
    String label = labels.get("nsr-3-servers");
    String outbox = outboxOf(label);
    JournalTampering.Row row = tampering.first(outbox, "outbox.v1/posting_certified");
    EvidenceStatement cop = copOf(ALPHA + "|" + label);
    // properly signed by alpha.example: the same label issued a second time, to another submission
    SignedEvidence second = new EvidenceSigner(network.keys.get(ALPHA)).sign(cop.toBuilder()
        .setSubmissionId("another-submission").build());
    tampering.replacePayload(outbox, row.sequenceNr(), OutboxEvent.newBuilder().setPostingCertified(
        PostingCertified.newBuilder().setLabel(label).setCop(second)).build().toByteArray());

    List<Violation> found = audit().result().violations().stream()
        .filter(v -> v.rule() == AuditRule.LABEL_ISSUED_ONCE && v.persistenceId().equals(outbox)).toList();
    assertTrue(found.stream().anyMatch(v -> v.detail().contains("names submission another-submission")), found.toString());
    assertTrue(found.stream().anyMatch(v -> v.detail().contains("a second, different COP")), found.toString());
  }

  @Test
  void copWithoutAVerdictIsOpenBeforeTheDeadlineAndAViolationAfter() throws Exception {
    String label = labels.get("cem-1-server");
    String origin = ALPHA + "|" + label;
    String outbox = outboxOf(label);
    // Both verdicts gone, replaced by harmless events: the sequence numbers stay contiguous.
    tampering.replaceEvent(origin, tampering.first(origin, "server.v1/delivery_certified").sequenceNr(),
        "server.v1/upstream_receipt_confirmed", ServerEvent.newBuilder()
            .setUpstreamReceiptConfirmed(UpstreamReceiptConfirmed.getDefaultInstance()).build().toByteArray());
    tampering.replaceEvent(outbox, tampering.first(outbox, "outbox.v1/delivery_confirmed").sequenceNr(),
        "outbox.v1/late_evidence_recorded", OutboxEvent.newBuilder()
            .setLateEvidenceRecorded(LateEvidenceRecorded.getDefaultInstance()).build().toByteArray());
    long deadline = copOf(origin).getDeadlineMillis();

    AuditResult before = audit(Instant.ofEpochMilli(deadline - 1_000)).result();
    assertEquals(AuditResult.Outcome.OPEN, before.outcomes().get(label));
    assertTrue(before.violations().stream().noneMatch(v -> v.rule() == AuditRule.COP_ACCOUNTED_FOR));

    AuditResult after = audit(Instant.ofEpochMilli(deadline + 1_000)).result();
    assertEquals(AuditResult.Outcome.UNACCOUNTED, after.outcomes().get(label));
    List<Violation> found = after.violations().stream().filter(v -> v.rule() == AuditRule.COP_ACCOUNTED_FOR).toList();
    assertEquals(1, found.size(), found.toString());
    assertEquals(label, found.get(0).label());
    assertEquals(origin, found.get(0).persistenceId());
  }

  @Test
  void senderDeclaringLostWhatTheOriginDidNotDeliverIsCaught() throws Exception {
    String label = labels.get("cem-refused");
    String outbox = outboxOf(label);
    JournalTampering.Row row = tampering.first(outbox, "outbox.v1/non_delivery_notified");
    JournalTampering.Row posting = tampering.first(outbox, "outbox.v1/posting_certified");
    SignedEvidence cop = OutboxEvent.parseFrom(posting.payload()).getPostingCertified().getCop();
    // alice's own, validly signed claim: but P1 did reach a verdict, so the journals disagree
    SignedEvidence claim = new EvidenceSigner(network.keys.get(ALICE)).sign(EvidenceStatements.compensationClaim(
        ALICE, cop, EvidenceStatement.parseFrom(cop.getStatement()), 60_000, clock.millis()));
    tampering.replaceEvent(outbox, row.sequenceNr(), "outbox.v1/mail_declared_lost", OutboxEvent.newBuilder()
        .setMailDeclaredLost(MailDeclaredLost.newBuilder().setClaim(claim)).build().toByteArray());

    Violation found = findOne(AuditRule.SENDER_VERDICT_MATCHES_ORIGIN, outbox);
    assertEquals(row.sequenceNr(), found.sequenceNr());
    assertEquals(ALICE, found.principal());
    assertTrue(found.detail().contains("declared the mail LOST"), found.detail());
  }

  // ---- helpers ----

  private static JournalAudit.Report audit(Instant now) {
    return JournalAudit.run(node.system, JournalBackend.EMBEDDED, network.trustStore(), now, progress -> {});
  }

  /** A's persistence id for a label: the outbox whose PostingCertified names it. */
  private static String outboxOf(String label) throws Exception {
    for (String id : tampering.idsWith("outbox.v1/posting_certified")) {
      OutboxEvent event = OutboxEvent.parseFrom(tampering.first(id, "outbox.v1/posting_certified").payload());
      if (event.getPostingCertified().getLabel().equals(label)) {
        return id;
      }
    }
    throw new AssertionError("no outbox holds a COP for " + label);
  }

  private static JournalAudit.Report audit() {
    return audit(clock.instant());
  }

  /** The one violation of this rule at this persistence id. */
  private static Violation findOne(AuditRule rule, String persistenceId) {
    List<Violation> all = audit().result().violations();
    List<Violation> matching = all.stream()
        .filter(v -> v.rule() == rule && v.persistenceId().equals(persistenceId)).toList();
    assertEquals(1, matching.size(), "expected one " + rule.id() + " at " + persistenceId + " among "
        + all.stream().map(Violation::describe).toList());
    return matching.get(0);
  }

  private static EvidenceStatement copOf(String originPersistenceId) throws Exception {
    JournalTampering.Row row = tampering.first(originPersistenceId, "server.v1/submission_accepted");
    return EvidenceStatement.parseFrom(ServerEvent.parseFrom(row.payload()).getSubmissionAccepted().getMail().getCop()
        .getStatement());
  }
}
