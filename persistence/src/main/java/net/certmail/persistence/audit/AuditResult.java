package net.certmail.persistence.audit;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What the audit found.
 *
 * @param events certmail events checked
 * @param chainedEvents of those, events stored with a hash-chain link (the rest predate the chain)
 * @param shardingEvents events of cluster sharding's remember-entities store (and of any other
 *     stream that is no certmail entity's), read but not audited
 * @param outcomes per label with a COP, how its chain ended
 * @param eventsPerLabel flavour -> label -> journal events all principals wrote for it
 */
public record AuditResult(long persistenceIds, long events, long chainedEvents, long shardingEvents, long evidenceVerified, long lateEvidenceNotVerified,
                          long refusedSubmissions, Map<String, Outcome> outcomes,
                          Map<String, Map<String, Long>> eventsPerLabel, List<Violation> violations) {

  public enum Outcome {
    DELIVERED,
    NOT_DELIVERED,
    /** A's compensation claim: no verdict reached A by T plus grace. */
    LOST,
    /** No verdict yet, and T has not passed. */
    OPEN,
    /** T has passed without a verdict: a violation of cop-accounted-for. */
    UNACCOUNTED,
    /** Server records without a COP (e.g. a relay that was declined). */
    NO_COP
  }

  public boolean passed() {
    return violations.isEmpty();
  }

  public Map<Outcome, Long> outcomeCounts() {
    Map<Outcome, Long> counts = new EnumMap<>(Outcome.class);
    outcomes.values().forEach(outcome -> counts.merge(outcome, 1L, Long::sum));
    return counts;
  }

  /** Average journal events per mail, by flavour. */
  public Map<String, Double> averageEventsPerMail() {
    Map<String, Double> averages = new java.util.TreeMap<>();
    eventsPerLabel.forEach((flavour, perLabel) -> averages.put(flavour,
        perLabel.values().stream().mapToLong(Long::longValue).average().orElse(0)));
    return averages;
  }
}
