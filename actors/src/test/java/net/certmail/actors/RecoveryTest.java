package net.certmail.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.ALPHA;
import static net.certmail.actors.TestNetwork.BETA;
import static net.certmail.actors.TestNetwork.CAROL;
import static net.certmail.actors.TestNetwork.DAN;
import static net.certmail.actors.TestNetwork.DELTA;
import static net.certmail.actors.TestNetwork.GAMMA;
import static net.certmail.actors.TestNetwork.RELAY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import net.certmail.protocol.recipient.RecipientView;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crashes and restarts in the middle of the protocol, on the embedded H2 journal that every node
 * of the JVM shares: the mail resumes from the journal and reaches the right verdict without
 * outside help: every entity that owes work has a durable reminder row, and its organisation's
 * reminder scanner wakes it (on whichever node its shard lives) when the row comes due.
 */
@ExtendWith(LogCapturingExtension.class)
class RecoveryTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final List<String> ALL = TestNetwork.RUNNING_ORGANISATIONS;

  final TestNetwork network = new TestNetwork();
  final ManualClock clock = new ManualClock(Instant.now());

  @Test
  void wholeNodeRestartWhileTheRecipientDecidesEndsInDelivery(@TempDir Path dir) throws Exception {
    restartWhileTheRecipientDecides(EngineNode.embeddedJournal(dir));
  }

  /**
   * Entities recover from their events alone: with a snapshot store that fails every read (as
   * Cassandra's snapshot queries did while it was down), the restarted node still delivers.
   */
  @Test
  void entitiesRecoverWithoutReadingTheSnapshotStore(@TempDir Path dir) throws Exception {
    restartWhileTheRecipientDecides(ConfigFactory.parseString(UnreadableSnapshotStore.CONFIG)
        .withFallback(EngineNode.embeddedJournal(dir)));
  }

  private void restartWhileTheRecipientDecides(Config journal) throws Exception {
    String id = UUID.randomUUID().toString();
    String label;
    try (EngineNode node = EngineNode.start(network, clock, ALL, journal, null)) {
      node.engine.submit(ALICE, id, CAROL, mail(), deadline(), Flavour.NSR).toCompletableFuture().get();
      label = EngineNode.await(() -> node.engine.status(ALICE, id), s -> !s.label().isEmpty(), WAIT, "COP").label();
      EngineNode.await(() -> node.engine.inboxEntry(CAROL, label), v -> v.status() == RecipientView.Status.AWAITING_DECISION,
          WAIT, "carol notified");
    }
    try (EngineNode restarted = EngineNode.start(network, clock, ALL, journal, null)) {
      restarted.engine.accept(CAROL, label).toCompletableFuture().get();
      MailStatus status = EngineNode.await(() -> restarted.engine.status(ALICE, id), MailStatus::isFinal, WAIT,
          "the verdict after the restart");
      assertEquals(DeliveryStatus.DELIVERED, status.status());
      EngineNode.await(() -> restarted.engine.inboxEntry(CAROL, label), v -> v.status() == RecipientView.Status.RETRIEVED, WAIT,
          "carol fetching the content after the restart");
    }
  }

  @Test
  void relayTimeoutPersistedBeforeACrashStillYieldsItsNoticeAfterRestart(@TempDir Path dir) throws Exception {
    String id = UUID.randomUUID().toString();
    try (EngineNode node = EngineNode.start(network, clock, ALL, EngineNode.embeddedJournal(dir), null)) {
      node.engine.submit(ALICE, id, DAN, mail(), deadline(), Flavour.CEM).toCompletableFuture().get();
      EngineNode.await(() -> node.engine.status(ALICE, id), s -> s.status() == DeliveryStatus.IN_DELIVERY, WAIT, "COP");
    }
    clock.advance(Duration.ofMinutes(3)); // the relay timeout passes while no node runs
    try (EngineNode restarted = EngineNode.start(network, clock, ALL, EngineNode.embeddedJournal(dir), null)) {
      // Nobody asks about the mail: the origin server's entity comes back by itself and acts.
      MailStatus status = EngineNode.await(() -> restarted.engine.status(ALICE, id), MailStatus::isFinal, WAIT,
          "the relay failure notice after the restart");
      assertEquals(DeliveryStatus.NOT_DELIVERED, status.status());
      assertEquals(ReasonCode.RELAY_UNREACHABLE, status.reason());
    }
  }

  @Test
  void organisationOfTwoNodesSurvivesLosingTheOneHostingTheMail(@TempDir Path dir) throws Exception {
    var journal = EngineNode.embeddedJournal(dir);
    try (EngineNode senders = EngineNode.start(network, clock, List.of(ALPHA, RELAY, GAMMA, DELTA), journal, null)) {
      EngineNode betaOne = EngineNode.start(network, clock, List.of(BETA), journal, senders.address());
      EngineNode betaTwo = EngineNode.start(network, clock, List.of(BETA), journal, senders.address());
      try {
        String id = UUID.randomUUID().toString();
        senders.engine.submit(ALICE, id, CAROL, mail(), deadline(), Flavour.CEM).toCompletableFuture().get();
        String label = EngineNode.await(() -> senders.engine.status(ALICE, id), s -> !s.label().isEmpty(), WAIT,
            "COP").label();
        EngineNode.await(() -> senders.engine.inboxEntry(CAROL, label), v -> v.status() == RecipientView.Status.AWAITING_DECISION,
            WAIT, "carol notified");

        // The node of beta.example that holds carol's entry for this mail goes away while she decides
        // (the held entry itself has passivated: it waits in the journal, not in memory).
        String entityId = EntityKind.entityId(CAROL, label);
        EngineNode hosting = betaOne.holdsShardOf(InboxEntry.typeKey(CAROL), entityId) ? betaOne : betaTwo;
        EngineNode remaining = hosting == betaOne ? betaTwo : betaOne;
        assertTrue(hosting.holdsShardOf(InboxEntry.typeKey(CAROL), entityId), "one beta node holds carol's entry");
        hosting.close();
        EngineNode.await(() -> remaining.engine.accept(CAROL, label), v -> v.status() == RecipientView.Status.RETRIEVED
                || v.status() == RecipientView.Status.ACKNOWLEDGED, WAIT, "carol's entry served by the remaining node");
        MailStatus status = EngineNode.await(() -> senders.engine.status(ALICE, id), MailStatus::isFinal, WAIT,
            "the verdict");
        assertEquals(DeliveryStatus.DELIVERED, status.status());
      } finally {
        betaOne.close();
        betaTwo.close();
      }
    }
  }

  /**
   * Pn waits for carol, who holds the mail; the node of beta.example hosting Pn is killed (no
   * graceful leave: the cluster downs it). Nothing but Pn's reminder row can wake Pn: nobody
   * messages it. When the delivery give-up comes (the injected clock moves there), the reminder
   * fires on the surviving node and Pn issues its NDN, which reaches alice before T.
   */
  @Test
  void waitingMailsDeadlineStillYieldsItsNoticeWhenTheNodeHostingItIsKilled(@TempDir Path dir) throws Exception {
    var journal = EngineNode.embeddedJournal(dir);
    // An abrupt stop: terminating the system runs no coordinated shutdown, so the node does not leave.
    Config crashable = ConfigFactory.parseString(
        "pekko.coordinated-shutdown.run-by-actor-system-terminate = off\n"
        + "pekko.cluster.run-coordinated-shutdown-when-down = off");
    try (EngineNode senders = EngineNode.start(network, clock, List.of(ALPHA, RELAY, GAMMA, DELTA), journal, null)) {
      EngineNode betaOne = EngineNode.start(network, clock, List.of(BETA), journal, senders.address(), crashable);
      EngineNode betaTwo = EngineNode.start(network, clock, List.of(BETA), journal, senders.address(), crashable);
      try {
        String id = UUID.randomUUID().toString();
        long deadline = deadline();
        senders.engine.submit(ALICE, id, CAROL, mail(), deadline, Flavour.NSR).toCompletableFuture().get();
        String label = EngineNode.await(() -> senders.engine.status(ALICE, id), s -> !s.label().isEmpty(), WAIT,
            "COP").label();
        EngineNode.await(() -> senders.engine.inboxEntry(CAROL, label), v -> v.status() == RecipientView.Status.AWAITING_DECISION,
            WAIT, "carol notified");

        String pn = EntityKind.entityId(BETA, label);
        EngineNode hosting = betaOne.holdsShardOf(MailServer.typeKey(BETA), pn) ? betaOne : betaTwo;
        EngineNode remaining = hosting == betaOne ? betaTwo : betaOne;
        assertTrue(hosting.holdsShardOf(MailServer.typeKey(BETA), pn), "one beta node holds Pn");
        hosting.system.terminate(); // killed: its entities and (if it was there) beta's scanner are gone
        hosting.system.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);

        // Carol never decides; Pn's delivery give-up (accepted + delivery-timeout 5 min) comes.
        clock.advance(Duration.ofMinutes(5).plusSeconds(5));
        MailStatus status = EngineNode.await(() -> senders.engine.status(ALICE, id), MailStatus::isFinal,
            Duration.ofSeconds(60), "Pn's notice from the surviving node");
        assertEquals(DeliveryStatus.NOT_DELIVERED, status.status());
        assertEquals(ReasonCode.RECIPIENT_DID_NOT_ACKNOWLEDGE, status.reason(), "Pn's own notice, not P1's at T");
        assertTrue(clock.millis() < deadline, "the verdict came before T on the injected clock");
        assertTrue(remaining.holdsShardOf(MailServer.typeKey(BETA), pn), "Pn now runs on the surviving node");
      } finally {
        betaOne.close();
        betaTwo.close();
      }
    }
  }

  @Test
  void submissionToAServerThatIsNotTheSendersHomeIsRefusedWhenThatServerComesUp(@TempDir Path dir) throws Exception {
    // alice posts through relay.example, which is down: she is stuck in phase 1, resending. Once it runs it refuses:
    // only a sender's home server may issue the COP for her labels (a COP by another server is a squatted label).
    String id = UUID.randomUUID().toString();
    MailItem item = mail();
    try (EngineNode alphaOnly = EngineNode.start(network, clock, List.of(ALPHA), EngineNode.embeddedJournal(dir), null)) {
      MailStatus submitted = org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(alphaOnly.system)
          .entityRefFor(OutboxEntry.typeKey(ALICE), EntityKind.entityId(ALICE, id))
          .<MailStatus>ask(replyTo -> new OutboxEntry.Submit(TestNetwork.GINA, item.toByteArray(), deadline(), Flavour.CEM,
              RELAY, replyTo), Duration.ofSeconds(10))
          .toCompletableFuture().get();
      assertEquals(DeliveryStatus.SUBMITTED, submitted.status());
    }
    try (EngineNode all = EngineNode.start(network, clock, ALL, EngineNode.embeddedJournal(dir), null)) {
      // Nobody touches the submission: alice's entry is woken by its reminder, resends and gets the refusal.
      MailStatus status = EngineNode.await(() -> all.engine.status(ALICE, id), MailStatus::isFinal, WAIT,
          "the answer once the server runs");
      assertEquals(DeliveryStatus.NOT_DELIVERED, status.status());
      assertEquals(ReasonCode.POLICY_VIOLATION, status.reason());
    }
  }

  @Test
  void senderRestartedDuringAnUnansweredSubmissionEndsItAtDeadlinePlusGraceByItself(@TempDir Path dir)
      throws Exception {
    // alice posts through dead.example, which runs on no node: she is stuck in phase 1, resending.
    String id = UUID.randomUUID().toString();
    var journal = EngineNode.embeddedJournal(dir);
    try (EngineNode node = EngineNode.start(network, clock, ALL, journal, null)) {
      MailStatus submitted = org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(node.system)
          .entityRefFor(OutboxEntry.typeKey(ALICE), EntityKind.entityId(ALICE, id))
          .<MailStatus>ask(replyTo -> new OutboxEntry.Submit(TestNetwork.GINA, mail().toByteArray(), deadline(),
              Flavour.CEM, TestNetwork.DEAD, replyTo), WAIT) // a fresh journal's first writes can be slow
          .toCompletableFuture().get();
      assertEquals(DeliveryStatus.SUBMITTED, submitted.status());
    }
    clock.advance(Duration.ofMinutes(15)); // T plus grace passes while no node runs
    JournalTampering rows = new JournalTampering(journal.withFallback(com.typesafe.config.ConfigFactory.load()).resolve());
    String persistenceId = EntityKind.entityId(ALICE, id);
    try (EngineNode restarted = EngineNode.start(network, clock, ALL, journal, null)) {
      // Nobody asks about the mail: alice's entry is woken by its reminder and ends the stage.
      EngineNode.awaitCondition(() -> unanswered(rows, persistenceId), WAIT, "the submission concluded unanswered");
      assertEquals(DeliveryStatus.NOT_POSTED, restarted.engine.status(ALICE, id).toCompletableFuture().get().status());
    }
  }

  private static boolean unanswered(JournalTampering rows, String persistenceId) {
    try {
      return rows.rows(persistenceId).stream().anyMatch(row -> row.manifest().equals("outbox.v1/submission_unanswered"));
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void originDownWhileTheDeliveringServerReportsStillEndsInDelivery(@TempDir Path dir) throws Exception {
    var journal = EngineNode.embeddedJournal(dir);
    List<String> origins = List.of(ALPHA, RELAY, GAMMA, DELTA);
    EngineNode senders = EngineNode.start(network, clock, origins, journal, null);
    try (EngineNode beta = EngineNode.start(network, clock, List.of(BETA), journal, senders.address())) {
      String id = UUID.randomUUID().toString();
      senders.engine.submit(ALICE, id, CAROL, mail(), deadline(), Flavour.IP).toCompletableFuture().get();
      String label = EngineNode.await(() -> senders.engine.status(ALICE, id), s -> !s.label().isEmpty(), WAIT,
          "COP").label();
      EngineNode.await(() -> beta.engine.inboxEntry(CAROL, label), v -> v.status() == RecipientView.Status.AWAITING_DECISION,
          WAIT, "carol notified");
      senders.close(); // P1 (and A) go down: phase 4 has nobody to report to
      beta.engine.accept(CAROL, label).toCompletableFuture().get();
      // Pn releases the content only once it holds the COD and has signed ROD_n: from then on it
      // resends its report into the void.
      EngineNode.await(() -> beta.engine.inboxEntry(CAROL, label), v -> v.status() == RecipientView.Status.RETRIEVED,
          WAIT, "carol holding the content");
      try (EngineNode sendersAgain = EngineNode.start(network, clock, origins, journal, beta.address())) {
        // Pn's report reaches P1 with its next resend, which falls due as time passes.
        MailStatus status = EngineNode.awaitWhileTimePasses(clock, Duration.ofMillis(200),
            () -> sendersAgain.engine.status(ALICE, id), MailStatus::isFinal, WAIT, "the verdict once the origin is back");
        assertEquals(DeliveryStatus.DELIVERED, status.status());
      }
    } finally {
      senders.close();
    }
  }

  private long deadline() {
    return clock.millis() + Duration.ofMinutes(10).toMillis();
  }

  private static MailItem mail() {
    return MailItem.newBuilder().setSubject("survives").setBody("a crash").build();
  }
}
