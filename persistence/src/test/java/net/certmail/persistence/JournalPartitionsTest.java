package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The one-read search against a model of how pekko-persistence-cassandra stores a stream (every
 * write in the partition of its last event), for every sequence of writes up to 13 events on
 * small partitions, started from every point a snapshot could have been taken.
 */
class JournalPartitionsTest {

  @Test
  void findsTheLastEventOfEveryStreamFromEveryStartingPoint() {
    int streams = 0;
    for (int partitionSize = 1; partitionSize <= 5; partitionSize++) {
      // writes longer than a partition too (more reads, the same answer)
      for (int maxEventsPerWrite = 1; maxEventsPerWrite <= partitionSize + 2; maxEventsPerWrite++) {
        JournalPartitions partitions = new JournalPartitions(partitionSize, maxEventsPerWrite);
        for (List<Integer> writes : writeSequences(13, maxEventsPerWrite)) {
          Map<Long, Long> highestByPartition = store(partitions, writes);
          long last = writes.stream().mapToLong(Integer::longValue).sum();
          for (long from = 0; from <= last; from++) {
            assertEquals(last, search(partitions, highestByPartition, from, new AtomicInteger()),
                "partitions of " + partitionSize + ", writes " + writes + ", from " + from);
          }
          streams++;
        }
      }
    }
    assertTrue(streams > 10_000, "the model covered " + streams + " streams");
  }

  @Test
  void oneReadDecidesUnlessTheStreamEndsNearAPartitionsEnd() {
    JournalPartitions partitions = new JournalPartitions(500_000, 100);
    AtomicInteger reads = new AtomicInteger();
    assertEquals(0, search(partitions, Map.of(), 0, reads));
    assertEquals(1, reads.get(), "a stream that does not exist yet: one read (the plugin needs two)");

    reads.set(0);
    assertEquals(17, search(partitions, Map.of(0L, 17L), 0, reads));
    assertEquals(1, reads.get(), "a stream in its first partition: one read (the plugin needs three)");

    reads.set(0);
    assertEquals(499_950, search(partitions, Map.of(0L, 499_950L), 0, reads));
    assertEquals(2, reads.get(), "within 100 of the boundary the next write could lie beyond it");
  }

  @Test
  void sizesBelowOneAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new JournalPartitions(0, 100));
    assertThrows(IllegalArgumentException.class, () -> new JournalPartitions(10, 0));
  }

  private static long search(JournalPartitions partitions, Map<Long, Long> highestByPartition, long from,
      AtomicInteger reads) {
    return partitions.highestSequenceNr(from, partition -> {
      reads.incrementAndGet();
      return CompletableFuture.completedFuture(highestByPartition.getOrDefault(partition, 0L));
    }).toCompletableFuture().join();
  }

  /** The highest sequence number stored in each partition, as the plugin stores the writes. */
  private static Map<Long, Long> store(JournalPartitions partitions, List<Integer> writes) {
    Map<Long, Long> highestByPartition = new HashMap<>();
    long last = 0;
    for (int events : writes) {
      last += events;
      highestByPartition.merge(partitions.partitionOf(last), last, Math::max);
    }
    return highestByPartition;
  }

  /** Every sequence of writes of 1..maxEventsPerWrite events with at most maxEvents in all. */
  private static List<List<Integer>> writeSequences(int maxEvents, int maxEventsPerWrite) {
    List<List<Integer>> sequences = new ArrayList<>();
    sequences.add(List.of());
    for (int i = 0; i < sequences.size(); i++) {
      List<Integer> sequence = sequences.get(i);
      int events = sequence.stream().mapToInt(Integer::intValue).sum();
      for (int next = 1; next <= maxEventsPerWrite && events + next <= maxEvents; next++) {
        List<Integer> longer = new ArrayList<>(sequence);
        longer.add(next);
        sequences.add(longer);
      }
    }
    return sequences;
  }
}
