package net.certmail.actors;

import com.google.protobuf.InvalidProtocolBufferException;
import java.util.Optional;
import net.certmail.crypto.OpenedEnvelope;
import net.certmail.crypto.VerificationException;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.SignedEnvelope;
import net.certmail.protocol.Labels;
import org.slf4j.Logger;

/**
 * Opens an entity's inbound envelope: parses, verifies (crypto's EnvelopeOpener: signer,
 * certificate, signature, addressee, freshness, replay) and checks that the message is about
 * this entity's mail. Anything else is counted, logged and dropped here, so the entities'
 * handlers only ever see authentic messages meant for them.
 */
final class InboundEnvelopes {
  private InboundEnvelopes() {}

  static Optional<OpenedEnvelope> open(ProtocolServices services, Inbound inbound, String entityId, Logger log) {
    return open(services, inbound, entityId, null, log);
  }

  /** {@code alias}: a second key the entity answers to (A's outbox: the label of its submission). */
  static Optional<OpenedEnvelope> open(ProtocolServices services, Inbound inbound, String entityId, String alias,
                                       Logger log) {
    String principal = EntityKind.principalOf(entityId);
    String key = EntityKind.keyOf(entityId);
    SignedEnvelope envelope;
    try {
      envelope = SignedEnvelope.parseFrom(inbound.envelope());
    } catch (InvalidProtocolBufferException e) {
      services.metrics.malformed(log, entityId, "not a signed envelope: " + e.getMessage());
      return Optional.empty();
    }
    OpenedEnvelope opened;
    try {
      opened = services.opener.open(envelope, principal);
    } catch (VerificationException e) {
      services.metrics.rejected(log, entityId, e);
      return Optional.empty();
    }
    String about = subjectOf(opened);
    if (!about.equals(key) && !about.equals(alias)) {
      services.metrics.malformed(log, entityId, "message about " + about + " routed to " + entityId);
      return Optional.empty();
    }
    return Optional.of(opened);
  }

  /** What a message is about: its label, or for a submission the label or id it is keyed by. */
  private static String subjectOf(OpenedEnvelope opened) {
    ProtocolMessage message = opened.message();
    return switch (message.getMessageCase()) {
      case SUBMISSION -> Labels.forSubmission(opened.to(), message.getSubmission().getSender(),
          message.getSubmission().getSubmissionId());
      case COP_REPLY -> message.getCopReply().getSubmissionId();
      case SUBMISSION_REJECTED -> message.getSubmissionRejected().getSubmissionId();
      case RELAY -> message.getRelay().getLabel();
      case RELAY_ACK -> message.getRelayAck().getLabel();
      case RELAY_REJECTED -> message.getRelayRejected().getLabel();
      case DELIVERY -> message.getDelivery().getLabel();
      case NOTIFICATION -> message.getNotification().getLabel();
      case COD_REPLY -> message.getCodReply().getLabel();
      case RECIPIENT_REFUSAL -> message.getRecipientRefusal().getLabel();
      case CONTENT_FETCH -> message.getContentFetch().getLabel();
      case CONTENT -> message.getContent().getLabel();
      case DELIVERY_REPORT -> message.getDeliveryReport().getLabel();
      case NON_DELIVERY_NOTICE -> message.getNonDeliveryNotice().getLabel();
      case STATUS_QUERY -> message.getStatusQuery().getLabel();
      case STATUS_ANSWER -> message.getStatusAnswer().getLabel();
      case RECEIPT -> message.getReceipt().getLabel();
      case NOTIFICATION_HELD -> message.getNotificationHeld().getLabel();
      case MESSAGE_NOT_SET -> "";
    };
  }
}
