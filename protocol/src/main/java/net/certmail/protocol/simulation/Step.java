package net.certmail.protocol.simulation;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Ignored;
import net.certmail.protocol.Outgoing;

/**
 * One thing that happened in a schedule, kept as references and formatted only when a trace is
 * printed: at which true instant (and on the acting principal's clock), who acted on whom, with
 * which input, what was persisted, sent, ignored, refused.
 */
public record Step(long at, long localAt, String from, Addressee to, String what, ProtocolMessage message,
                   List<?> events, List<Outgoing> sent, List<Ignored> ignored, String note) {

  public String format(long epoch) {
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%9.3fs", (at - epoch) / 1000.0));
    if (to != null) {
      line.append(String.format(Locale.ROOT, " (%+dms)", localAt - at));
    }
    line.append("  ");
    if (from != null) {
      line.append(from).append(" -> ");
    }
    if (to != null) {
      line.append(entity(to)).append(": ");
    }
    line.append(what);
    if (message != null) {
      line.append(' ').append(Messages.describe(message));
    }
    if (events != null && !events.isEmpty()) {
      line.append(" | persisted ").append(events.stream().map(Messages::caseOf).collect(Collectors.joining(", ")));
    }
    if (sent != null && !sent.isEmpty()) {
      line.append(" | sent ").append(sent.stream()
          .map(out -> Messages.caseOf(out.message()) + " -> " + entity(out.to()))
          .collect(Collectors.joining(", ")));
    }
    if (ignored != null && !ignored.isEmpty()) {
      line.append(" | ignored ").append(ignored.stream().map(i -> i.reason() + " (" + i.detail() + ")")
          .collect(Collectors.joining(", ")));
    }
    if (note != null) {
      line.append(" | ").append(note);
    }
    return line.toString();
  }

  /** Whether this step concerns {@code label} (its entity's key, its message, or what it sent). */
  public boolean concerns(String label, String senderKey) {
    if (to != null && (to.key().equals(label) || to.key().equals(senderKey))) {
      return true;
    }
    if (message != null && Messages.labelOf(message).equals(label)) {
      return true;
    }
    return sent != null && sent.stream().anyMatch(out -> out.to().key().equals(label)
        || Messages.labelOf(out.message()).equals(label));
  }

  static String entity(Addressee to) {
    return to.role().name().toLowerCase(Locale.ROOT) + " " + to.principal() + "[" + Messages.shortLabel(to.key()) + "]";
  }
}
