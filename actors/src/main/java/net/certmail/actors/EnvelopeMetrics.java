package net.certmail.actors;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import net.certmail.crypto.VerificationException;
import net.certmail.crypto.VerificationFailure;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.ReasonCode;
import org.slf4j.Logger;

/**
 * What operators watch of a node's entities. Counts and logs what the entities drop: envelopes
 * that fail verification, and verified messages the protocol has no use for (a bogus
 * notification, evidence that does not fit); a dropped message never changes state. And what the
 * sender's entities reach: submissions, verdicts by kind and reason, and the time from submission
 * to verdict ({@link #submitted}, {@link #concluded}: the entity shells call them once per fact,
 * after its event is persisted, never while recovering).
 *
 * <p>Every series an operator's dashboard or alert names exists from the start at zero: the
 * envelope rejection reasons, the flavours and the latency histogram.
 */
public final class EnvelopeMetrics {
  public static final String REJECTED = "certmail.envelopes.rejected";
  public static final String IGNORED = "certmail.messages.ignored";
  public static final String SUBMISSIONS = "certmail.submissions";
  public static final String VERDICTS = "certmail.verdicts";
  public static final String VERDICT_LATENCY = "certmail.verdict.latency";

  /**
   * Buckets of the submission-to-verdict histogram: a verdict comes within seconds when the
   * recipient's agent answers at once, and at the latest just before the deadline the sender chose
   * (an hour by default, days at most in practice).
   */
  static final Duration[] VERDICT_BUCKETS = Stream.of("PT1S", "PT2S", "PT5S", "PT10S", "PT30S", "PT1M", "PT2M",
      "PT5M", "PT10M", "PT30M", "PT1H", "PT2H", "PT6H", "PT12H", "PT24H", "PT72H", "PT168H")
      .map(Duration::parse).toArray(Duration[]::new);

  private final MeterRegistry registry;

  public EnvelopeMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (VerificationFailure failure : VerificationFailure.values()) {
      rejectedCounter(failure.name());
    }
    for (Flavour flavour : List.of(Flavour.CEM, Flavour.NSR, Flavour.IP)) {
      submissionCounter(flavour);
    }
    verdictCounter(DeliveryStatus.DELIVERED, ReasonCode.REASON_UNSPECIFIED);
    latency(DeliveryStatus.DELIVERED);
  }

  /**
   * A's entity took a new submission (a resend with the same idempotency key is not one). To be
   * called by OutboxEntry once the submission's first event is persisted.
   */
  public void submitted(Flavour flavour) {
    submissionCounter(flavour).increment();
  }

  /**
   * A's entity reached its final status: DELIVERED, NOT_DELIVERED (an NDN, or the origin's signed
   * rejection: reason DEADLINE_NOT_ACCEPTABLE, UNKNOWN_DOMAIN, ...), LOST or NOT_POSTED. To be
   * called by OutboxEntry once the concluding event is persisted, with the time since the
   * submission was taken.
   */
  public void concluded(DeliveryStatus verdict, ReasonCode reason, Duration sinceSubmission) {
    verdictCounter(verdict, reason).increment();
    latency(verdict).record(sinceSubmission.isNegative() ? Duration.ZERO : sinceSubmission);
  }

  private Counter verdictCounter(DeliveryStatus verdict, ReasonCode reason) {
    String because = reason == null || reason == ReasonCode.REASON_UNSPECIFIED ? "NONE" : reason.name();
    return Counter.builder(VERDICTS).description("Final statuses reached by this node's senders, by verdict and reason")
        .tags("verdict", verdict.name(), "reason", because).register(registry);
  }

  private Counter rejectedCounter(String reason) {
    return Counter.builder(REJECTED).description("Envelopes dropped because they failed verification, by reason")
        .tag("reason", reason).register(registry);
  }

  private Counter submissionCounter(Flavour flavour) {
    return Counter.builder(SUBMISSIONS).description("Mails submitted by this node's mailboxes, by flavour")
        .tag("flavour", flavour.name()).register(registry);
  }

  private Timer latency(DeliveryStatus verdict) {
    return Timer.builder(VERDICT_LATENCY)
        .description("Time from a submission to its sender's final status, by verdict")
        .tag("verdict", verdict.name())
        .serviceLevelObjectives(VERDICT_BUCKETS)
        .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  void rejected(Logger log, String entityId, VerificationException e) {
    rejectedCounter(e.failure().name()).increment();
    log.warn("{}: rejected envelope: {}", entityId, e.getMessage());
  }

  void malformed(Logger log, String entityId, String detail) {
    rejectedCounter(VerificationFailure.MALFORMED.name()).increment();
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
