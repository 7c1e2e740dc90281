package net.certmail.node.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import net.certmail.persistence.audit.StreamId;
import net.certmail.persistence.serialization.CertmailEventSerializer;
import net.certmail.proto.v1.MailInTransit;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ServerEvent;
import org.junit.jupiter.api.Test;

/**
 * Each tampering of issue 11, and a few more, applied to a fresh copy of a journal that real
 * mails wrote ({@code certmail bench journal}: alice@alpha.example to bob@beta.example over
 * alpha.example, relay.example, beta.example); then {@code certmail audit} must exit 1 and name
 * the rule, principal, persistence id and sequence number, and nothing outside the label touched.
 * Subclasses give the journal (H2 file, Cassandra keyspace) and how to audit it.
 */
abstract class TamperingScenarios {
  static final String ALPHA = "alpha.example";
  static final String BETA = "beta.example";
  static final String ALICE = "alice@alpha.example";
  static final String BOB = "bob@beta.example";

  record Finding(String rule, String label, String principal, String persistenceId, long sequenceNr, String event,
                 String detail) {}

  record Audit(int exitCode, List<Finding> findings, String output) {}

  /** A fresh copy of the untouched journal, named for the test. */
  abstract TamperableJournal copy(String name) throws Exception;

  /** {@code certmail audit} over a copy, with its JSON report read back. */
  abstract Audit audit(TamperableJournal journal) throws Exception;

  /** The labels of the mails in the journal, in a stable order; each test takes its own. */
  abstract List<String> labels();

  static List<String> labelsIn(List<String> persistenceIds) {
    TreeSet<String> labels = new TreeSet<>();
    for (String id : persistenceIds) {
      StreamId stream = StreamId.parse(id);
      if (stream != null && stream.role() == StreamId.Role.SERVER && stream.principal().equals(ALPHA)) {
        labels.add(stream.label());
      }
    }
    return List.copyOf(labels);
  }

  static List<Finding> findingsOf(Path report) throws Exception {
    JsonNode json = new ObjectMapper().readTree(report.toFile());
    List<Finding> findings = new ArrayList<>();
    for (JsonNode v : json.get("violations")) {
      findings.add(new Finding(v.get("rule").asText(), v.get("label").asText(), v.get("principal").asText(),
          v.get("persistenceId").asText(), v.get("sequenceNr").asLong(), v.get("event").asText(),
          v.get("detail").asText()));
    }
    return findings;
  }

  // ---- the untouched journal ----

  @Test
  void untouchedCopyOfARealJournalPasses() throws Exception {
    Audit audit = audit(copy("untouched"));
    assertEquals(0, audit.exitCode(), audit.output());
    assertEquals(List.of(), audit.findings());
  }

  // ---- deletions ----

  @Test
  void originsLastEventItsVerdictDeletedIsNamedAtTheOrigin() throws Exception {
    String label = labels().get(0);
    TamperableJournal journal = copy("origin-verdict");
    String origin = ALPHA + "|" + label;
    StoredEvent verdict = only(journal.stream(origin), "server.v1/delivery_certified");
    // The verdict and what followed it: the stream now ends just before the verdict, no gap.
    journal.delete(origin, verdict.sequenceNr());

    Audit audit = audit(journal);
    assertEquals(1, audit.exitCode(), audit.output());
    expect(audit, label, "implied-stream-present", ALPHA, origin, verdict.sequenceNr(),
        "(missing) server.v1/delivery_certified");
  }

  @Test
  void recipientsWholeStreamDeletedIsNamedWhereItShouldBe() throws Exception {
    String label = labels().get(1);
    TamperableJournal journal = copy("recipient-stream");
    String inbox = BOB + "|" + label;
    journal.delete(inbox, 1);

    Audit audit = audit(journal);
    assertEquals(1, audit.exitCode(), audit.output());
    expect(audit, label, "implied-stream-present", BOB, inbox, 1, "(missing) inbox.v1/receipt_signed");
  }

