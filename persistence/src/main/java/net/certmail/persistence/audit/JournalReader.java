package net.certmail.persistence.audit;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/** Where the audit reads streams from: the journal's tables, directly (H2 or Cassandra). */
interface JournalReader extends AutoCloseable {
  /** Every persistence id in the journal (only ids: a few dozen bytes each). */
  List<String> persistenceIds() throws Exception;

  /**
   * The streams of these labels (label to its persistence ids, as {@link StreamId} groups them),
   * one label at a time, each with every one of its streams; in no particular order. Memory holds
   * only the labels being read.
   */
  Source<LabelStreams, NotUsed> labels(Map<String, List<String>> labels);

  /** The events of these streams, each list in sequence-number order, an unreadable event marked. */
  CompletionStage<List<List<JournalEvent>>> read(List<String> persistenceIds);

  @Override
  default void close() {}

  /** One label's streams, each in sequence-number order (a stream with no event is an empty list). */
  record LabelStreams(String label, List<List<JournalEvent>> streams) {}
}
