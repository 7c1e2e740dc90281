package net.certmail.persistence.audit;

import java.util.List;
import java.util.concurrent.CompletionStage;

/** Where the audit reads streams from: Persistence Query (any journal), or a faster direct reader. */
interface JournalReader extends AutoCloseable {
  List<String> persistenceIds() throws Exception;

  /** The events of these streams, each list in sequence-number order, an unreadable event marked. */
  CompletionStage<List<List<JournalEvent>>> read(List<String> persistenceIds);

  @Override
  default void close() {}
}
