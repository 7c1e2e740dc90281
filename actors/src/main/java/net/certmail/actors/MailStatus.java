package net.certmail.actors;

import java.util.List;

/**
 * A sender's view of one submission: the paper's postal status with the evidence held so far
 * (each item the exact bytes of a SignedEvidence). {@code problem} explains a request that was
 * not carried out (unknown submission, an idempotency key reused for another mail); it is null
 * otherwise.
 */
public record MailStatus(
    String sender,
    String submissionId,
    String label,
    String status,
    String reason,
    List<byte[]> evidence,
    List<byte[]> lateEvidence,
    String problem) implements CborSerializable {

  public static final String UNKNOWN = "UNKNOWN";

  public boolean isFinal() {
    return switch (status) {
      case "DELIVERED", "NOT_DELIVERED", "LOST", "NOT_POSTED" -> true;
      default -> false;
    };
  }
}
