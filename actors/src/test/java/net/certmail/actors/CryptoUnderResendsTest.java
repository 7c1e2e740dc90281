package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.ALPHA;
import static net.certmail.actors.TestNetwork.BETA;
import static net.certmail.actors.TestNetwork.BOB;
import static net.certmail.actors.TestNetwork.RELAY;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import net.certmail.crypto.SignatureCounts;
import net.certmail.crypto.SignatureCounts.Use;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.Flavour;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Resends cost envelopes, never evidence checks: with the clock following real time and the demo
 * timings' first resend after 200 ms, mails in flight together are resent (submissions, relays,
 * deliveries, reports, receipts), yet every evidence item is signed once by its issuer and
 * verified once by each principal that acts on it, exactly as without a resend
 * ({@link CryptoPerMailTest}): a duplicate is answered from what the entity holds.
 */
@ExtendWith(LogCapturingExtension.class)
class CryptoUnderResendsTest {
  private static final int MAILS_PER_FLAVOUR = 3;

  @Test
  void resentMessagesAreAnsweredWithoutSigningOrVerifyingEvidenceAgain() throws Exception {
    TestNetwork network = new TestNetwork();
    ManualClock clock = new ManualClock(Instant.now());
    Thread ticking = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        clock.set(System.currentTimeMillis());
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "real-time");
    ticking.setDaemon(true);
    ticking.start();
    LongAdder sent = new LongAdder();
    try (EngineNode node = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS,
        EngineNode.inMemoryJournal(), null, ConfigFactory.empty(), postman -> (from, outgoing) -> {
          sent.increment();
          postman.send(from, outgoing);
        })) {
      long signedBefore = SignatureCounts.made(Use.EVIDENCE);
      long verifiedBefore = SignatureCounts.checked(Use.EVIDENCE);
      long sentBefore = sent.sum();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < MAILS_PER_FLAVOUR; i++) {
        for (Flavour flavour : List.of(Flavour.CEM, Flavour.NSR, Flavour.IP)) {
          String id = UUID.randomUUID().toString();
          node.engine.submit(ALICE, id, BOB, MailScenarios.mail(flavour + " " + i),
              clock.millis() + Duration.ofMinutes(10).toMillis(), flavour).toCompletableFuture().get(30, TimeUnit.SECONDS);
          ids.add(id);
        }
      }
      for (String id : ids) {
        MailStatus status = EngineNode.await(() -> node.engine.status(ALICE, id), MailStatus::isFinal,
            Duration.ofMinutes(2), "a verdict for " + id);
        assertEquals(DeliveryStatus.DELIVERED, status.status());
      }
      awaitQuiet(node, sent);
      // Per mail: CEM 6 signed and 11 verified, NSR and IP 7 and 12 (CryptoPerMailTest says which).
      assertEquals(MAILS_PER_FLAVOUR * (6 + 7 + 7), SignatureCounts.made(Use.EVIDENCE) - signedBefore,
          "evidence items signed");
      assertEquals(MAILS_PER_FLAVOUR * (11 + 12 + 12), SignatureCounts.checked(Use.EVIDENCE) - verifiedBefore,
          "evidence items verified");
      System.out.printf("%d mails: %.2f messages per mail (14.67 without a resend)%n", ids.size(),
          (sent.sum() - sentBefore) / (double) ids.size());
    } finally {
      ticking.interrupt();
    }
  }

  /** Until no entity runs (each finished its part and passivated) and nothing was sent meanwhile. */
  private static void awaitQuiet(EngineNode node, LongAdder sent) {
    long[] last = {-1};
    EngineNode.awaitCondition(() -> {
      long now = sent.sum();
      boolean idle = node.runningEntities(OutboxEntry.typeKey(ALPHA)).isEmpty()
          && node.runningEntities(InboxEntry.typeKey(BETA)).isEmpty()
          && List.of(ALPHA, RELAY, BETA).stream().allMatch(s -> node.runningEntities(MailServer.typeKey(s)).isEmpty());
      boolean quiet = idle && now == last[0];
      last[0] = now;
      return quiet;
    }, Duration.ofMinutes(2), "every entity of the mails asleep");
  }
}