  @Test
  void destinationsWholeStreamDeletedIsNamedWhereItShouldBe() throws Exception {
    String label = labels().get(2);
    TamperableJournal journal = copy("destination-stream");
    String destination = BETA + "|" + label;
    journal.delete(destination, 1);

    Audit audit = audit(journal);
    assertEquals(1, audit.exitCode(), audit.output());
    expect(audit, label, "implied-stream-present", BETA, destination, 1, "(missing) server.v1/cod_accepted");
    expect(audit, label, "implied-stream-present", BETA, destination, 1, "(missing) server.v1/relay_accepted");
  }

  @Test
  void sendersWholeStreamDeletedIsNamedWhereItShouldBe() throws Exception {
    String label = labels().get(3);
    TamperableJournal journal = copy("sender-stream");
    String outbox = senderStreamOf(journal, label);
    journal.delete(outbox, 1);

    Audit audit = audit(journal);
    assertEquals(1, audit.exitCode(), audit.output());
    expect(audit, label, "implied-stream-present", ALICE, outbox, 1, "(missing) outbox.v1/mail_submitted");
  }

  // ---- content M edited, same length ----

  @Test
  void contentEditedInTheSendersSubmissionIsCaughtThere() throws Exception {
    String label = labels().get(4);
    TamperableJournal journal = copy("content-sender");
    String outbox = senderStreamOf(journal, label);
    StoredEvent submitted = only(journal.stream(outbox), "outbox.v1/mail_submitted");
    OutboxEvent event = OutboxEvent.parseFrom(submitted.eventBytes());
    OutboxEvent edited = event.toBuilder().setMailSubmitted(event.getMailSubmitted().toBuilder()
        .setContent(sameLengthEdit(event.getMailSubmitted().getContent()))).build();
    journal.store(outbox, submitted.sequenceNr(), submitted.storedManifest(), submitted.storedWith(edited.toByteArray()));

    Audit audit = audit(journal);
    assertEquals(1, audit.exitCode(), audit.output());
    expect(audit, label, "content-matches-cop", ALICE, outbox, submitted.sequenceNr(), "outbox.v1/mail_submitted");
    // the event after it carries the hash of the bytes as they were
    expect(audit, label, "hash-chain-intact", ALICE, outbox, submitted.sequenceNr() + 1, "");
  }

  @Test
  void contentEditedInTheOriginsAcceptanceIsCaughtThere() throws Exception {
    String label = labels().get(5);
    TamperableJournal journal = copy("content-origin");
    String origin = ALPHA + "|" + label;
    StoredEvent accepted = only(journal.stream(origin), "server.v1/submission_accepted");
    ServerEvent event = ServerEvent.parseFrom(accepted.eventBytes());
    MailInTransit mail = event.getSubmissionAccepted().getMail();
    ServerEvent edited = event.toBuilder().setSubmissionAccepted(event.getSubmissionAccepted().toBuilder()
        .setMail(mail.toBuilder().setContent(sameLengthEdit(mail.getContent())))).build();
    journal.store(origin, accepted.sequenceNr(), accepted.storedManifest(), accepted.storedWith(edited.toByteArray()));

    Audit audit = audit(journal);
    assertEquals(1, audit.exitCode(), audit.output());
    expect(audit, label, "content-matches-cop", ALPHA, origin, accepted.sequenceNr(), "server.v1/submission_accepted");
  }

  @Test
  void contentEditedInTheDestinationsAcceptanceIsCaughtThere() throws Exception {
    String label = labels().get(6);
    TamperableJournal journal = copy("content-destination");
    String destination = BETA + "|" + label;
    StoredEvent accepted = only(journal.stream(destination), "server.v1/relay_accepted");
    ServerEvent event = ServerEvent.parseFrom(accepted.eventBytes());
    MailInTransit mail = event.getRelayAccepted().getMail();
    ServerEvent edited = event.toBuilder().setRelayAccepted(event.getRelayAccepted().toBuilder()
        .setMail(mail.toBuilder().setContent(sameLengthEdit(mail.getContent())))).build();
    journal.store(destination, accepted.sequenceNr(), accepted.storedManifest(),
        accepted.storedWith(edited.toByteArray()));

    Audit audit = audit(journal);
    assertEquals(1, audit.exitCode(), audit.output());
    expect(audit, label, "content-matches-cop", BETA, destination, accepted.sequenceNr(), "server.v1/relay_accepted");
  }

