package net.certmail.persistence.audit;

import com.google.protobuf.Message;
import java.util.Locale;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ServerEvent;

/**
 * One event as replayed from the journal.
 *
 * @param event the decoded wrapper (OutboxEvent, ServerEvent or InboxEvent), or null when the
 *     read journal handed back something else (then {@link #name()} says what)
 */
public record JournalEvent(String persistenceId, long sequenceNr, Message event, String name) {

  public static JournalEvent of(String persistenceId, long sequenceNr, Object payload) {
    if (payload instanceof OutboxEvent outbox) {
      return new JournalEvent(persistenceId, sequenceNr, outbox, "outbox.v1/" + lower(outbox.getEventCase()));
    }
    if (payload instanceof ServerEvent server) {
      return new JournalEvent(persistenceId, sequenceNr, server, "server.v1/" + lower(server.getEventCase()));
    }
    if (payload instanceof InboxEvent inbox) {
      return new JournalEvent(persistenceId, sequenceNr, inbox, "inbox.v1/" + lower(inbox.getEventCase()));
    }
    return new JournalEvent(persistenceId, sequenceNr, null,
        "(not a certmail event: " + (payload == null ? "null" : payload.getClass().getName()) + ")");
  }

  /** The principal whose entity wrote it: the part of the persistence id before "|". */
  public String principal() {
    int bar = persistenceId.indexOf('|');
    return bar < 0 ? persistenceId : persistenceId.substring(0, bar);
  }

  /** The submission id (outbox) or label (server, inbox): the part after "|". */
  public String key() {
    int bar = persistenceId.indexOf('|');
    return bar < 0 ? "" : persistenceId.substring(bar + 1);
  }

  private static String lower(Enum<?> eventCase) {
    return eventCase.name().toLowerCase(Locale.ROOT);
  }
}
