package net.certmail.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import net.certmail.crypto.VerificationFailure;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.ReasonCode;
import org.junit.jupiter.api.Test;

/** The metrics API the entity shells report to, as an operator's registry sees it. */
class EnvelopeMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final EnvelopeMetrics metrics = new EnvelopeMetrics(registry);

  @Test
  void everyRejectionReasonAndFlavourIsAZeroSeriesFromTheStart() {
    for (VerificationFailure failure : VerificationFailure.values()) {
      assertNotNull(registry.find(EnvelopeMetrics.REJECTED).tag("reason", failure.name()).counter(), failure.name());
    }
    for (String flavour : new String[] {"CEM", "NSR", "IP"}) {
      assertEquals(0, registry.get(EnvelopeMetrics.SUBMISSIONS).tag("flavour", flavour).counter().count());
    }
    assertNotNull(registry.find(EnvelopeMetrics.VERDICT_LATENCY).timer());
    assertEquals(0, metrics.rejectedCount());
  }

  @Test
  void submissionsAreCountedByFlavour() {
    metrics.submitted(Flavour.NSR);
    metrics.submitted(Flavour.NSR);
    metrics.submitted(Flavour.IP);
    assertEquals(2, registry.get(EnvelopeMetrics.SUBMISSIONS).tag("flavour", "NSR").counter().count());
    assertEquals(1, registry.get(EnvelopeMetrics.SUBMISSIONS).tag("flavour", "IP").counter().count());
    assertEquals(0, registry.get(EnvelopeMetrics.SUBMISSIONS).tag("flavour", "CEM").counter().count());
  }

  @Test
  void verdictsAreCountedByKindAndReasonWithTheirLatencyInBuckets() {
    metrics.concluded(DeliveryStatus.DELIVERED, ReasonCode.REASON_UNSPECIFIED, Duration.ofSeconds(3));
    metrics.concluded(DeliveryStatus.NOT_DELIVERED, ReasonCode.RECIPIENT_REFUSED, Duration.ofSeconds(40));
    metrics.concluded(DeliveryStatus.NOT_DELIVERED, ReasonCode.DEADLINE_NOT_ACCEPTABLE, Duration.ofMillis(80));

    assertEquals(1, registry.get(EnvelopeMetrics.VERDICTS).tags("verdict", "DELIVERED", "reason", "NONE").counter().count());
    assertEquals(1, registry.get(EnvelopeMetrics.VERDICTS).tags("verdict", "NOT_DELIVERED", "reason", "RECIPIENT_REFUSED")
        .counter().count());
    Timer notDelivered = registry.get(EnvelopeMetrics.VERDICT_LATENCY).tag("verdict", "NOT_DELIVERED").timer();
    assertEquals(2, notDelivered.count());
    assertEquals(40.08, notDelivered.totalTime(TimeUnit.SECONDS), 0.001);
    // Cumulative buckets: 80 ms is within 1 s, 40 s only from the 1 min bucket on.
    CountAtBucket[] buckets = notDelivered.takeSnapshot().histogramCounts();
    assertEquals(1, countAt(buckets, Duration.ofSeconds(1)));
    assertEquals(1, countAt(buckets, Duration.ofSeconds(30)));
    assertEquals(2, countAt(buckets, Duration.ofMinutes(1)));
  }

  private static double countAt(CountAtBucket[] buckets, Duration bound) {
    return Arrays.stream(buckets).filter(bucket -> bucket.bucket(TimeUnit.NANOSECONDS) == bound.toNanos())
        .findFirst().orElseThrow(() -> new AssertionError("no bucket at " + bound)).count();
  }
}
