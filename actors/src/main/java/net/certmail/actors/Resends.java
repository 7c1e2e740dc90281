package net.certmail.actors;

import net.certmail.protocol.Timings;

/**
 * When an entity sends again a message that awaits an answer: capped exponential backoff from
 * the last send. Kept in memory only: after a restart the entity simply sends at once, which
 * its peers handle idempotently.
 */
final class Resends {
  private final Timings timings;
  private long nextAt;
  private int attempts;

  Resends(Timings timings) {
    this.timings = timings;
  }

  boolean due(long now) {
    return now >= nextAt;
  }

  void sent(long now) {
    nextAt = now + timings.backoffMillis(attempts++);
  }

  /** True before the first send of the current stage. */
  boolean firstAttempt() {
    return attempts == 0;
  }

  /** A new stage awaits a new answer: start the backoff over. */
  void reset() {
    attempts = 0;
    nextAt = 0;
  }
}
