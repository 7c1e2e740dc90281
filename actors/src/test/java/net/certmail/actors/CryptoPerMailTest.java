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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import net.certmail.crypto.SignatureCounts;
import net.certmail.crypto.SignatureCounts.Use;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.Flavour;
import net.certmail.protocol.Outgoing;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What one mail costs in signatures, when nothing is lost: a count, not a timing, so that a change
 * that signs or verifies more than the protocol needs fails here. Mails go one at a time from
 * alice to bob (auto-accept) over alpha -> relay -> beta, on a clock that stands still (no resend
 * falls due); each mail's cost is read once all its entities have finished and gone to sleep.
 *
 * <p>The protocol's own cost over three servers: every message is sealed once by its sender and
 * opened once by its addressee; every evidence item is signed once by its issuer and verified
 * once by each principal that acts on it or keeps it.
 */
@ExtendWith(LogCapturingExtension.class)
class CryptoPerMailTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int MAILS = 3;

  static TestNetwork network;
  static ManualClock clock;
  static EngineNode node;
  static final Map<String, LongAdder> sent = new ConcurrentHashMap<>();

  @BeforeAll
  static void startNode() {
    network = new TestNetwork();
    clock = new ManualClock(Instant.now());
    node = EngineNode.start(network, clock, TestNetwork.RUNNING_ORGANISATIONS, EngineNode.inMemoryJournal(), null,
        ConfigFactory.empty(), CryptoPerMailTest::recording);
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  /** Counts each message an entity sends, by sender and kind, before the postman seals it. */
  private static Transport recording(Transport postman) {
    return (from, outgoing) -> {
      sent.computeIfAbsent(from + " " + kindOf(outgoing), any -> new LongAdder()).increment();
      postman.send(from, outgoing);
    };
  }

  private static String kindOf(Outgoing outgoing) {
    return outgoing.message().getMessageCase().name();
  }

  /**
   * CEM: 12 messages (A: submission, receipt; P1: COP, relay, verdict, receipt to Pn; relay: ACK,
   * relay; Pn: ACK, delivery, report; B: COD; the progress note goes only with a held mail), each sealed and
   * opened once; 6 evidence items signed (COP, ACK_1, ACK_2, COD, ROD_n, ROD) and 11 verified (the
   * COP by A, relay and Pn; each ACK by the hop before; the COD by Pn, P1 and A; ROD_n by P1 and A;
   * ROD by A). NSR and IP: the notification instead of the delivery, plus M pushed with its
   * content handover (one message, one item signed by Pn and verified by B).
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = Flavour.class, names = {"CEM", "NSR", "IP"})
  void aMailOverThreeServersCostsWhatTheProtocolNeeds(Flavour flavour) throws Exception {
    boolean cem = flavour == Flavour.CEM;
    Map<String, Long> messages = new TreeMap<>(Map.ofEntries(
        Map.entry(ALICE + " SUBMISSION", 1L), Map.entry(ALICE + " RECEIPT", 1L),
        Map.entry(ALPHA + " COP_REPLY", 1L), Map.entry(ALPHA + " RELAY", 1L),
        Map.entry(ALPHA + " DELIVERY_REPORT", 1L), Map.entry(ALPHA + " RECEIPT", 1L),
        Map.entry(RELAY + " RELAY_ACK", 1L), Map.entry(RELAY + " RELAY", 1L),
        Map.entry(BETA + " RELAY_ACK", 1L),
        Map.entry(BETA + " DELIVERY_REPORT", 1L), Map.entry(BOB + " COD_REPLY", 1L)));
    if (cem) {
      messages.put(BETA + " DELIVERY", 1L);
    } else {
      messages.put(BETA + " NOTIFICATION", 1L);
      messages.put(BETA + " CONTENT", 1L);
    }
    long envelopes = cem ? 12 : 13;
    Cost expected = new Cost(envelopes, envelopes, cem ? 6 : 7, cem ? 11 : 12, 0, messages);
    for (int mail = 0; mail < MAILS; mail++) {
      long writtenBefore = rows(ReminderMetrics.ROWS_WRITTEN);
      Cost cost = deliverOne(flavour);
      // The first mail of the run may validate each principal's certificate chain once (then cached).
      assertEquals(expected, mail == 0 ? cost.withoutPaths() : cost, flavour + " mail " + mail);
      // An entity writes the row of its first duty before the events that create it (B's in CEM
      // concludes with its first decision: none). It moves none while awake (its timer does the
      // work) nor while it lingers before a sleep: the mail concludes within the linger, so the
      // early row that covers every later duty is the only one (before: 7 and 8, with the rows
      // moved to the far instants of the entities going to sleep, and written again when work
      // came nearer than those).
      assertEquals(cem ? 4 : 5, rows(ReminderMetrics.ROWS_WRITTEN) - writtenBefore,
          flavour + " mail " + mail + ": reminder rows written");
      assertEquals(List.of(), reminderRows(), flavour + " mail " + mail + ": a concluded mail leaves no reminder row");
    }
  }

  private static List<net.certmail.persistence.reminders.Reminder> reminderRows() throws Exception {
    try (var reminders = net.certmail.persistence.reminders.JdbcReminderStore.open(network.reminderDatabase, "sa", "",
        Duration.ofMinutes(1).toMillis())) {
      List<net.certmail.persistence.reminders.Reminder> rows = new java.util.ArrayList<>();
      for (String organisation : List.of(ALPHA, RELAY, BETA)) {
        rows.addAll(reminders.dueBy(organisation, Long.MAX_VALUE, 100).toCompletableFuture().get());
      }
      return rows;
    }
  }

  private static long rows(String meter) {
    return (long) node.registry.get(meter).counter().count();
  }

  private Cost deliverOne(Flavour flavour) throws Exception {
    awaitQuiet();
    Cost before = Cost.now();
    String id = UUID.randomUUID().toString();
    node.engine.submit(ALICE, id, BOB, MailScenarios.mail(flavour + " for the count"),
        clock.millis() + Duration.ofMinutes(10).toMillis(), flavour).toCompletableFuture().get(10, TimeUnit.SECONDS);
    MailStatus status = EngineNode.await(() -> node.engine.status(ALICE, id), MailStatus::isFinal, WAIT, "a verdict");
    assertEquals(DeliveryStatus.DELIVERED, status.status());
    awaitQuiet();
    return Cost.now().minus(before);
  }

  /** Until no entity runs (each has passivated with nothing owed) and nothing was sent meanwhile. */
  private static void awaitQuiet() {
    EngineNode.awaitCondition(() -> {
      Map<String, Long> messages = snapshot(sent);
      boolean idle = List.of(ALICE, BOB).stream().allMatch(m -> node.runningEntities(OutboxEntry.typeKey(orgOf(m))).isEmpty()
              && node.runningEntities(InboxEntry.typeKey(orgOf(m))).isEmpty())
          && List.of(ALPHA, RELAY, BETA).stream().allMatch(s -> node.runningEntities(MailServer.typeKey(s)).isEmpty());
      return idle && messages.equals(snapshot(sent));
    }, WAIT, "every entity of the mail asleep");
  }

  private static String orgOf(String mailbox) {
    return net.certmail.protocol.Routing.organisationOf(mailbox);
  }

  private static Map<String, Long> snapshot(Map<String, LongAdder> counters) {
    Map<String, Long> copy = new TreeMap<>();
    counters.forEach((key, value) -> copy.put(key, value.sum()));
    return copy;
  }

  /** Signatures by use and the messages sent, by sender and kind. */
  record Cost(long envelopesSealed, long envelopesOpened, long evidenceSigned, long evidenceVerified,
              long pathsValidated, Map<String, Long> messages) {
    static Cost now() {
      return new Cost(SignatureCounts.made(Use.ENVELOPE), SignatureCounts.checked(Use.ENVELOPE),
          SignatureCounts.made(Use.EVIDENCE), SignatureCounts.checked(Use.EVIDENCE), SignatureCounts.pathsValidated(),
          snapshot(sent));
    }

    Cost withoutPaths() {
      return new Cost(envelopesSealed, envelopesOpened, evidenceSigned, evidenceVerified, 0, messages);
    }

    Cost minus(Cost earlier) {
      Map<String, Long> delta = new TreeMap<>();
      messages.forEach((key, count) -> {
        long d = count - earlier.messages.getOrDefault(key, 0L);
        if (d != 0) {
          delta.put(key, d);
        }
      });
      return new Cost(envelopesSealed - earlier.envelopesSealed, envelopesOpened - earlier.envelopesOpened,
          evidenceSigned - earlier.evidenceSigned, evidenceVerified - earlier.evidenceVerified,
          pathsValidated - earlier.pathsValidated, delta);
    }
  }
}