  // ---- order and foreign events ----

  @Test
  void twoEventsOfTheOriginsStreamSwappedAreCaught() throws Exception {
    String label = labels().get(7);
    TamperableJournal journal = copy("swapped");
    String origin = ALPHA + "|" + label;
    List<StoredEvent> stream = journal.stream(origin);
    StoredEvent first = stream.get(0);
    StoredEvent second = stream.get(1);
    journal.store(origin, 1, second.storedManifest(), second.stored());
    journal.store(origin, 2, first.storedManifest(), first.stored());

    Audit audit = audit(journal);
    assertEquals(1, audit.exitCode(), audit.output());
    expect(audit, label, "stream-follows-machine", ALPHA, origin, 1, second.manifest());
    expect(audit, label, "hash-chain-intact", ALPHA, origin, 1, second.manifest());
  }

  @Test
  void anotherLabelsLastEventAppendedToAStreamIsCaught() throws Exception {
    String label = labels().get(8);
    String other = labels().get(0);
    TamperableJournal journal = copy("foreign-append");
    String origin = ALPHA + "|" + label;
    List<StoredEvent> foreign = journal.stream(ALPHA + "|" + other);
    StoredEvent last = foreign.get(foreign.size() - 1);
    long next = journal.stream(origin).size() + 1;
    journal.store(origin, next, last.storedManifest(), last.stored());

    Audit audit = audit(journal);
    assertEquals(1, audit.exitCode(), audit.output());
    expect(audit, label, "hash-chain-intact", ALPHA, origin, next, last.manifest());
  }

  @Test
  void aMiddleEventDeletedAndTheRestRenumberedLeavesNoGapButBreaksTheChain() throws Exception {
    String label = labels().get(9);
    TamperableJournal journal = copy("renumbered");
    String relay = "relay.example|" + label;
    List<StoredEvent> stream = journal.stream(relay);
    assertTrue(stream.size() >= 2, "the relay's stream: " + stream);
    // the relay's acceptance goes; its ACK from beta moves up to #1: no gap for sequence numbers to show
    journal.deleteOne(relay, 1);
    for (StoredEvent event : stream.subList(1, stream.size())) {
      journal.renumber(relay, event.sequenceNr(), event.sequenceNr() - 1);
    }

    Audit audit = audit(journal);
    assertEquals(1, audit.exitCode(), audit.output());
    expect(audit, label, "hash-chain-intact", "relay.example", relay, 1, stream.get(1).manifest());
    assertTrue(audit.findings().stream().noneMatch(f -> f.rule().equals("contiguous-sequence-numbers")),
        audit.findings().toString());
  }

  // ---- against heads witnessed by peers ----

  @Test
  void originsTailTruncatedAfterTheSenderWitnessedItsHeadIsCaughtAtTheWitnessedPlace() throws Exception {
    String label = labels().get(10);
    TamperableJournal journal = copy("truncated-after-witness");
    String origin = ALPHA + "|" + label;
    StoredEvent verdict = only(journal.stream(origin), "server.v1/delivery_certified");
    long witnessed = headInRod(verdict);
    assertTrue(witnessed >= 2, "the ROD names the origin's head before its verdict: #" + witnessed);
    journal.delete(origin, witnessed); // keep the events before the witnessed head only

    Audit audit = audit(journal);
    assertEquals(1, audit.exitCode(), audit.output());
    expect(audit, label, "witnessed-head-matches", ALPHA, origin, witnessed, "(missing)");
  }

