package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.ALPHA;
import static net.certmail.actors.TestNetwork.BETA;
import static net.certmail.actors.TestNetwork.BOB;
import static net.certmail.actors.TestNetwork.RELAY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.recipient.RecipientView;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Mails as large as the submission policy admits cross real Artery TCP connections: three servers
 * (alpha.example, relay.example, beta.example) on three ActorSystems joined over 127.0.0.1, with
 * the engine's shipped {@code max-content-size} (1 MiB) instead of the test network's 64 KiB.
 * Artery's ordinary channel carries at most 256 KiB a message; without the large-message channel
 * of {@code certmail-artery.conf} every relay attempt is dropped by the sender's encoder and the
 * mail ends NOT_DELIVERED (RELAY_UNREACHABLE) although it was accepted with a COP.
 */
@ExtendWith(LogCapturingExtension.class)
class LargeMailTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  /** The limit every node ships with (reference.conf), not the test network's. */
  static final int MAX_CONTENT = (int) ConfigFactory.defaultReference()
      .getBytes("certmail.engine.max-content-size").longValue();

  static TestNetwork network;
  static ManualClock clock;
  static EngineNode alpha;
  static EngineNode relay;
  static EngineNode beta;
  static EvidenceVerifier verifier;

  @BeforeAll
  static void startThreeNodes() {
    network = new TestNetwork();
    clock = new ManualClock(Instant.now());
    Config shippedLimit = ConfigFactory.parseString("certmail.engine.max-content-size = " + MAX_CONTENT);
    alpha = EngineNode.start(network, clock, List.of(ALPHA), EngineNode.inMemoryJournal(), null, shippedLimit);
    relay = EngineNode.start(network, clock, List.of(RELAY), EngineNode.inMemoryJournal(), alpha.address(),
        shippedLimit);
    beta = EngineNode.start(network, clock, List.of(BETA), EngineNode.inMemoryJournal(), alpha.address(),
        shippedLimit);
    verifier = new EvidenceVerifier(network.trustStore());
  }

  @AfterAll
  static void stopNodes() {
    for (EngineNode node : new EngineNode[] {beta, relay, alpha}) {
      if (node != null) {
        node.close();
      }
    }
  }

  @Test
  void theShippedLimitIsOneMebibyte() {
    assertEquals(1024 * 1024, MAX_CONTENT, "the tests below are about 1 MiB mails; update their names if this changes");
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = Flavour.class, names = {"CEM", "NSR", "IP"})
  void mailOfExactlyMaxContentSizeIsDeliveredOverThreeNodes(Flavour flavour) throws Exception {
    MailItem item = mailOfSize(MAX_CONTENT, flavour.name());
    byte[] content = item.toByteArray();
    assertEquals(MAX_CONTENT, content.length);
    String id = UUID.randomUUID().toString();

    long start = System.nanoTime();
    MailStatus submitted = alpha.engine.submit(ALICE, id, BOB, item, deadline(), flavour)
        .toCompletableFuture().get(15, TimeUnit.SECONDS);
    assertEquals(DeliveryStatus.SUBMITTED, submitted.status());
    MailStatus status = EngineNode.await(() -> alpha.engine.status(ALICE, id), MailStatus::isFinal, WAIT,
        "a verdict for the " + flavour + " mail of " + MAX_CONTENT + " bytes");
    long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();

    assertEquals(DeliveryStatus.DELIVERED, status.status(), "reason: " + status.reason());
    List<EvidenceStatement> evidence = verified(status.evidence());
    assertEquals(List.of(EvidenceKind.COP, EvidenceKind.ROD_N, EvidenceKind.COD, EvidenceKind.ROD),
        evidence.stream().map(EvidenceStatement::getKind).toList());
    assertEquals(3, evidence.get(0).getRouteCount());
    assertEquals(BETA, evidence.get(1).getIssuer());
    byte[] expectedHash = switch (flavour) {
      case CEM -> ContentHash.of(content);
      case IP -> ContentHash.labelled(status.label(), content);
      default -> new byte[0];
    };
    assertArrayEquals(expectedHash, evidence.get(2).getContentHash().toByteArray());

    // Bob holds M at beta.example; read from alpha's node, the answer of his entry (M inside)
    // crosses Artery once more, to the asking node's temporary actor.
    InboxView atBeta = EngineNode.await(() -> beta.engine.inboxEntry(BOB, status.label()),
        view -> view.status() == RecipientView.Status.RETRIEVED, WAIT, "bob holding the content");
    assertArrayEquals(content, atBeta.content());
    InboxView fromAlpha = alpha.engine.inboxEntry(BOB, status.label()).toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertArrayEquals(content, fromAlpha.content());
    System.out.printf("large mail: %s, %d bytes over 3 nodes, DELIVERED in %d ms%n", flavour, content.length, millis);
  }

  /**
   * Content over the limit, submitted through beta's node: the submission itself crosses Artery to
   * alice's outbox at alpha.example, which must see it to have it refused with a signed rejection.
   * One byte over, and as much as one large frame carries with 64 KiB to spare (the node's HTTP
   * limit, certmail.http.max-request-size, stays below that: NodeConfigurationTest).
   */
  @ParameterizedTest(name = "{0} bytes")
  @MethodSource("oversizes")
  void contentOverMaxContentSizeIsRefusedWithMessageTooLarge(int size) throws Exception {
    MailItem item = mailOfSize(size, "too large");
    String id = UUID.randomUUID().toString();
    beta.engine.submit(ALICE, id, BOB, item, deadline(), Flavour.CEM).toCompletableFuture().get(15, TimeUnit.SECONDS);
    MailStatus status = EngineNode.await(() -> alpha.engine.status(ALICE, id), MailStatus::isFinal, WAIT,
        "the rejection of " + size + " bytes");
    assertEquals(DeliveryStatus.NOT_DELIVERED, status.status());
    assertEquals(ReasonCode.MESSAGE_TOO_LARGE, status.reason());
    EvidenceStatement rejection = verified(status.evidence()).get(0);
    assertEquals(EvidenceKind.SUBMISSION_REJECTION, rejection.getKind());
    assertEquals(ALPHA, rejection.getIssuer());
    assertEquals(id, rejection.getSubmissionId());
    assertEquals("", status.label(), "no label is issued for a refused submission");
  }

  static Stream<Integer> oversizes() {
    long largeFrame = EngineNode.artery().getBytes("pekko.remote.artery.advanced.maximum-large-frame-size");
    return Stream.of(MAX_CONTENT + 1, (int) (largeFrame - 64 * 1024));
  }

  /** A mail item whose protobuf encoding (what max-content-size limits) is exactly {@code bytes} long. */
  static MailItem mailOfSize(int bytes, String subject) {
    Random random = new Random(bytes);
    MailItem.Builder builder = MailItem.newBuilder().setSubject(subject)
        .setContentType("text/plain; charset=us-ascii");
    int bodyLength = bytes - builder.build().getSerializedSize();
    while (true) {
      int size = builder.setBody(letters(random, bodyLength)).build().getSerializedSize();
      if (size == bytes) {
        return builder.build();
      }
      bodyLength += bytes - size;
    }
  }

  private static String letters(Random random, int length) {
    char[] chars = new char[length];
    for (int i = 0; i < length; i++) {
      chars[i] = (char) ('a' + random.nextInt(26));
    }
    return new String(chars);
  }

  static List<EvidenceStatement> verified(List<byte[]> items) throws Exception {
    List<EvidenceStatement> result = new ArrayList<>();
    for (byte[] item : items) {
      result.add(verifier.verify(SignedEvidence.parseFrom(item)).statement());
    }
    return result;
  }

  static long deadline() {
    return clock.millis() + Duration.ofMinutes(10).toMillis();
  }
}
