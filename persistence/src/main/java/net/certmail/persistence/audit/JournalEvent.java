package net.certmail.persistence.audit;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import java.util.Locale;
import net.certmail.persistence.chain.ChainLink;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ServerEvent;

/**
 * One event as replayed from the journal.
 *
 * @param event the decoded wrapper (OutboxEvent, ServerEvent or InboxEvent), or null when the
 *     read journal handed back something else (then {@link #name()} says what)
 * @param previousHash the chain hash the event carries of its predecessor; null for an event
 *     stored before journals had a hash chain
 * @param chainHash this event's own chain hash, computed from its stored bytes; null when unchained
 * @param writtenAtMillis when the journal says it was written (0 if it does not say)
 */
public record JournalEvent(String persistenceId, long sequenceNr, Message event, String name,
                           ByteString previousHash, byte[] chainHash, long writtenAtMillis) {

  public static JournalEvent of(String persistenceId, long sequenceNr, Object payload) {
    return of(persistenceId, sequenceNr, payload, 0);
  }

  public static JournalEvent of(String persistenceId, long sequenceNr, Object payload, long writtenAtMillis) {
    if (payload instanceof ChainLink link) {
      JournalEvent plain = of(persistenceId, sequenceNr, link.event(), writtenAtMillis);
      return new JournalEvent(persistenceId, sequenceNr, plain.event(), plain.name(), link.previousHash(), link.hash(),
          writtenAtMillis);
    }
    if (payload instanceof OutboxEvent outbox) {
      return plain(persistenceId, sequenceNr, outbox, "outbox.v1/" + lower(outbox.getEventCase()), writtenAtMillis);
    }
    if (payload instanceof ServerEvent server) {
      return plain(persistenceId, sequenceNr, server, "server.v1/" + lower(server.getEventCase()), writtenAtMillis);
    }
    if (payload instanceof InboxEvent inbox) {
      return plain(persistenceId, sequenceNr, inbox, "inbox.v1/" + lower(inbox.getEventCase()), writtenAtMillis);
    }
    return plain(persistenceId, sequenceNr, null,
        "(not a certmail event: " + (payload == null ? "null" : payload.getClass().getName()) + ")", writtenAtMillis);
  }

  /** An event the read journal could not decode: named, so the audit reports it where it is. */
  public static JournalEvent unreadable(String persistenceId, long sequenceNr, String why) {
    return plain(persistenceId, sequenceNr, null, "(unreadable: " + why + ")", 0);
  }

  private static JournalEvent plain(String persistenceId, long sequenceNr, Message event, String name, long at) {
    return new JournalEvent(persistenceId, sequenceNr, event, name, null, null, at);
  }

  public boolean chained() {
    return previousHash != null;
  }

  /** The principal whose entity wrote it: the part of the persistence id before "|". */
  public String principal() {
    return StreamId.principalOf(persistenceId);
  }

  /** The submission id (outbox) or label (server, inbox): the part after "|". */
  public String key() {
    return StreamId.keyOf(persistenceId);
  }

  private static String lower(Enum<?> eventCase) {
    return NAMES.computeIfAbsent(eventCase, c -> c.name().toLowerCase(Locale.ROOT));
  }

  // Every event read is named; a few dozen event cases in all.
  private static final java.util.concurrent.ConcurrentMap<Enum<?>, String> NAMES =
      new java.util.concurrent.ConcurrentHashMap<>();
}