  @Test
  void originsStreamRewrittenWithAValidChainIsCaughtOnlyByTheWitnessedHead() throws Exception {
    String label = labels().get(11);
    TamperableJournal journal = copy("rechained");
    String origin = ALPHA + "|" + label;
    List<StoredEvent> stream = journal.stream(origin);
    StoredEvent ack = only(stream, "server.v1/forward_acknowledged");
    // An operator who knows the chain format removes the relay's ACK and re-links and renumbers
    // everything after it: no gap, an intact chain, a stream the machine accepts.
    List<StoredEvent> kept = stream.stream().filter(e -> e.sequenceNr() != ack.sequenceNr()).toList();
    journal.delete(origin, ack.sequenceNr());
    byte[] previous = net.certmail.persistence.chain.EventChain.genesis(origin);
    long sequenceNr = 0;
    for (StoredEvent event : kept) {
      sequenceNr++;
      byte[] relinked = net.certmail.proto.v1.ChainedEvent.newBuilder().setPreviousHash(ByteString.copyFrom(previous))
          .setEvent(ByteString.copyFrom(event.eventBytes())).build().toByteArray();
      journal.store(origin, sequenceNr, event.storedManifest(), relinked);
      previous = net.certmail.persistence.chain.EventChain.next(previous, event.manifest(), event.eventBytes());
    }

    Audit audit = audit(journal);
    assertEquals(1, audit.exitCode(), audit.output());
    expect(audit, label, "witnessed-head-matches", ALPHA, origin, ack.sequenceNr(), "");
    assertTrue(audit.findings().stream().noneMatch(f -> f.rule().equals("hash-chain-intact")
        || f.rule().equals("contiguous-sequence-numbers")), audit.findings().toString());
  }

  /** The origin's head its ROD names: the sequence number of the last event before the verdict. */
  static long headInRod(StoredEvent verdict) throws Exception {
    ServerEvent event = ServerEvent.parseFrom(verdict.eventBytes());
    return net.certmail.proto.v1.EvidenceStatement.parseFrom(event.getDeliveryCertified().getRod().getStatement())
        .getIssuerHead().getSequenceNr();
  }

  // ---- helpers ----

  static ByteString sameLengthEdit(ByteString content) {
    byte[] bytes = content.toByteArray();
    bytes[bytes.length / 2] ^= 0x20; // one letter's case: same length, another H(M)
    return ByteString.copyFrom(bytes);
  }

  static StoredEvent only(List<StoredEvent> stream, String manifest) {
    List<StoredEvent> matching = stream.stream().filter(e -> e.manifest().equals(manifest)).toList();
    assertEquals(1, matching.size(), manifest + " in " + stream.stream().map(StoredEvent::manifest).toList());
    assertTrue(matching.get(0).storedManifest().startsWith(CertmailEventSerializer.CHAINED),
        "events are stored in their chain");
    return matching.get(0);
  }

  static String senderStreamOf(TamperableJournal journal, String label) throws Exception {
    for (String id : journal.persistenceIds()) {
      StreamId stream = StreamId.parse(id);
      if (stream != null && stream.role() == StreamId.Role.SENDER && stream.label().equals(label)) {
        return id;
      }
    }
    throw new AssertionError("no sender stream for " + label);
  }

  /**
   * The finding is there, exactly at that place; and every finding is about the tampered label
   * (nothing else in the journal was touched, so nothing else may be reported).
   */
  static void expect(Audit audit, String label, String rule, String principal, String persistenceId, long sequenceNr,
                     String event) {
    Finding found = audit.findings().stream().filter(f -> f.rule().equals(rule) && f.persistenceId().equals(persistenceId)
        && f.sequenceNr() == sequenceNr && f.event().contains(event)).findFirst().orElse(null);
    assertNotNull(found, "expected " + rule + " at " + persistenceId + " #" + sequenceNr + " " + event + " among "
        + audit.findings());
    assertEquals(principal, found.principal());
    assertEquals(label, found.label());
    assertTrue(audit.findings().stream().allMatch(f -> f.label().equals(label)),
        "findings outside the tampered label: " + audit.findings());
  }
}
