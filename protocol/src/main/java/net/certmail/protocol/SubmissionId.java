package net.certmail.protocol;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A sender's idempotency key for one mail: the same id reaches the same outbox entity and so the
 * same label and COP. It is 1 to 128 of {@code A-Z a-z 0-9 . _ ~ -}: plain in URLs, log lines and
 * persistence ids. In particular it contains neither '/' nor '|': an id shaped like a label
 * ({@code <server>/<hex>}) would give A's entity ({@code <mailbox>|<id>}) the persistence id of
 * B's inbox entry for that label ({@code <mailbox>|<label>}), and two entities must never write
 * one journal stream; '|' separates principal and key in every entity id. This is the one place
 * the rule is written: the HTTP API, the sender's machine and the journal's inbox listing use it.
 */
public record SubmissionId(String value) {
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9._~-]{1,128}");

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
    if (value == null || !PLAIN.matcher(value).matches()) {
      return Optional.of("a submission id is 1 to 128 of A-Z a-z 0-9 . _ ~ - (no '/' or '|')");
    }
    return Optional.empty();
  }

  /**
   * Whether the key of a "{@code <mailbox>|<key>}" persistence id names a submission (A's outbox
   * entry); the other keys under a mailbox are labels, which always contain a '/'.
   */
  public static boolean isSubmissionId(String key) {
    return check(key).isEmpty();
  }

  @Override
  public String toString() {
    return value;
  }
}
