package net.certmail.node.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.stream.Stream;
import org.apache.pekko.actor.ActorSystem;
import scala.collection.immutable.Seq;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.runtime.BoxedUnit;
import scala.util.Try;

/**
 * Times the journal's writes and sorts them by outcome: {@code ok}; {@code rejected} (the journal
 * refused some events of the batch, e.g. unserializable: Pekko rejects those persists, the entity
 * goes on); {@code failed} (the write itself failed, e.g. the database is gone: every entity of the
 * batch stops, its command is lost). A failed write is what an operator alerts on.
 */
final class JournalWriteMeter {
  static final String WRITES = "certmail.journal.writes";

  private static final Duration[] BUCKETS = Stream.of("PT0.001S", "PT0.002S", "PT0.005S", "PT0.01S", "PT0.025S",
      "PT0.05S", "PT0.1S", "PT0.25S", "PT0.5S", "PT1S", "PT2.5S", "PT5S", "PT10S").map(Duration::parse)
      .toArray(Duration[]::new);

  private final Timer ok;
  private final Timer rejected;
  private final Timer failed;

  private JournalWriteMeter(MeterRegistry registry) {
    this.ok = timer(registry, "ok");
    this.rejected = timer(registry, "rejected");
    this.failed = timer(registry, "failed");
  }

  static JournalWriteMeter of(ActorSystem system) {
    return new JournalWriteMeter(NodeMetrics.get(system).registry());
  }

  private static Timer timer(MeterRegistry registry, String outcome) {
    return Timer.builder(WRITES).description("Journal write batches (one or more events each), by outcome")
        .tag("outcome", outcome).serviceLevelObjectives(BUCKETS).register(registry);
  }

  /** Records the write when it completes; returns it unchanged. */
  Future<Seq<Try<BoxedUnit>>> measure(long startedNanos, Future<Seq<Try<BoxedUnit>>> write, ExecutionContext context) {
    write.onComplete(result -> {
      long nanos = System.nanoTime() - startedNanos;
      Timer timer = result.isFailure() ? failed : result.get().exists(Try::isFailure) ? rejected : ok;
      timer.record(Duration.ofNanos(nanos));
      return BoxedUnit.UNIT;
    }, context);
    return write;
  }
}
