package net.certmail.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.persistence.audit.AuditResult;
import net.certmail.persistence.audit.AuditRule;
import net.certmail.persistence.audit.JournalAuditor;
import net.certmail.persistence.audit.JournalEvent;
import net.certmail.persistence.audit.Violation;
import net.certmail.persistence.chain.ChainLink;
import net.certmail.persistence.chain.ChainingEventAdapter;
import net.certmail.persistence.chain.EventChain;
import net.certmail.persistence.serialization.CertmailEventSerializer;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.proto.v1.UpstreamReceiptConfirmed;
import org.junit.jupiter.api.Test;

/**
 * Journals written before events carried a hash chain ({@code golden/journal-v1.tsv}, committed
 * from real mails and never regenerated) stay readable and auditable: no chain rule applies to
 * them, the machines replay them, the content and implied streams check out; a stream that goes on
 * after them starts its chain at the genesis. (Their signatures were made with a network whose
 * certificates are not kept, so the rules that need verified evidence are left out here.)
 */
class LegacyJournalAuditTest {
  /** The rules that do not depend on the golden network's certificates. */
  static final Set<AuditRule> WITHOUT_KEYS = EnumSet.of(AuditRule.CONTIGUOUS_SEQUENCE_NUMBERS,
      AuditRule.READABLE_EVENT, AuditRule.HASH_CHAIN_INTACT, AuditRule.STREAM_FOLLOWS_MACHINE,
      AuditRule.CONTENT_MATCHES_COP, AuditRule.EVENT_MATCHES_EVIDENCE, AuditRule.IMPLIED_STREAM_PRESENT,
      AuditRule.WITNESSED_HEAD_MATCHES, AuditRule.ONE_VERDICT_PER_LABEL);

  private final CertmailEventSerializer serializer = new CertmailEventSerializer(null);

  @Test
  void journalWrittenBeforeTheChainPassesEveryRuleThatNeedsNoKeys() throws Exception {
    AuditResult result = audit(golden());
    assertEquals(0, result.chainedEvents());
    assertTrue(result.events() > 50, "the golden journal: " + result.events() + " events");
    assertEquals(List.of(), keyFree(result.violations()));
  }

  @Test
  void streamThatGoesOnAfterUnchainedEventsLinksItsFirstChainedEventToTheGenesis() throws Exception {
    Map<String, List<JournalEvent>> streams = golden();
    String origin = streams.keySet().stream().filter(id -> id.startsWith("alpha.example|")).findFirst().orElseThrow();
    List<JournalEvent> stream = new ArrayList<>(streams.get(origin));
    // The adapter an entity would use after the upgrade: it replays the old events, then writes a new one.
    ChainingEventAdapter<ServerEvent> adapter = new ChainingEventAdapter<>(origin, ServerEvent.class);
    stream.forEach(event -> adapter.fromJournal(event.event(), ""));
    assertEquals(stream.size(), adapter.head().getSequenceNr());
    assertEquals(ByteString.copyFrom(EventChain.genesis(origin)), adapter.head().getChainHash());
    ChainLink link = (ChainLink) adapter.toJournal(ServerEvent.newBuilder()
        .setUpstreamReceiptConfirmed(UpstreamReceiptConfirmed.getDefaultInstance()).build());

    Object decoded = serializer.fromBinary(serializer.toBinary(link), serializer.manifest(link));
    JournalEvent appended = JournalEvent.of(origin, stream.size() + 1, decoded);
    assertTrue(appended.chained());
    assertEquals(ByteString.copyFrom(EventChain.genesis(origin)), appended.previousHash());

    // A chained event after old ones is the upgrade, not tampering; an unchained one after it is.
    List<JournalEvent> upgraded = new ArrayList<>(stream);
    upgraded.add(appended);
    upgraded.add(JournalEvent.of(origin, stream.size() + 2, ServerEvent.newBuilder()
        .setUpstreamReceiptConfirmed(UpstreamReceiptConfirmed.getDefaultInstance()).build()));
    streams.put(origin, upgraded);
    List<Violation> chain = audit(streams).violations().stream()
        .filter(v -> v.rule() == AuditRule.HASH_CHAIN_INTACT).toList();
    assertEquals(1, chain.size(), chain.toString());
    assertEquals(stream.size() + 2, chain.get(0).sequenceNr());
  }

  private Map<String, List<JournalEvent>> golden() throws Exception {
    Map<String, List<JournalEvent>> streams = new LinkedHashMap<>();
    for (GoldenJournalTest.Recorded event : GoldenJournalTest.Golden.read().events()) {
      streams.computeIfAbsent(event.persistenceId(), id -> new ArrayList<>()).add(JournalEvent.of(event.persistenceId(),
          event.sequenceNr(), serializer.fromBinary(event.payload(), event.manifest())));
    }
    return streams;
  }

  private static AuditResult audit(Map<String, List<JournalEvent>> streams) {
    // Long after the golden mails: every COP must be accounted for.
    return new JournalAuditor(new EvidenceVerifier(new TestNetwork().trustStore()), Instant.parse("2100-01-01T00:00:00Z"))
        .audit(List.copyOf(streams.values()));
  }

  private static List<String> keyFree(List<Violation> violations) {
    return violations.stream().filter(v -> WITHOUT_KEYS.contains(v.rule())).map(Violation::describe).toList();
  }
}
