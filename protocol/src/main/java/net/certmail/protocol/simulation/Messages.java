package net.certmail.protocol.simulation;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.certmail.proto.v1.DeliveryReport;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.SignedEvidence;

/**
 * Reading protocol messages and persisted events generically, by protobuf reflection: the label a
 * message is about, the evidence items anything carries, the case name of a oneof wrapper. Used
 * by the adversary (to re-label and replay what it saw), the invariants (to find every item a
 * principal kept) and the trace.
 */
final class Messages {
  private Messages() {}

  /** The message inside a ProtocolMessage (a Relay, a CodReply, ...), or null when none is set. */
  static Message inner(ProtocolMessage message) {
    FieldDescriptor field = message.getOneofFieldDescriptor(message.getDescriptorForType().getOneofs().get(0));
    return field == null ? null : (Message) message.getField(field);
  }

  /** The case of a oneof wrapper (ProtocolMessage, OutboxEvent, ServerEvent, InboxEvent): "cod_reply", "cod_accepted". */
  static String caseOf(Object wrapper) {
    if (!(wrapper instanceof Message message)) {
      return String.valueOf(wrapper);
    }
    List<OneofDescriptor> oneofs = message.getDescriptorForType().getOneofs();
    if (oneofs.isEmpty()) {
      return message.getDescriptorForType().getName();
    }
    FieldDescriptor field = message.getOneofFieldDescriptor(oneofs.get(0));
    return field == null ? "(empty)" : field.getName();
  }

  /** The label a message is about ("" when it names none, as a submission). */
  static String labelOf(ProtocolMessage message) {
    return switch (message.getMessageCase()) {
      case SUBMISSION, MESSAGE_NOT_SET -> "";
      case COP_REPLY -> message.getCopReply().getLabel();
      case SUBMISSION_REJECTED -> "";
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
      default -> labelByReflection(message);
    };
  }

  static String labelByReflection(ProtocolMessage message) {
    Message inner = inner(message);
    if (inner == null) {
      return "";
    }
    FieldDescriptor label = inner.getDescriptorForType().findFieldByName("label");
    return label == null ? "" : (String) inner.getField(label);
  }

  /** The same message about another label: evidence of one mail presented for another. */
  static ProtocolMessage relabelled(ProtocolMessage message, String label) {
    FieldDescriptor outer = message.getOneofFieldDescriptor(message.getDescriptorForType().getOneofs().get(0));
    Message inner = (Message) message.getField(outer);
    FieldDescriptor field = inner.getDescriptorForType().findFieldByName("label");
    if (field == null) {
      return message;
    }
    Message changed = inner.toBuilder().setField(field, label).build();
    return message.toBuilder().setField(outer, changed).build();
  }

  /**
   * Every SignedEvidence anywhere inside {@code message}, depth first in field order. Protocol
   * messages and events are read field by field (reflection costs a tenth of a schedule);
   * anything else, and any case added later, by reflection ({@link #evidenceByReflection}).
   */
  static List<SignedEvidence> evidenceIn(Message message) {
    if (message instanceof ProtocolMessage protocol) {
      return evidenceIn(protocol);
    }
    if (message instanceof ServerEvent event) {
      return evidenceIn(event);
    }
    if (message instanceof OutboxEvent event) {
      return switch (event.getEventCase()) {
        case MAIL_SUBMITTED, SUBMISSION_UNANSWERED, RECIPIENT_NOTIFIED, EVENT_NOT_SET -> List.of();
        case POSTING_CERTIFIED -> List.of(event.getPostingCertified().getCop());
        case SUBMISSION_REFUSED -> List.of(event.getSubmissionRefused().getRejection());
        case DELIVERY_CONFIRMED -> List.of(event.getDeliveryConfirmed().getRod(), event.getDeliveryConfirmed().getRodN(),
            event.getDeliveryConfirmed().getCod());
        case NON_DELIVERY_NOTIFIED -> List.of(event.getNonDeliveryNotified().getNdn());
        case MAIL_DECLARED_LOST -> List.of(event.getMailDeclaredLost().getClaim());
        case LATE_EVIDENCE_RECORDED -> event.getLateEvidenceRecorded().getEvidenceList();
        default -> evidenceByReflection(event);
      };
    }
    if (message instanceof InboxEvent event) {
      return switch (event.getEventCase()) {
        case NOTIFICATION_RECEIVED, DECISION_CONFIRMED, EVENT_NOT_SET -> List.of();
        case RECEIPT_SIGNED -> List.of(event.getReceiptSigned().getCod());
        case RECEIPT_REFUSED -> List.of(event.getReceiptRefused().getRefusal());
        case CONTENT_RETRIEVED -> present(event.getContentRetrieved().hasHandover(),
            event.getContentRetrieved().getHandover());
        default -> evidenceByReflection(event);
      };
    }
    return evidenceByReflection(message);
  }

