package net.certmail.persistence.reminders;

/**
 * A stored promise to wake one entity: at {@code dueAt} (epoch millis) the organisation's
 * reminder scanner sends the entity a wake-up through sharding. Several rows may name the same
 * entity for a moment (a new one is written before an old one is deleted); a row that fires
 * early or twice is harmless, because the entity recomputes what is due from its own state.
 *
 * @param organisation the cluster role whose nodes run the entity and scan this row
 * @param entityType the sharding entity type name, e.g. {@code server@beta.example}
 */
public record Reminder(String organisation, String entityType, String entityId, long dueAt) {
  public Reminder {
    if (organisation.isEmpty() || entityType.isEmpty() || entityId.isEmpty()) {
      throw new IllegalArgumentException("a reminder names an organisation, an entity type and an entity id");
    }
  }

  /** The same entity, due at another instant. */
  public Reminder at(long instant) {
    return new Reminder(organisation, entityType, entityId, instant);
  }
}
