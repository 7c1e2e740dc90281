package net.certmail.actors;

import io.micrometer.core.instrument.MeterRegistry;
import net.certmail.crypto.VerificationException;
import org.slf4j.Logger;

/**
 * Counts and logs what the entities drop: envelopes that fail verification, and verified
 * messages the protocol has no use for (a bogus notification, evidence that does not fit).
 * Operators watch these counters; a dropped message never changes state.
 */
public final class EnvelopeMetrics {
  public static final String REJECTED = "certmail.envelopes.rejected";
  public static final String IGNORED = "certmail.messages.ignored";

  private final MeterRegistry registry;

  public EnvelopeMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public MeterRegistry registry() {
    return registry;
  }

  void rejected(Logger log, String entityId, VerificationException e) {
    registry.counter(REJECTED, "reason", e.failure().name()).increment();
    log.warn("{}: rejected envelope: {}", entityId, e.getMessage());
  }

  void malformed(Logger log, String entityId, String detail) {
    registry.counter(REJECTED, "reason", "MALFORMED").increment();
    log.warn("{}: rejected envelope: MALFORMED: {}", entityId, detail);
  }

  void ignored(Logger log, String entityId, String reason, String detail) {
    registry.counter(IGNORED, "reason", reason).increment();
    log.warn("{}: ignored message ({}): {}", entityId, reason, detail);
  }

  public double rejectedCount() {
    return registry.find(REJECTED).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  public double rejectedCount(String reason) {
    var counter = registry.find(REJECTED).tag("reason", reason).counter();
    return counter == null ? 0 : counter.count();
  }

  public double ignoredCount(String reason) {
    var counter = registry.find(IGNORED).tag("reason", reason).counter();
    return counter == null ? 0 : counter.count();
  }
}
