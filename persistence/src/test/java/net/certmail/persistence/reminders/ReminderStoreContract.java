package net.certmail.persistence.reminders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.junit.jupiter.api.Test;

/**
 * What every reminder store does, run against each real store (H2 file, shared Cassandra).
 * Implementations give a fresh, empty store per test class; each test uses organisations of
 * its own, so tests do not see each other's rows.
 */
abstract class ReminderStoreContract {
  static final long MINUTE = 60_000;
  /** A fixed "now" far from the epoch, aligned to nothing in particular. */
  static final long NOW = 1_800_000_000_123L;

  abstract ReminderStore store();

  static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("store operation failed", e);
    }
  }

  private Reminder row(String organisation, String id, long due) {
    return new Reminder(organisation, "server@" + organisation, "p|" + id, due);
  }

  @Test
  void manyEntitiesChangingRowsOfOnePartitionAtOnceEachGetExactlyTheirOwn() {
    String org = "crowd.example";
    int entities = 120;
    List<CompletableFuture<Done>> writes = new ArrayList<>();
    for (int i = 0; i < entities; i++) {
      writes.add(store().write(row(org, "e" + i, NOW + i)).toCompletableFuture());
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
    // At once: a third move within the minute, a third are deleted, a third stay.
    List<CompletableFuture<Done>> changes = new ArrayList<>();
    List<Reminder> expected = new ArrayList<>();
    for (int i = 0; i < entities; i++) {
      Reminder written = row(org, "e" + i, NOW + i);
      if (i % 3 == 0) {
        changes.add(store().replace(List.of(written.at(NOW + 1_000 + i)), List.of(written)).toCompletableFuture());
        expected.add(written.at(NOW + 1_000 + i));
      } else if (i % 3 == 1) {
        changes.add(store().delete(written).toCompletableFuture());
      } else {
        expected.add(written);
      }
    }
    CompletableFuture.allOf(changes.toArray(CompletableFuture[]::new)).join();
    expected.sort(java.util.Comparator.comparingLong(Reminder::dueAt));
    assertEquals(expected, await(store().dueBy(org, NOW + MINUTE, 1_000)));
  }

  @Test
  void dueRowsComeEarliestFirstAndLaterOnesStayHidden() {
    String org = "order.example";
    await(store().write(row(org, "late", NOW + 10 * MINUTE)));
    await(store().write(row(org, "second", NOW - 5)));
    await(store().write(row(org, "first", NOW - 3 * MINUTE)));
    await(store().write(row(org, "soon", NOW + 500)));
    List<Reminder> due = await(store().dueBy(org, NOW, 100));
    assertEquals(List.of(row(org, "first", NOW - 3 * MINUTE), row(org, "second", NOW - 5)), due);
    assertEquals(List.of(row(org, "first", NOW - 3 * MINUTE), row(org, "second", NOW - 5), row(org, "soon", NOW + 500)),
        await(store().dueBy(org, NOW + 1000, 100)));
    assertEquals(4L, await(store().count(org)));
  }

  @Test
  void aCountFromAnInstantCountsOnlyTheRowsDueAfterIt() {
    String org = "count-window.example";
    long after = Math.floorDiv(NOW, MINUTE) * MINUTE + 20_000; // mid-bucket
    await(store().write(row(org, "older", after - 3 * MINUTE)));
    await(store().write(row(org, "same-bucket-before", after - 5_000)));
    await(store().write(row(org, "at", after)));
    await(store().write(row(org, "same-bucket-after", after + 1)));
    await(store().write(row(org, "later", after + 10 * MINUTE)));
    assertEquals(2L, await(store().count(org, after)));
    assertEquals(5L, await(store().count(org)));
  }

  @Test
  void writingTwiceKeepsOneRowAndDeleteRemovesExactlyThatInstant() {
    String org = "idempotent.example";
    Reminder early = row(org, "x", NOW - 1000);
    Reminder later = early.at(NOW + 2 * MINUTE);
    await(store().write(early));
    await(store().write(early));
    await(store().write(later));
    assertEquals(List.of(early), await(store().dueBy(org, NOW, 100)));
    await(store().delete(early));
    await(store().delete(early)); // deleting a missing row is no error
    assertEquals(List.of(), await(store().dueBy(org, NOW, 100)));
    assertEquals(List.of(later), await(store().dueBy(org, NOW + 3 * MINUTE, 100)));
    assertEquals(1L, await(store().count(org)));
  }

  @Test
  void replaceMovesADutyToItsNewInstant() {
    String org = "moved.example";
    Reminder before = row(org, "y", NOW - 1000);
    Reminder after = before.at(NOW + 2 * MINUTE);
    Reminder other = row(org, "z", NOW - 2000);
    await(store().write(before));
    await(store().write(other));
    await(store().replace(List.of(after), List.of(before, other)));
    assertEquals(List.of(), await(store().dueBy(org, NOW, 100)));
    assertEquals(List.of(after), await(store().dueBy(org, NOW + 3 * MINUTE, 100)));
    await(store().replace(List.of(), List.of(after)));
    assertEquals(0L, await(store().count(org)));
  }

  @Test
  void replaceWithinOneBucketMovesTheDutyAndListsTheBucket() {
    String org = "moved-within.example"; // no row written before: the replace lists the bucket itself
    long bucketStart = Math.floorDiv(NOW, MINUTE) * MINUTE + MINUTE;
    Reminder before = row(org, "y", bucketStart + 1000);
    Reminder after = before.at(bucketStart + 30_000);
    Reminder other = row(org, "z", bucketStart + 5000);
    await(store().replace(List.of(before, other), List.of()));
    await(store().replace(List.of(after), List.of(before, other)));
    assertEquals(List.of(after), await(store().dueBy(org, bucketStart + MINUTE - 1, 100)));
    assertEquals(1L, await(store().count(org)));
  }

  @Test
  void aScanFromAnInstantReadsOnlyTheRowsDueAfterIt() {
    String org = "window.example";
    long after = Math.floorDiv(NOW, MINUTE) * MINUTE + 20_000; // mid-bucket
    Reminder older = row(org, "older", after - 2 * MINUTE);
    Reminder sameBucketBefore = row(org, "before", after - 5_000);
    Reminder atTheInstant = row(org, "at", after);
    Reminder justAfter = row(org, "after", after + 1);
    Reminder nextBucket = row(org, "next", after + MINUTE);
    Reminder notYetDue = row(org, "later", after + 3 * MINUTE);
    for (Reminder reminder : List.of(older, sameBucketBefore, atTheInstant, justAfter, nextBucket, notYetDue)) {
      await(store().write(reminder));
    }
    assertEquals(List.of(justAfter, nextBucket), await(store().dueBetween(org, after, after + 2 * MINUTE, 100)));
    assertEquals(List.of(older, sameBucketBefore, atTheInstant, justAfter, nextBucket),
        await(store().dueBy(org, after + 2 * MINUTE, 100)), "from the start, every due row");
  }

  @Test
  void aBackfillIsRecordedOncePerOrganisation() {
    assertFalse(await(store().backfilled("marked.example")), "a store never initialised for the organisation");
    await(store().markBackfilled("marked.example", NOW));
    await(store().markBackfilled("marked.example", NOW + 1)); // a backfill run again after a crash
    assertTrue(await(store().backfilled("marked.example")));
    assertFalse(await(store().backfilled("unmarked.example")));
  }

  @Test
  void organisationsScanOnlyTheirOwnRows() {
    await(store().write(row("one.example", "a", NOW - 1)));
    await(store().write(row("two.example", "b", NOW - 1)));
    assertEquals(List.of(row("one.example", "a", NOW - 1)), await(store().dueBy("one.example", NOW, 100)));
    assertEquals(List.of(row("two.example", "b", NOW - 1)), await(store().dueBy("two.example", NOW, 100)));
  }

  @Test
  void theLimitCutsAcrossBucketsInDueOrder() {
    String org = "limit.example";
    for (int i = 0; i < 5; i++) {
      await(store().write(row(org, "m" + i, NOW - (5 - i) * MINUTE)));
    }
    List<Reminder> due = await(store().dueBy(org, NOW, 3));
    assertEquals(List.of(row(org, "m0", NOW - 5 * MINUTE), row(org, "m1", NOW - 4 * MINUTE),
        row(org, "m2", NOW - 3 * MINUTE)), due);
  }

  @Test
  void rowsOfOldEmptiedBucketsAndNewRowsStillScan() {
    String org = "buckets.example";
    Reminder old = row(org, "old", NOW - 30 * MINUTE);
    await(store().write(old));
    await(store().delete(old));
    assertEquals(List.of(), await(store().dueBy(org, NOW, 100))); // may unlist the emptied bucket
    Reminder fresh = row(org, "fresh", NOW + 100);
    await(store().write(fresh));
    assertEquals(List.of(fresh), await(store().dueBy(org, NOW + 200, 100)));
    assertTrue(store().bucketOf(NOW + 100) > store().bucketOf(NOW - 30 * MINUTE));
  }

  @Test
  void aRowWrittenAgainIntoABucketAScanUnlistedIsFound() {
    String org = "relisted.example";
    Reminder retried = row(org, "retried", NOW - 30 * MINUTE);
    await(store().write(retried));
    await(store().delete(retried));
    assertEquals(List.of(), await(store().dueBy(org, NOW, 100))); // unlists the emptied bucket
    await(store().write(retried)); // e.g. a write retried after an outage
    assertEquals(List.of(retried), await(store().dueBy(org, NOW, 100)));
  }
}
