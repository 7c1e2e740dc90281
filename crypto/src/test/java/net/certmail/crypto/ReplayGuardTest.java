package net.certmail.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class ReplayGuardTest {
  /** A clock the test moves. */
  static final class MovableClock extends Clock {
    long millis = 1_800_000_000_000L;

    @Override
    public ZoneId getZone() {
      return ZoneId.of("UTC");
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }
  }

  @Test
  void anEnvelopeIdSeenWithinTheWindowIsAReplay() throws Exception {
    MovableClock clock = new MovableClock();
    ReplayGuard guard = new ReplayGuard(clock, Duration.ofMinutes(5), Duration.ofSeconds(4));
    guard.admit("a", clock.millis());
    VerificationException replay = assertThrows(VerificationException.class, () -> guard.admit("a", clock.millis()));
    assertEquals(VerificationFailure.REPLAYED, replay.failure());
  }

  @Test
  void idsAreForgottenOnceTheirEnvelopesWouldBeStale() throws Exception {
    MovableClock clock = new MovableClock();
    ReplayGuard guard = new ReplayGuard(clock, Duration.ofMinutes(5), Duration.ofSeconds(4));
    for (int i = 0; i < 1000; i++) {
      guard.admit("id-" + i, clock.millis());
    }
    assertEquals(1000, guard.size());
    clock.millis += Duration.ofMinutes(5).plusSeconds(5).toMillis();
    assertEquals(0, guard.size(), "no id outlives its freshness window");
    VerificationException stale = assertThrows(VerificationException.class,
        () -> guard.admit("id-1", clock.millis() - Duration.ofMinutes(6).toMillis()));
    assertEquals(VerificationFailure.STALE, stale.failure(), "and an envelope that old is refused as stale");
  }

  @Test
  void aFloodOfFreshIdsStaysWithinTheSizeBound() throws Exception {
    MovableClock clock = new MovableClock();
    ReplayGuard guard = new ReplayGuard(clock, Duration.ofMinutes(5), Duration.ofSeconds(4), 100);
    for (int i = 0; i < 10_000; i++) {
      guard.admit("flood-" + i, clock.millis());
    }
    assertTrue(guard.size() <= 100, "kept " + guard.size() + " ids");
  }
}
