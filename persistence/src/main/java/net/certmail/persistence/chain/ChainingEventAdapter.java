package net.certmail.persistence.chain;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import net.certmail.persistence.serialization.CertmailEventSerializer;
import net.certmail.proto.v1.StreamHead;
import org.apache.pekko.persistence.typed.EventAdapter;
import org.apache.pekko.persistence.typed.EventSeq;

/**
 * Puts every event an entity persists into its stream's hash chain ({@link EventChain}), so the
 * entities stay unaware of it. One adapter per entity incarnation: Pekko hands it the events it
 * replays, in sequence order, before any new one is written, so it knows the stream's head.
 * A journal written before the chain existed replays unchanged (plain events); the first event
 * written after them starts the chain at the persistence id's genesis.
 *
 * <p>If a write fails the entity stops (Pekko's default for a failed persist) and its next
 * incarnation learns the head again from the journal, so a head that was never stored is never
 * linked to.
 */
public final class ChainingEventAdapter<E extends Message> extends EventAdapter<E, Object> {
  private final Class<E> eventType;
  private byte[] head;
  private long sequenceNr;

  public ChainingEventAdapter(String persistenceId, Class<E> eventType) {
    this.eventType = eventType;
    this.head = EventChain.genesis(persistenceId);
  }

  @Override
  public Object toJournal(E event) {
    String manifest = CertmailEventSerializer.manifestOf(event);
    ChainLink link = new ChainLink(ByteString.copyFrom(head), manifest, event.toByteString(), event);
    head = link.hash();
    sequenceNr++;
    return link;
  }

  @Override
  public String manifest(E event) {
    return ""; // the serializer's manifest says everything
  }

  @Override
  public EventSeq<E> fromJournal(Object stored, String manifest) {
    sequenceNr++;
    if (stored instanceof ChainLink link) {
      head = link.hash();
      return EventSeq.single(eventType.cast(link.event()));
    }
    return EventSeq.single(eventType.cast(stored)); // written before the chain: no link to follow
  }

  /**
   * The stream's head: the sequence number and chain hash of the last event written or replayed
   * (0 and the genesis for an empty stream). For a stream that began before the chain, the hash
   * is the genesis until its first chained event.
   */
  public StreamHead head() {
    return StreamHead.newBuilder().setSequenceNr(sequenceNr).setChainHash(ByteString.copyFrom(head)).build();
  }
}
