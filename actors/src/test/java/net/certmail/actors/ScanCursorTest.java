package net.certmail.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Where a reminder scanner's scans start: every row at the start and every complete-scan-interval,
 * from the oldest fired row every full-scan-interval, otherwise only what is new since the scan
 * before (less the overlap), and again from where a scan stopped at its row limit.
 */
class ScanCursorTest {
  static final long COMPLETE = 300_000;
  static final long FULL = 10_000;
  static final long OVERLAP = 5_000;
  static final long T0 = 1_000_000_000L;

  final ScanCursor cursor = new ScanCursor(COMPLETE, FULL, OVERLAP);

  ScanCursor.Scan scanAt(long now, long oldestFired) {
    ScanCursor.Scan scan = cursor.next(now, oldestFired);
    cursor.scanned(scan, now, ScanCursor.NONE);
    return scan;
  }

  @Test
  void theFirstScanReadsEveryRowAndSoDoesTheFirstCountBeforeIt() {
    assertEquals(ScanCursor.EVERYTHING, cursor.countAfter(ScanCursor.NONE));
    ScanCursor.Scan first = cursor.next(T0, ScanCursor.NONE);
    assertTrue(first.complete());
    assertTrue(first.full());
  }

  @Test
  void aScanBetweenFullOnesReadsFromThePreviousStartLessTheOverlapWhateverWasFired() {
    scanAt(T0, ScanCursor.NONE);
    ScanCursor.Scan recent = cursor.next(T0 + 500, T0 - 60_000);
    assertFalse(recent.full());
    assertEquals(T0 - OVERLAP, recent.after());
  }

  @Test
  void aFullScanReadsFromTheOldestRowFiredAndNotSeenGone() {
    scanAt(T0, ScanCursor.NONE);
    scanAt(T0 + 5_000, ScanCursor.NONE);
    ScanCursor.Scan full = cursor.next(T0 + FULL, T0 - 60_000);
    assertTrue(full.full());
    assertFalse(full.complete());
    assertEquals(T0 - 60_000 - 1, full.after(), "the fired row itself is read: still there, it is fired again");

    ScanCursor.Scan nothingFired = cursor.next(T0 + FULL, ScanCursor.NONE);
    assertEquals(T0 + 5_000 - OVERLAP, nothingFired.after());
  }

  @Test
  void theScanAfterOneStoppedAtItsRowLimitReadsAgainFromItsLastRow() {
    scanAt(T0, ScanCursor.NONE);
    ScanCursor.Scan stopped = cursor.next(T0 + 500, ScanCursor.NONE);
    long lastRowRead = T0 - 30_000; // a backlog: the limit was reached long before the scan's start
    cursor.scanned(stopped, T0 + 500, lastRowRead);
    assertEquals(lastRowRead - 1, cursor.next(T0 + 1_000, ScanCursor.NONE).after(),
        "rows at the last row's instant may have been cut off too");

    cursor.scanned(cursor.next(T0 + 1_000, ScanCursor.NONE), T0 + 1_000, ScanCursor.NONE);
    assertEquals(T0 + 1_000 - OVERLAP, cursor.next(T0 + 1_500, ScanCursor.NONE).after());
  }

  @Test
  void everyCompleteScanIntervalAScanReadsEveryRowAgain() {
    scanAt(T0, ScanCursor.NONE);
    for (long at = T0 + 500; at < T0 + COMPLETE; at += 500) {
      assertFalse(scanAt(at, ScanCursor.NONE).complete(), "at " + (at - T0) + " ms");
    }
    assertTrue(scanAt(T0 + COMPLETE, ScanCursor.NONE).complete());
    assertFalse(cursor.next(T0 + COMPLETE + 500, ScanCursor.NONE).complete());
  }

  @Test
  void aFailedScanMovesNothing() {
    scanAt(T0, ScanCursor.NONE);
    cursor.next(T0 + 500, ScanCursor.NONE); // its read failed: scanned is never called
    assertEquals(T0 - OVERLAP, cursor.next(T0 + 1_000, ScanCursor.NONE).after());
  }

  @Test
  void aCountAfterTheFirstCompleteScanReadsWhatAScanWouldStillFire() {
    scanAt(T0, ScanCursor.NONE);
    scanAt(T0 + 500, ScanCursor.NONE);
    assertEquals(T0 + 500 - OVERLAP, cursor.countAfter(ScanCursor.NONE));
    assertEquals(T0 - 60_000 - 1, cursor.countAfter(T0 - 60_000));
  }
}
