package net.certmail.persistence.audit;

/**
 * One broken invariant, named precisely enough to find the event in the journal.
 *
 * @param label the label L the evidence chain belongs to ("" when the event names none)
 * @param principal the principal whose entity wrote the event (first part of the persistence id)
 * @param persistenceId the journal's persistence id
 * @param sequenceNr the event's sequence number (for a gap: the first missing one)
 * @param event the event's manifest, e.g. "server.v1/delivery_certified" ("(missing)" for a gap)
 * @param rule the invariant broken
 * @param detail what exactly is wrong
 */
public record Violation(String label, String principal, String persistenceId, long sequenceNr, String event,
                        AuditRule rule, String detail) {

  /** One line for a terminal: rule first, then where, then what. */
  public String describe() {
    return rule.id() + ": label " + (label.isEmpty() ? "(none)" : label) + ", " + principal + ", "
        + persistenceId + " #" + sequenceNr + " " + event + ": " + detail;
  }
}
