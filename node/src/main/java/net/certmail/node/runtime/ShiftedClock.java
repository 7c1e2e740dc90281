package net.certmail.node.runtime;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that runs a settable offset ahead of (or behind) another: how a chaos run skews one
 * node's clock, within the network's stated clock-skew, while the node runs.
 */
public final class ShiftedClock extends Clock {
  private final Clock base;
  private final AtomicLong offsetMillis;

  public ShiftedClock(Clock base) {
    this(base, new AtomicLong());
  }

  private ShiftedClock(Clock base, AtomicLong offsetMillis) {
    this.base = base;
    this.offsetMillis = offsetMillis;
  }

  public void setOffsetMillis(long offset) {
    offsetMillis.set(offset);
  }

  public long offsetMillis() {
    return offsetMillis.get();
  }

  @Override
  public long millis() {
    return base.millis() + offsetMillis.get();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis());
  }

  @Override
  public ZoneId getZone() {
    return base.getZone();
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return new ShiftedClock(base.withZone(zone), offsetMillis);
  }
}
