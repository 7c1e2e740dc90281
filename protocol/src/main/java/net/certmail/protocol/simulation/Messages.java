package net.certmail.protocol.simulation;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.certmail.proto.v1.EvidenceStatement;
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

  /** Every SignedEvidence anywhere inside {@code message}, depth first in field order. */
  static List<SignedEvidence> evidenceIn(Message message) {
    List<SignedEvidence> items = new ArrayList<>();
    collect(message, items);
    return items;
  }

  private static void collect(Message message, List<SignedEvidence> items) {
    if (message instanceof SignedEvidence item) {
      items.add(item);
      return;
    }
    for (Map.Entry<FieldDescriptor, Object> field : message.getAllFields().entrySet()) {
      if (field.getKey().getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (field.getKey().isRepeated()) {
        for (Object element : (List<?>) field.getValue()) {
          collect((Message) element, items);
        }
      } else {
        collect((Message) field.getValue(), items);
      }
    }
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
