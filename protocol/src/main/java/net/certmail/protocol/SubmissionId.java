package net.certmail.protocol;

import java.util.Optional;

/**
 * A sender's idempotency key for one mail: the same id reaches the same outbox entity and so the
 * same label and COP. It may not be blank, and may contain neither '/' nor '|': an id shaped like
 * a label ({@code <server>/<hex>}) would give A's entity ({@code <mailbox>|<id>}) the persistence
 * id of B's inbox entry for that label ({@code <mailbox>|<label>}), and two entities must never
 * write one journal stream; '|' separates principal and key in every entity id.
 */
public record SubmissionId(String value) {

  public SubmissionId {
    Optional<String> problem = check(value);
    if (problem.isPresent()) {
      throw new IllegalArgumentException(problem.get());
    }
  }

  /** The id, or an IllegalArgumentException saying what is wrong with it. */
  public static SubmissionId parse(String value) {
    return new SubmissionId(value);
  }

  /** What is wrong with {@code value} as a submission id; empty when it is one. */
  public static Optional<String> check(String value) {
    if (value == null || value.isBlank() || value.contains("/") || value.contains("|")) {
      return Optional.of("a submission id must not be empty or contain '/' or '|'");
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return value;
  }
}
