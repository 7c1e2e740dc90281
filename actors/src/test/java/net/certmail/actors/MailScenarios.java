package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.BOB;
import static net.certmail.actors.TestNetwork.CAROL;
import static net.certmail.actors.TestNetwork.DAN;
import static net.certmail.actors.TestNetwork.DAVE;
import static net.certmail.actors.TestNetwork.ERIN;
import static net.certmail.actors.TestNetwork.GINA;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import net.certmail.protocol.recipient.RecipientView;

/**
 * Real mails through a running engine, one of every kind the audit must accept: each flavour
 * delivered over routes of 1, 2 and 3 servers, held and accepted, refused, timed out, relayed to a
 * dead server and rejected at submission. Returns the label of each, by scenario name.
 */
final class MailScenarios {
  static final Duration WAIT = Duration.ofSeconds(30);
  /** Seen here: a new Cassandra keyspace's remember-entities store took ~30 s to take its first shard. */
  static final Duration COLD_JOURNAL_WAIT = Duration.ofSeconds(90);

  private final CertmailEngine engine;
  private final ManualClock clock;
  final Map<String, String> labels = new LinkedHashMap<>();

  MailScenarios(CertmailEngine engine, ManualClock clock) {
    this.engine = engine;
    this.clock = clock;
  }

  /** Every flavour's happy path: delivered, with the receipts. */
  MailScenarios deliveries() throws Exception {
    expect("cem-3-servers", BOB, Flavour.CEM, DeliveryStatus.DELIVERED);
    expect("nsr-2-servers", GINA, Flavour.NSR, DeliveryStatus.DELIVERED);
    expect("ip-1-server", ERIN, Flavour.IP, DeliveryStatus.DELIVERED);
    expect("ip-3-servers", BOB, Flavour.IP, DeliveryStatus.DELIVERED);
    expect("cem-1-server", ERIN, Flavour.CEM, DeliveryStatus.DELIVERED);
    expect("nsr-3-servers", BOB, Flavour.NSR, DeliveryStatus.DELIVERED);
    return this;
  }

  /** A held NSR mail the recipient accepts: content released only after the COD. */
  MailScenarios heldAndAccepted() throws Exception {
    String id = submit(CAROL, Flavour.NSR);
    String label = EngineNode.await(() -> engine.status(ALICE, id), s -> !s.label().isEmpty(), WAIT, "COP").label();
    EngineNode.await(() -> engine.inboxEntry(CAROL, label), v -> v.status() == RecipientView.Status.AWAITING_DECISION, WAIT,
        "carol notified");
    engine.accept(CAROL, label).toCompletableFuture().get(10, TimeUnit.SECONDS);
    EngineNode.await(() -> engine.inboxEntry(CAROL, label), v -> v.status() == RecipientView.Status.RETRIEVED, WAIT,
        "carol holding the content");
    assertEquals(DeliveryStatus.DELIVERED, awaitFinal(id).status());
    labels.put("nsr-held-accepted", label);
    return this;
  }

  /** Refusals and timeouts: every kind of signed non-delivery. Moves the clock forward. */
  MailScenarios failures() throws Exception {
    expect("cem-refused", DAVE, Flavour.CEM, DeliveryStatus.NOT_DELIVERED);

    String held = submit(CAROL, Flavour.CEM);
    String heldLabel = EngineNode.await(() -> engine.status(ALICE, held), s -> !s.label().isEmpty(), WAIT, "COP")
        .label();
    EngineNode.await(() -> engine.inboxEntry(CAROL, heldLabel), v -> v.status() == RecipientView.Status.AWAITING_DECISION, WAIT,
        "carol notified");
    clock.advance(Duration.ofMinutes(6)); // past the delivery timeout
    assertEquals(ReasonCode.RECIPIENT_DID_NOT_ACKNOWLEDGE, awaitFinal(held).reason());
    labels.put("cem-not-acknowledged", heldLabel);

    String dead = submit(DAN, Flavour.IP);
    String deadLabel = EngineNode.await(() -> engine.status(ALICE, dead), s -> !s.label().isEmpty(), WAIT, "COP")
        .label();
    clock.advance(Duration.ofMinutes(3)); // past the relay timeout
    assertEquals(ReasonCode.RELAY_UNREACHABLE, awaitFinal(dead).reason());
    labels.put("ip-relay-unreachable", deadLabel);

    String tooSoon = UUID.randomUUID().toString();
    engine.submit(ALICE, tooSoon, BOB, mail("too soon"), clock.millis() + 10_000, Flavour.CEM)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(ReasonCode.DEADLINE_NOT_ACCEPTABLE, awaitFinal(tooSoon).reason());
    return this;
  }

  private void expect(String name, String recipient, Flavour flavour, DeliveryStatus status) throws Exception {
    String id = submit(recipient, flavour);
    MailStatus result = awaitFinal(id);
    assertEquals(status, result.status(), name + ": " + result);
    labels.put(name, result.label());
  }

  private String submit(String recipient, Flavour flavour) {
    String id = UUID.randomUUID().toString();
    submitUntilTaken(engine, id, recipient, mail(flavour + " to " + recipient),
        clock.millis() + Duration.ofMinutes(10).toMillis(), flavour);
    return id;
  }

  /**
   * Submits as a client would: again with the same id, content and deadline (the same mail) until
   * the engine answers. A cold journal (a new Cassandra keyspace on a busy machine) can keep the
   * first answer past the engine's ask timeout.
   */
  static MailStatus submitUntilTaken(CertmailEngine engine, String id, String recipient, MailItem item,
                                     long deadlineMillis, Flavour flavour) {
    return EngineNode.await(() -> engine.submit(ALICE, id, recipient, item, deadlineMillis, flavour),
        status -> true, COLD_JOURNAL_WAIT, "submission " + id + " taken");
  }

  private MailStatus awaitFinal(String id) {
    return EngineNode.await(() -> engine.status(ALICE, id), MailStatus::isFinal, WAIT, "a verdict for " + id);
  }

  static MailItem mail(String subject) {
    return MailItem.newBuilder().setSubject(subject).setBody("Dear recipient, " + subject + ".")
        .setContentType("text/plain; charset=utf-8").build();
  }
}
