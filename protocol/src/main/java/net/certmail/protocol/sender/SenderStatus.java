package net.certmail.protocol.sender;

import java.util.List;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.sender.SenderStage.AwaitingCop;
import net.certmail.protocol.sender.SenderStage.Concluded;
import net.certmail.protocol.sender.SenderStage.InDelivery;

/**
 * What A can tell its owner about a submission: the paper's postal status, the reason when it did
 * not go through, the label once certified, the evidence held and evidence that came late. A
 * pure view of a stage; {@link DeliveryStatus#DELIVERY_STATUS_UNSPECIFIED} for no submission.
 */
public record SenderStatus(DeliveryStatus status, ReasonCode reason, String label, List<SignedEvidence> evidence,
                           List<SignedEvidence> late) {

  public SenderStatus {
    evidence = List.copyOf(evidence);
    late = List.copyOf(late);
  }

  public static SenderStatus of(SenderStage stage) {
    if (stage instanceof AwaitingCop) {
      return new SenderStatus(DeliveryStatus.SUBMITTED, ReasonCode.REASON_UNSPECIFIED, "", List.of(), List.of());
    }
    if (stage instanceof InDelivery delivery) {
      DeliveryStatus status = delivery.recipientNotified() ? DeliveryStatus.AWAITING_COLLECTION
          : DeliveryStatus.IN_DELIVERY;
      return new SenderStatus(status, ReasonCode.REASON_UNSPECIFIED, delivery.posting().label(),
          List.of(delivery.posting().cop()), List.of());
    }
    if (stage instanceof Concluded concluded) {
      return new SenderStatus(concluded.status().deliveryStatus(), concluded.reason(), concluded.label(),
          concluded.evidence(), concluded.late());
    }
    return new SenderStatus(DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED, ReasonCode.REASON_UNSPECIFIED, "", List.of(),
        List.of());
  }

  public boolean isFinal() {
    return isFinal(status);
  }

  /** Whether a submission with this status has its outcome: nothing will change it any more. */
  public static boolean isFinal(DeliveryStatus status) {
    return switch (status) {
      case DELIVERED, NOT_DELIVERED, LOST, NOT_POSTED -> true;
      default -> false;
    };
  }
}
