package net.certmail.node.audit;

import java.util.List;

/** A copy of a real journal that a test changes behind certmail's back (H2 or Cassandra). */
interface TamperableJournal {
  List<String> persistenceIds() throws Exception;

  List<StoredEvent> stream(String persistenceId) throws Exception;

  /** Deletes the events from {@code fromSequenceNr} on (1: the whole stream). */
  void delete(String persistenceId, long fromSequenceNr) throws Exception;

  void deleteOne(String persistenceId, long sequenceNr) throws Exception;

  /** Moves an event to another sequence number (to hide a gap). */
  void renumber(String persistenceId, long from, long to) throws Exception;

  /** Writes a row as stored bytes, replacing the one at that place or adding it. */
  void store(String persistenceId, long sequenceNr, String storedManifest, byte[] stored) throws Exception;
}
