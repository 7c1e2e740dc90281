package net.certmail.persistence;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongFunction;

/**
 * Where pekko-persistence-cassandra keeps a stream's events, and so where the stream's highest
 * sequence number can be: the first thing every recovery asks the journal.
 *
 * <p>The plugin files sequence numbers under partitions of {@code partitionSize}
 * ({@code target-partition-size}) and stores all events of one write in the partition of the
 * write's last event: a write that crosses a boundary lands wholly in the later partition. Not
 * knowing how long a write can be, the plugin reads partitions until two in a row are empty: two
 * reads for a stream that does not exist yet, three for one in its first partition. certmail
 * bounds a write to {@code maxEventsPerWrite} events ({@link CertmailCassandraJournal} rejects a
 * longer one), so one read of a partition says whether a later write could lie beyond it: only if
 * the highest sequence number is within {@code maxEventsPerWrite} of the partition's end.
 */
public final class JournalPartitions {
  private final long partitionSize;
  private final long maxEventsPerWrite;

  public JournalPartitions(long partitionSize, long maxEventsPerWrite) {
    if (partitionSize < 1 || maxEventsPerWrite < 1) {
      throw new IllegalArgumentException("partition size (" + partitionSize + ", target-partition-size) and max"
          + " events per write (" + maxEventsPerWrite + ", max-message-batch-size) must be at least 1");
    }
    this.partitionSize = partitionSize;
    this.maxEventsPerWrite = maxEventsPerWrite;
  }

  public long maxEventsPerWrite() {
    return maxEventsPerWrite;
  }

  /** The partition the plugin files a sequence number under (its formula: 0 and 1 both give 0). */
  public long partitionOf(long sequenceNr) {
    return (sequenceNr - 1) / partitionSize;
  }

  /**
   * Whether a write after {@code highest} could be stored beyond {@code partition}, once
   * {@code partition} has been read and holds nothing above {@code highest}. The next write begins
   * at {@code highest + 1}, ends at most {@code maxEventsPerWrite - 1} later, and is stored in the
   * partition of its end.
   */
  public boolean laterWriteMayLieBeyond(long partition, long highest) {
    return partitionOf(highest + maxEventsPerWrite) > partition;
  }

  /**
   * The highest sequence number of a stream, at least {@code from} (a snapshot's, or 0), reading
   * partitions from {@code from}'s on with {@code highestStoredIn} (0 for an empty partition)
   * until no later write can lie beyond the one read last: one read in all but the last
   * {@code maxEventsPerWrite} sequence numbers of a partition (partitions smaller than a write
   * cost more reads, never a wrong answer).
   */
  public CompletionStage<Long> highestSequenceNr(long from, LongFunction<CompletionStage<Long>> highestStoredIn) {
    return searchFrom(partitionOf(from), from, highestStoredIn);
  }

  private CompletionStage<Long> searchFrom(long partition, long highestSoFar,
      LongFunction<CompletionStage<Long>> highestStoredIn) {
    return highestStoredIn.apply(partition).thenCompose(stored -> {
      long highest = Math.max(highestSoFar, stored);
      return laterWriteMayLieBeyond(partition, highest)
          ? searchFrom(partition + 1, highest, highestStoredIn)
          : CompletableFuture.completedFuture(highest);
    });
  }
}
