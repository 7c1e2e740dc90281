package net.certmail.persistence.testing;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.certmail.persistence.EmbeddedJournalSchema;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The crashing half of EmbeddedJournalDurabilityTest, run in its own JVM:
 * {@code DurabilityWriterMain <database path> <entities> <events per entity>}.
 *
 * Appends events to several {@link TextLog} entities at once on the embedded journal, prints
 * {@code ACK <persistence id> <sequence nr>} for every acknowledged event, and halts the JVM
 * (Runtime.halt: no shutdown hooks, no flushing, like a crash) right after printing the last
 * acknowledgement. Whatever the journal acknowledged but kept only in memory is lost with it.
 */
public final class DurabilityWriterMain {

  /** Exit status of the deliberate halt, so the test can tell it from a failure. */
  public static final int HALTED_AFTER_LAST_ACK = 42;
  static final int FAILED = 1;

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(30);

  private DurabilityWriterMain() {}

  public static void main(String[] args) throws Exception {
    Path database = Path.of(args[0]);
    int entities = Integer.parseInt(args[1]);
    int eventsPerEntity = Integer.parseInt(args[2]);
    PrintStream out = System.out;

    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "durability-writer", TestJournals.embedded(database));
    EmbeddedJournalSchema.ensureCreated(system);

    AtomicInteger acknowledged = new AtomicInteger();
    int total = entities * eventsPerEntity;
    for (int e = 1; e <= entities; e++) {
      String persistenceId = "durability|entity-" + e;
      ActorRef<TextLog.Command> log = system.systemActorOf(TextLog.create(persistenceId), "entity-" + e, Props.empty());
      appendFrom(1, eventsPerEntity, log, persistenceId, system, out, acknowledged, total);
    }

    // Normally the last acknowledgement halts the JVM long before this.
    system.getWhenTerminated().toCompletableFuture().get(120, TimeUnit.SECONDS);
    System.err.println("durability writer: not all events were acknowledged within 120 s");
    Runtime.getRuntime().halt(FAILED);
  }

  /** Appends event n of one entity, and on its acknowledgement the next one. */
  private static void appendFrom(int n, int last, ActorRef<TextLog.Command> log, String persistenceId,
      ActorSystem<Void> system, PrintStream out, AtomicInteger acknowledged, int total) {
    AskPattern.<TextLog.Command, Long>ask(log, replyTo -> new TextLog.Append("event-" + n, replyTo), ASK_TIMEOUT,
            system.scheduler())
        .whenComplete((sequenceNr, error) -> {
          if (error != null) {
            System.err.println("durability writer: append " + n + " to " + persistenceId + " failed: " + error);
            error.printStackTrace();
            Runtime.getRuntime().halt(FAILED);
          }
          synchronized (out) {
            out.println("ACK " + persistenceId + " " + sequenceNr);
            out.flush();
          }
          if (acknowledged.incrementAndGet() == total) {
            Runtime.getRuntime().halt(HALTED_AFTER_LAST_ACK);
          } else if (n < last) {
            appendFrom(n + 1, last, log, persistenceId, system, out, acknowledged, total);
          }
        });
  }
}
