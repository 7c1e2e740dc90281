package net.certmail.actors;

import java.util.List;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.protocol.sender.SenderStatus;

/**
 * A sender's view of one submission: the paper's postal status with the evidence held so far
 * (each item the exact bytes of a SignedEvidence); {@code status} is
 * {@link DeliveryStatus#DELIVERY_STATUS_UNSPECIFIED} for a submission never made, and {@code reason}
 * the protocol's reason code (the evidence's {@link ReasonCode}: the one set of reasons) when the
 * mail did not go through, {@link ReasonCode#REASON_UNSPECIFIED} otherwise. {@code problem} explains a request that was not carried
 * out (unknown submission, an idempotency key reused for another mail); it is null otherwise.
 */
public record MailStatus(
    String sender,
    String submissionId,
    String label,
    DeliveryStatus status,
    ReasonCode reason,
    List<byte[]> evidence,
    List<byte[]> lateEvidence,
    String problem) implements CborSerializable {

  /** No submission with this id was ever made. */
  public boolean isUnknown() {
    return status == DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED;
  }

  /** Whether a reason was given (the mail did not go through). */
  public boolean hasReason() {
    return reason != ReasonCode.REASON_UNSPECIFIED;
  }

  public boolean isFinal() {
    return SenderStatus.isFinal(status);
  }
}
