package net.certmail.persistence.chain;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;

/**
 * One event as stored in a chained journal: the entity's event, its exact bytes and manifest,
 * and the chain hash of the event before it in the same stream. Written by
 * {@link ChainingEventAdapter}, (de)serialized by CertmailEventSerializer; entities never see it.
 *
 * @param manifest the event's own manifest, e.g. "server.v1/cod_accepted"
 * @param eventBytes the exact stored bytes of {@code event}: hashes are over these, never re-serialized protobuf
 */
public record ChainLink(ByteString previousHash, String manifest, ByteString eventBytes, Message event) {

  /** This event's chain hash, which the next event in the stream must carry. */
  public byte[] hash() {
    return EventChain.next(previousHash.toByteArray(), manifest, eventBytes.toByteArray());
  }
}