  private static List<SignedEvidence> evidenceIn(ProtocolMessage message) {
    return switch (message.getMessageCase()) {
      case SUBMISSION, DELIVERY, NOTIFICATION, CONTENT_FETCH, STATUS_QUERY, RECEIPT, NOTIFICATION_HELD, MESSAGE_NOT_SET ->
          List.of();
      case COP_REPLY -> present(message.getCopReply().hasCop(), message.getCopReply().getCop());
      case SUBMISSION_REJECTED -> present(message.getSubmissionRejected().hasRejection(),
          message.getSubmissionRejected().getRejection());
      case RELAY -> present(message.getRelay().hasCop(), message.getRelay().getCop());
      case RELAY_ACK -> present(message.getRelayAck().hasAck(), message.getRelayAck().getAck());
      case RELAY_REJECTED -> present(message.getRelayRejected().hasRejection(),
          message.getRelayRejected().getRejection());
      case COD_REPLY -> present(message.getCodReply().hasCod(), message.getCodReply().getCod());
      case RECIPIENT_REFUSAL -> present(message.getRecipientRefusal().hasRefusal(),
          message.getRecipientRefusal().getRefusal());
      case CONTENT -> present(message.getContent().hasHandover(), message.getContent().getHandover());
      case DELIVERY_REPORT -> {
        List<SignedEvidence> items = new ArrayList<>(3);
        DeliveryReport report = message.getDeliveryReport();
        if (report.hasRodN()) {
          items.add(report.getRodN());
        }
        if (report.hasCod()) {
          items.add(report.getCod());
        }
        if (report.hasRod()) {
          items.add(report.getRod());
        }
        yield items;
      }
      case NON_DELIVERY_NOTICE -> present(message.getNonDeliveryNotice().hasNdn(), message.getNonDeliveryNotice().getNdn());
      case STATUS_ANSWER -> message.getStatusAnswer().getEvidenceList();
      default -> evidenceByReflection(message);
    };
  }

  private static List<SignedEvidence> evidenceIn(ServerEvent event) {
    return switch (event.getEventCase()) {
      case SUBMISSION_ACCEPTED -> List.of(event.getSubmissionAccepted().getMail().getCop());
      case SUBMISSION_DECLINED -> List.of(event.getSubmissionDeclined().getRejection());
      case RELAY_ACCEPTED -> List.of(event.getRelayAccepted().getMail().getCop(), event.getRelayAccepted().getAck());
      case RELAY_DECLINED -> List.of(event.getRelayDeclined().getRejection());
      case FORWARD_ACKNOWLEDGED -> List.of(event.getForwardAcknowledged().getAck());
      case COD_ACCEPTED -> List.of(event.getCodAccepted().getCod(), event.getCodAccepted().getRodN());
      case REFUSAL_ACCEPTED -> List.of(event.getRefusalAccepted().getRefusal(), event.getRefusalAccepted().getNdn());
      case CONTENT_RELEASED -> List.of(event.getContentReleased().getHandover());
      case NON_DELIVERY_ISSUED -> List.of(event.getNonDeliveryIssued().getNdn());
      case DELIVERY_CERTIFIED -> List.of(event.getDeliveryCertified().getRodN(), event.getDeliveryCertified().getCod(),
          event.getDeliveryCertified().getRod());
      case NON_DELIVERY_RECORDED -> List.of(event.getNonDeliveryRecorded().getNdn());
      case LATE_EVIDENCE_RECORDED -> event.getLateEvidenceRecorded().getEvidenceList();
      case UPSTREAM_RECEIPT_CONFIRMED, DUTY_ENDED, HOLD_ACKNOWLEDGED, EVENT_NOT_SET -> List.of();
      default -> evidenceByReflection(event);
    };
  }

  private static List<SignedEvidence> present(boolean has, SignedEvidence item) {
    return has ? List.of(item) : List.of();
  }

  /** The reference: every SignedEvidence set anywhere in {@code message}, found through its descriptor. */
  static List<SignedEvidence> evidenceByReflection(Message message) {
    List<SignedEvidence> items = new ArrayList<>();
    collect(message, items);
    return items;
  }

  private static void collect(Message message, List<SignedEvidence> items) {
    if (message instanceof SignedEvidence item) {
      items.add(item);
      return;
    }
    for (FieldDescriptor field : MESSAGE_FIELDS.computeIfAbsent(message.getDescriptorForType(), Messages::messageFields)) {
      if (field.isRepeated()) {
        int count = message.getRepeatedFieldCount(field);
        for (int i = 0; i < count; i++) {
          collect((Message) message.getRepeatedField(field, i), items);
        }
      } else if (message.hasField(field)) {
        collect((Message) message.getField(field), items);
      }
    }
  }

  /** Descriptors are immutable and shared, so this cache is safe across runs and threads. */
  private static final Map<Descriptor, List<FieldDescriptor>> MESSAGE_FIELDS = new ConcurrentHashMap<>();

  private static List<FieldDescriptor> messageFields(Descriptor type) {
    return type.getFields().stream().filter(f -> f.getJavaType() == FieldDescriptor.JavaType.MESSAGE).toList();
  }

  /** The statement an item claims to carry, unverified; null when the bytes do not parse. */
  static EvidenceStatement statementOf(SignedEvidence item) {
    try {
      return EvidenceStatement.parseFrom(item.getStatement());
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  /** A label shortened for people: "alpha.example/3fa2b1c0". */
  static String shortLabel(String label) {
    int slash = label.indexOf('/');
    return slash < 0 || label.length() <= slash + 9 ? label : label.substring(0, slash + 9);
  }

  /** "cod_reply(alpha.example/3fa2b1c0; COD by bob@beta.example)". */
  static String describe(ProtocolMessage message) {
    StringBuilder text = new StringBuilder(caseOf(message)).append('(');
    String label = labelOf(message);
    text.append(label.isEmpty() ? "-" : shortLabel(label));
    for (SignedEvidence item : evidenceIn(message)) {
      EvidenceStatement statement = statementOf(item);
      text.append("; ").append(statement == null ? "garbage" : statement.getKind() + " by " + item.getSigner());
      if (statement != null && !statement.getLabel().equals(label) && !statement.getLabel().isEmpty()) {
        text.append(" for ").append(shortLabel(statement.getLabel()));
      }
    }
    return text.append(')').toString();
  }
}
