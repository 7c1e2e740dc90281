package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.ALPHA;
import static net.certmail.actors.TestNetwork.BETA;
import static net.certmail.actors.TestNetwork.BOB;
import static net.certmail.actors.TestNetwork.DELTA;
import static net.certmail.actors.TestNetwork.GAMMA;
import static net.certmail.actors.TestNetwork.RELAY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.certmail.crypto.EnvelopeSealer;
import net.certmail.persistence.JournalBackend;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.Submission;
import net.certmail.protocol.Labels;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An old envelope replayed to an entity that a failover moved to another node. The replay guard
 * that refuses an envelope id it has seen is per node and in memory, so the node the entity moves
 * to has never seen the envelope: what must hold is that the entity's persisted state turns the
 * replay into a no-op (no event, no new evidence), and that an envelope older than the guard's
 * memory is refused as stale on any node. Through real signed envelopes, real sharding, two nodes
 * of alpha.example on one embedded journal.
 */
class ReplayAfterFailoverAttackTest {
  static final Duration WAIT = Duration.ofSeconds(30);

  final TestNetwork network = new TestNetwork();
  final ManualClock clock = new ManualClock(java.time.Instant.now());

  @Test
  void aSubmissionReplayedAfterFailoverChangesNothingAndAnOldOneIsStaleEverywhere(@TempDir Path dir) throws Exception {
    var journal = EngineNode.embeddedJournal(dir);
    try (EngineNode others = EngineNode.start(network, clock, List.of(RELAY, BETA, GAMMA, DELTA), journal, null)) {
      EngineNode alphaOne = EngineNode.start(network, clock, List.of(ALPHA), journal, others.address());
      EngineNode alphaTwo = EngineNode.start(network, clock, List.of(ALPHA), journal, others.address());
      try {
        // alice's submission, sealed with her key: the envelope an eavesdropper or a dishonest
        // party on the path keeps, byte for byte.
        String submissionId = "replayed-order";
        byte[] envelope = new EnvelopeSealer(network.keys.get(ALICE), clock).seal(ALPHA, ProtocolMessage.newBuilder()
            .setSubmission(Submission.newBuilder().setSubmissionId(submissionId).setSender(ALICE).setRecipient(BOB)
                .setContent(ByteString.copyFromUtf8("pay bob 100")).setFlavour(Flavour.CEM)
                .setDeadlineMillis(clock.millis() + Duration.ofMinutes(10).toMillis()))
            .build()).toByteArray();
        String label = Labels.forSubmission(ALPHA, ALICE, submissionId);
        String entityId = EntityKind.entityId(ALPHA, label);
        deliver(others, entityId, envelope);

        // The mail goes the whole way: P1 holds the COD and publishes its ROD.
        MailServer.PublicEvidence published = EngineNode.await(() -> others.engine.publicEvidence(ALPHA, label),
            evidence -> evidence.evidence().size() >= 3, WAIT, "P1's COP, ROD and COD");
        long events = events(others, entityId);
        assertTrue(events >= 3, "P1 persisted the mail's way: " + events + " events");

        // Replayed to the node that processed it: that node's guard remembers the id.
        EngineNode hosting = alphaOne.holdsShardOf(MailServer.typeKey(ALPHA), entityId) ? alphaOne : alphaTwo;
        EngineNode remaining = hosting == alphaOne ? alphaTwo : alphaOne;
        double replayedBefore = hosting.engine.metrics().rejectedCount("REPLAYED");
        deliver(others, entityId, envelope);
        EngineNode.awaitCondition(() -> hosting.engine.metrics().rejectedCount("REPLAYED") > replayedBefore, WAIT,
            "the hosting node's guard refused the replay");

        // Failover: the entity comes back on the other node, whose guard has never seen the envelope.
        hosting.close();
        deliver(others, entityId, envelope);
        EngineNode.awaitCondition(() -> remaining.holdsShardOf(MailServer.typeKey(ALPHA), entityId), WAIT,
            "P1's entity on the remaining node");
        // The most a replay may make P1 do is resend the COP it holds. A question sent after it from the
        // same node reaches the entity after it (sharding keeps one sender's order): once answered, the
        // replay was handled.
        MailServer.PublicEvidence after = EngineNode.await(() -> others.engine.publicEvidence(ALPHA, label),
            evidence -> true, WAIT, "P1 answers after the replay");
        assertEquals(0.0, remaining.engine.metrics().rejectedCount("REPLAYED"),
            "the remaining node's guard let the replay through: the entity's state is the defence");
        assertEquals(events, events(others, entityId), "the replay persisted nothing");
        assertEquals(evidence(published), evidence(after), "the replay made no new evidence");

        // Past the freshness window (no longer than the guard's memory) every node refuses it as stale.
        clock.advance(Duration.ofMinutes(6));
        double staleBefore = remaining.engine.metrics().rejectedCount("STALE");
        deliver(others, entityId, envelope);
        EngineNode.awaitCondition(() -> remaining.engine.metrics().rejectedCount("STALE") > staleBefore, WAIT,
            "the remaining node refused the old envelope as stale");
        assertEquals(events, events(others, entityId));
      } finally {
        alphaOne.close();
        alphaTwo.close();
      }
    }
  }

  /** Sends raw envelope bytes to P1's entity, as any cluster member can. */
  private static void deliver(EngineNode from, String entityId, byte[] envelope) {
    ClusterSharding.get(from.system).entityRefFor(MailServer.typeKey(ALPHA), entityId).tell(new Inbound(envelope));
  }

  private static long events(EngineNode node, String persistenceId) throws Exception {
    CurrentEventsByPersistenceIdQuery journal = PersistenceQuery.get(node.system).getReadJournalFor(
        CurrentEventsByPersistenceIdQuery.class, JournalBackend.EMBEDDED.readJournalPluginId());
    return journal.currentEventsByPersistenceId(persistenceId, 0L, Long.MAX_VALUE)
        .runWith(Sink.<EventEnvelope>seq(), node.system).toCompletableFuture().get(15, TimeUnit.SECONDS).size();
  }

  private static List<ByteString> evidence(MailServer.PublicEvidence published) {
    return published.evidence().stream().map(ByteString::copyFrom).toList();
  }
}
