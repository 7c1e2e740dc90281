package net.certmail.persistence.audit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import net.certmail.crypto.EvidenceVerifier;

/**
 * The audit's rules, on events already read from the journal (no Pekko here: the same rules for
 * every reader). They are tested on journals the real engine wrote, with violations planted in
 * them (actors' JournalAuditTest; node's EmbeddedJournalTamperingTest and
 * CassandraJournalTamperingTest). A journal is audited one label at a time
 * ({@link LabelAudit}): every persistence id names its label ({@link StreamId}), so the streams of
 * one mail are read together, checked, and dropped. {@link Tally} adds the labels' results up.
 */
public final class JournalAuditor {
  /**
   * Cluster sharding's remember-entities store persists its own events (which entities to restart
   * after a crash) in the same journal under these ids. They carry no evidence: not audited.
   */
  static final String SHARDING_PREFIX = "/sharding/";

  private final EvidenceVerifier verifier;
  private final long nowMillis;

  public JournalAuditor(EvidenceVerifier verifier, Instant now) {
    this.verifier = verifier;
    this.nowMillis = now.toEpochMilli();
  }

  /** Audits a whole journal held in memory (tests, small journals); {@link JournalAudit} streams a large one. */
  public AuditResult audit(List<List<JournalEvent>> streams) {
    Map<String, List<List<JournalEvent>>> byLabel = new TreeMap<>();
    List<String> ids = new ArrayList<>();
    Tally tally = new Tally();
    for (List<JournalEvent> stream : streams) {
      if (stream.isEmpty()) {
        continue;
      }
      String id = stream.get(0).persistenceId();
      ids.add(id);
      StreamId parsed = StreamId.parse(id);
      if (parsed != null) {
        byLabel.computeIfAbsent(parsed.label(), label -> new ArrayList<>()).add(stream);
      } else {
        tally.unaudited(id, stream.size());
      }
    }
    Set<String> organisations = LabelAudit.organisationsOf(ids);
    byLabel.forEach((label, labelStreams) -> tally.add(auditLabel(label, labelStreams, organisations)));
    return tally.result(ids.size());
  }

  /**
   * One label's streams, checked on their own and against each other. Thread-safe: labels may be
   * audited in parallel.
   *
   * @param organisations the organisations whose journal this is: streams that evidence implies
   *     are required of them only
   */
  LabelAudit.Result auditLabel(String label, List<List<JournalEvent>> streams, Set<String> organisations) {
    return new LabelAudit(label, verifier, nowMillis, organisations::contains).audit(streams);
  }

  /** Adds up the labels' results; thread-safe. Holds only counts, outcomes and violations. */
  static final class Tally {
    private long events;
    private long chainedEvents;
    private long unauditedEvents;
    private long evidenceVerified;
    private long lateEvidence;
    private long refusedSubmissions;
    private final Map<String, AuditResult.Outcome> outcomes = new TreeMap<>();
    private final Map<String, Map<String, Long>> eventsPerLabel = new TreeMap<>();
    private final List<Violation> violations = new ArrayList<>();

    synchronized void add(LabelAudit.Result result) {
      events += result.events();
      chainedEvents += result.chainedEvents();
      evidenceVerified += result.evidenceVerified();
      lateEvidence += result.lateEvidenceNotVerified();
      refusedSubmissions += result.refusedSubmissions();
      outcomes.put(result.label(), result.outcome());
      if (!result.flavour().isEmpty()) {
        eventsPerLabel.computeIfAbsent(result.flavour(), f -> new TreeMap<>()).put(result.label(), result.events());
      }
      violations.addAll(result.violations());
    }

    /** A stream that is not a certmail entity's: sharding's own are expected, anything else is reported. */
    synchronized void unaudited(String persistenceId, long streamEvents) {
      unauditedEvents += streamEvents;
      if (!persistenceId.startsWith(SHARDING_PREFIX)) {
        violations.add(new Violation("", StreamId.principalOf(persistenceId), persistenceId, 1, "(unknown stream)",
            AuditRule.READABLE_EVENT, "a persistence id that is no certmail entity's (<principal>|<key>)"));
      }
    }

    synchronized long violationCount() {
      return violations.size();
    }

    synchronized AuditResult result(long persistenceIds) {
      List<Violation> sorted = new ArrayList<>(violations);
      sorted.sort(Comparator.comparing(Violation::label).thenComparing(Violation::persistenceId)
          .thenComparingLong(Violation::sequenceNr).thenComparing(v -> v.rule().id()));
      return new AuditResult(persistenceIds, events, chainedEvents, unauditedEvents, evidenceVerified, lateEvidence,
          refusedSubmissions, new LinkedHashMap<>(outcomes), eventsPerLabel, sorted);
    }
  }
}
