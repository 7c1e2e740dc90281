package net.certmail.node.audit;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import net.certmail.persistence.serialization.CertmailEventSerializer;
import net.certmail.proto.v1.ChainedEvent;

/**
 * One journal row as an attacker sees it: what is stored (manifest and bytes) and, inside a chain
 * link, the event's own manifest and bytes.
 */
record StoredEvent(String persistenceId, long sequenceNr, String storedManifest, byte[] stored, String manifest,
                   byte[] eventBytes, ByteString previousHash) {

  static StoredEvent of(String persistenceId, long sequenceNr, String storedManifest, byte[] stored) {
    if (!storedManifest.startsWith(CertmailEventSerializer.CHAINED)) {
      return new StoredEvent(persistenceId, sequenceNr, storedManifest, stored, storedManifest, stored, null);
    }
    try {
      ChainedEvent chained = ChainedEvent.parseFrom(stored);
      return new StoredEvent(persistenceId, sequenceNr, storedManifest, stored,
          storedManifest.substring(CertmailEventSerializer.CHAINED.length()), chained.getEvent().toByteArray(),
          chained.getPreviousHash());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("row " + persistenceId + " #" + sequenceNr + " is not a chained event", e);
    }
  }

  /** The stored bytes with the event replaced, in the chain link this row had: an edit in place. */
  byte[] storedWith(byte[] newEventBytes) {
    return previousHash == null ? newEventBytes : ChainedEvent.newBuilder().setPreviousHash(previousHash)
        .setEvent(ByteString.copyFrom(newEventBytes)).build().toByteArray();
  }
}
