package net.certmail.actors;

/**
 * Where each scan of a {@link ReminderScanner} starts reading: the rows due after the instant
 * {@link #next} returns. Pure arithmetic on the scanner's clock, kept apart for its tests.
 *
 * <p>On Cassandra a row an entity deleted stays a tombstone in its bucket, and every scan that
 * reads its instant reads it again; under load almost every row is deleted before it comes due.
 * So each scan reads as little as what it must find:
 * <ul>
 *   <li>a <b>recent</b> scan (every scan-interval) the rows due since the previous scan's start,
 *       less scan-overlap (a row written while that scan ran, the writers' clock skew); from where
 *       the previous scan stopped if that one reached its row limit;</li>
 *   <li>a <b>full</b> scan (every full-scan-interval) also from the oldest row the scanner fired
 *       and has not yet seen gone: a row still there refire-after later is fired again;</li>
 *   <li>a <b>complete</b> scan (at the scanner's start, and every complete-scan-interval) every
 *       row of every listed bucket: it finds a row that landed behind the other scans (a write
 *       held up by an outage) and unlists the buckets left empty.</li>
 * </ul>
 * Before, every full scan (10 s) read every listed bucket from its start: ~1,650 tombstones per
 * bucket read on average at 67-88 mails/s on Cassandra, up to 17,000.
 */
final class ScanCursor {
  /** From {@link #next}: read every row. */
  static final long EVERYTHING = Long.MIN_VALUE;
  /** For {@code oldestFired}: the scanner has fired no row it has not seen gone. */
  static final long NONE = Long.MIN_VALUE;

  private final long completeEvery;
  private final long fullEvery;
  private final long overlap;
  private long lastCompleteAt = NONE;
  private long lastFullAt = NONE;
  private long lastScanAt = NONE;
  /** The last row of a scan that stopped at its row limit (the next scan reads again from there), or NONE. */
  private long stoppedAt = NONE;

  ScanCursor(long completeEveryMillis, long fullEveryMillis, long overlapMillis) {
    this.completeEvery = completeEveryMillis;
    this.fullEvery = fullEveryMillis;
    this.overlap = overlapMillis;
  }

  /** What a scan reads: the rows due after {@code after} ({@link #EVERYTHING}: all); {@code full}: it reads from the oldest fired row. */
  record Scan(long after, boolean full) {
    boolean complete() {
      return after == EVERYTHING;
    }
  }

  /**
   * The scan to start at {@code now}.
   *
   * @param oldestFired the due instant of the oldest row fired and not yet seen gone, or {@link #NONE}
   */
  Scan next(long now, long oldestFired) {
    if (lastCompleteAt == NONE || now - lastCompleteAt >= completeEvery) {
      return new Scan(EVERYTHING, true);
    }
    boolean full = now - lastFullAt >= fullEvery;
    return new Scan(full ? fromOldestFired(oldestFired) : recentFrom(), full);
  }

  /** Where a recent scan starts: the previous scan's start less the overlap, or where that scan stopped. */
  private long recentFrom() {
    long after = lastScanAt - overlap;
    return stoppedAt == NONE ? after : Math.min(after, stoppedAt - 1);
  }

  private long fromOldestFired(long oldestFired) {
    return oldestFired == NONE ? recentFrom() : Math.min(recentFrom(), oldestFired - 1);
  }

  /**
   * A scan that started at {@code startedAt} read its rows.
   *
   * @param lastRowDue the due instant of its last (latest) row when it stopped at its row limit, else {@link #NONE}
   */
  void scanned(Scan scan, long startedAt, long lastRowDue) {
    if (scan.complete()) {
      lastCompleteAt = startedAt;
    }
    if (scan.full()) {
      lastFullAt = startedAt;
    }
    lastScanAt = startedAt;
    stoppedAt = lastRowDue;
  }

  /**
   * The rows the waiting count reads: those due after this instant. Before a complete scan, all;
   * after it, those a scan would still fire (a row landed behind the scans is counted once the
   * next complete scan has fired it and its entity moved it). Reading every listed bucket whole
   * read all their tombstones every count.
   */
  long countAfter(long oldestFired) {
    return lastCompleteAt == NONE ? EVERYTHING : fromOldestFired(oldestFired);
  }
}
