package net.certmail.protocol.recipient;

import com.google.protobuf.ByteString;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.proto.v1.CodReply;
import net.certmail.proto.v1.Content;
import net.certmail.proto.v1.ContentFetch;
import net.certmail.proto.v1.ContentRetrieved;
import net.certmail.proto.v1.DecisionConfirmed;
import net.certmail.proto.v1.Delivery;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.Notification;
import net.certmail.proto.v1.NotificationHeld;
import net.certmail.proto.v1.NotificationReceived;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.Receipt;
import net.certmail.proto.v1.ReceiptRefused;
import net.certmail.proto.v1.ReceiptSigned;
import net.certmail.proto.v1.RecipientRefusal;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Entitlements;
import net.certmail.protocol.Input;
import net.certmail.protocol.Input.Received;
import net.certmail.protocol.Input.WakeUp;
import net.certmail.protocol.Labels;
import net.certmail.protocol.MailFacts;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.RoleMachine;
import net.certmail.protocol.Routing;
import net.certmail.protocol.Signatures;
import net.certmail.protocol.Timings;
import net.certmail.protocol.recipient.RecipientStage.Acknowledged;
import net.certmail.protocol.recipient.RecipientStage.Decided;
import net.certmail.protocol.recipient.RecipientStage.Empty;
import net.certmail.protocol.recipient.RecipientStage.Held;
import net.certmail.protocol.recipient.RecipientStage.Notified;
import net.certmail.protocol.recipient.RecipientStage.Refused;
import net.certmail.protocol.recipient.RecipientStage.Retrieval;

/**
 * B's role for one label (the paper's mailbox program B): the delivery phase, steps 5 to 7.
 *
 * <ul>
 *   <li>Only B's home server, the last server of every route to B, may notify B. The first
 *       notification takes the label lock: a later one for L with another hash, flavour or
 *       sender is ignored (LABEL_LOCKED); a repeated one is answered again with B's COD or
 *       refusal, since the agent resends until it has one.
 *   <li>In CEM the content comes with the delivery; in NSR and IP only after the COD.
 *   <li>While the owner decides, B answers each notification with NotificationHeld: the agent
 *       stops resending and sleeps until its cut-off. A decision taken on a held mail is then
 *       resent by B until the agent confirms it (its Receipt, or in NSR and IP the content).
 *   <li>The COD carries the flavour's hash: H(M), nothing, or the notified H(L,M). B signs it only
 *       until the deadline the agent told it (and before T); later the owner is told until when
 *       it was possible.
 *   <li>Once B holds a COD, M must stay obtainable: in NSR and IP the agent pushes it when it
 *       takes the COD, and B fetches it on the resend schedule from the instant it signed (the
 *       first fetch one retry after the COD, in case the push was lost), until A may declare the
 *       mail lost (T + grace). Content is taken only with the agent's
 *       content handover for this label and B, over exactly this content, and in IP only when
 *       H(L,M) is the notified hash; anything else is ignored and the fetching goes on.
 * </ul>
 */
public final class RecipientMachine implements RoleMachine<RecipientStage, InboxEvent> {
  private static final int SHA256_LENGTH = 32;

  /** The owner signs the COD of a held mail. */
  public enum Accept implements Input { INSTANCE }

  /** The owner refuses a held mail; {@code reason} is recorded in the signed refusal. */
  public record Refuse(String reason) implements Input {}

  private final String mailbox;
  private final String label;
  private final String homeServer;
  private final MailboxPolicy policy;
  private final Timings timings;
  private final Signatures signatures;

  public RecipientMachine(String mailbox, String label, MailboxPolicy policy, Timings timings, Signatures signatures) {
    this.mailbox = mailbox;
    this.label = label;
    this.homeServer = Routing.domainOf(mailbox);
    this.policy = policy;
    this.timings = timings;
    this.signatures = signatures;
  }

  @Override
  public RecipientStage empty() {
    return new Empty();
  }

  // ---- the stage after an event (replay) ----

  @Override
  public RecipientStage apply(RecipientStage stage, InboxEvent event) {
    return after(stage, event);
  }

  /** The stage after an event; needs nothing of a machine (no keys, no settings), so an audit replays with it. */
  public static RecipientStage after(RecipientStage stage, InboxEvent event) {
    return switch (event.getEventCase()) {
      case NOTIFICATION_RECEIVED -> new Held(event.getNotificationReceived());
      case RECEIPT_SIGNED -> {
        ReceiptSigned signed = event.getReceiptSigned();
        yield new Acknowledged(expect(stage, Held.class, event).notice(), signed.getCod(), signedAt(signed),
            Optional.empty(), signed.getAfterHold());
      }
      case RECEIPT_REFUSED -> {
        ReceiptRefused refused = event.getReceiptRefused();
        yield new Refused(expect(stage, Held.class, event).notice(), refused.getRefusal(),
            refused.getRefusedAtMillis() != 0 ? refused.getRefusedAtMillis() : issuedAt(refused.getRefusal()),
            refused.getAfterHold());
      }
      case DECISION_CONFIRMED -> {
        Decided decided = expect(stage, Decided.class, event);
        if (!decided.confirmationDue()) {
          throw new IllegalStateException("DECISION_CONFIRMED for a decision that awaits no confirmation");
        }
        yield decided instanceof Acknowledged acknowledged ? acknowledged.confirmed() : ((Refused) decided).confirmed();
      }
      case CONTENT_RETRIEVED -> expect(stage, Acknowledged.class, event).withRetrieval(new Retrieval(
          event.getContentRetrieved().getContent(), event.getContentRetrieved().getHandover()));
      case EVENT_NOT_SET -> throw new IllegalStateException("an inbox event without content");
    };
  }

  /** Journals written before signed_at_millis existed: the COD's own issue time, which is when B signed. */
  private static long signedAt(ReceiptSigned signed) {
    return signed.getSignedAtMillis() != 0 ? signed.getSignedAtMillis() : issuedAt(signed.getCod());
  }

  private static long issuedAt(SignedEvidence item) {
    try {
      return EvidenceStatement.parseFrom(item.getStatement()).getIssuedAtMillis();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return 0; // nextResend copes: the resend then comes at the longest interval
    }
  }

  private static <T extends RecipientStage> T expect(RecipientStage stage, Class<T> type, InboxEvent event) {
    if (!type.isInstance(stage)) {
      throw new IllegalStateException(event.getEventCase() + " in stage " + stage.getClass().getSimpleName());
    }
    return type.cast(stage);
  }

  // ---- what is due ----

  /**
   * Held waits for its owner. A decision has work to do while M is still to fetch (NSR, IP) or
   * while the agent, which may be asleep, has not confirmed it: both on the resend schedule from
   * the decision, until A may declare the mail lost (T + grace), when nobody needs either.
   */
  @Override
  public long dueAt(RecipientStage stage, long now) {
    if (stage instanceof Decided decided && owesWork(decided)) {
      long lost = timings.lostAfter(decided.notice().getDeadlineMillis());
      return now >= lost ? NEVER : Math.min(timings.nextResend(decided.decidedAtMillis(), now), lost);
    }
    return NEVER;
  }

  private static boolean owesWork(Decided decided) {
    return decided.confirmationDue() || decided instanceof Acknowledged acknowledged && !acknowledged.holdsContent();
  }

  // ---- decisions ----

  @Override
  public Decision<InboxEvent> decide(RecipientStage stage, Input input, long now) {
    if (input instanceof Received received) {
      return switch (received.message().getMessageCase()) {
        case DELIVERY, NOTIFICATION -> onNotification(stage, received.from(), received.message(), now);
        case CONTENT -> onContent(stage, received.from(), received.message().getContent());
        case RECEIPT -> onReceipt(stage, received.from(), received.message().getReceipt(), now);
        default -> Decision.ignore("UNEXPECTED_MESSAGE", received.message().getMessageCase() + " from "
            + received.from() + " to a recipient");
      };
    }
    if (input == Accept.INSTANCE) {
      return onAccept(stage, now);
    }
    if (input instanceof Refuse refuse) {
      return onRefuse(stage, refuse.reason(), now);
    }
    if (input == WakeUp.INSTANCE) {
      return onWakeUp(stage, now);
    }
    throw new IllegalArgumentException("not an input of the recipient: " + input);
  }

  // ---- step 5: the notification (CEM: the delivery with M) ----

  private Decision<InboxEvent> onNotification(RecipientStage stage, String from, ProtocolMessage message, long now) {
    if (!from.equals(homeServer)) {
      // The paper's B cannot tell agents apart; here every notification is signed, so a bogus
      // agent cannot even take the label lock first.
      return Decision.ignore("NOT_HOME_SERVER", message.getMessageCase() + " for " + label + " from " + from
          + ", not from " + homeServer);
    }
    Optional<NotificationReceived> notice = noticeOf(from, message, now);
    if (notice.isEmpty()) {
      return Decision.ignore("UNEXPECTED_MESSAGE", "malformed " + message.getMessageCase() + " for " + label);
    }
    if (!(stage instanceof Notified notified)) {
      return firstNotice(notice.get(), now);
    }
    if (!sameMail(notified.notice(), notice.get())) {
      return Decision.ignore("LABEL_LOCKED", "notification for " + label + " conflicts with the first one from "
          + notified.notice().getAgent() + " (another hash, flavour or sender)");
    }
    return Decision.send(answerOf(notified).toArray(Outgoing[]::new)); // the agent resent: answer again
  }

  private Decision<InboxEvent> firstNotice(NotificationReceived notice, long now) {
    InboxEvent notified = InboxEvent.newBuilder().setNotificationReceived(notice).build();
    Held held = new Held(notice);
    return switch (policy) {
      case HOLD -> Decision.<InboxEvent>persist(notified).andSend(answerOf(held));
      // Past the deadline it was told, B holds the mail as expired instead of signing in vain.
      case AUTO_ACCEPT -> held.expiredAt(now) ? Decision.persist(notified) : sign(held, List.of(notified), now);
      case REFUSE -> refuse(held, List.of(notified), "mailbox refuses certified mail", now);
    };
  }

  /** What B records of a notification or delivery: its own view of the mail, with the COD hash of its flavour. */
  private Optional<NotificationReceived> noticeOf(String agent, ProtocolMessage message, long now) {
    NotificationReceived.Builder notice = NotificationReceived.newBuilder().setLabel(label).setAgent(agent)
        .setReceivedAtMillis(now);
    if (message.hasDelivery()) {
      Delivery delivery = message.getDelivery();
      if (!delivery.getLabel().equals(label)) {
        return Optional.empty();
      }
      byte[] content = delivery.getContent().toByteArray();
      return Optional.of(notice.setSender(delivery.getSender()).setFlavour(Flavour.CEM)
          .setContent(delivery.getContent()).setContentSize(content.length)
          .setExpectedHash(ByteString.copyFrom(Entitlements.expectedCodHash(Flavour.CEM, label, content)))
          .setDeadlineMillis(delivery.getDeadlineMillis()).setCodDeadlineMillis(delivery.getCodDeadlineMillis())
          .build());
    }
    Notification notification = message.getNotification();
    boolean ip = notification.getFlavour() == Flavour.IP;
    if (!notification.getLabel().equals(label) || !(ip || notification.getFlavour() == Flavour.NSR)
        || ip && notification.getLabelledContentHash().size() != SHA256_LENGTH) {
      return Optional.empty();
    }
    // NSR: the COD carries no hash, whatever the notification says; IP: the notified H(L,M).
    ByteString codHash = ip ? notification.getLabelledContentHash()
        : ByteString.copyFrom(Entitlements.expectedCodHash(Flavour.NSR, label, new byte[0]));
    return Optional.of(notice.setSender(notification.getSender()).setFlavour(notification.getFlavour())
        .setExpectedHash(codHash).setContentSize(notification.getContentSize())
        .setDeadlineMillis(notification.getDeadlineMillis())
        .setCodDeadlineMillis(notification.getCodDeadlineMillis()).build());
  }

  /** The label lock: the same agent, flavour, sender and hash (CEM: H(M) of the delivered content). */
  private static boolean sameMail(NotificationReceived first, NotificationReceived again) {
    return again.getAgent().equals(first.getAgent()) && again.getFlavour() == first.getFlavour()
        && again.getSender().equals(first.getSender()) && again.getExpectedHash().equals(first.getExpectedHash());
  }

  // ---- step 6: the owner decides ----

  private Decision<InboxEvent> onAccept(RecipientStage stage, long now) {
    if (stage instanceof Held held) {
      return held.expiredAt(now) ? tooLate(held) : sign(held, List.of(), now);
    }
    if (stage instanceof Refused) {
      return Decision.refuse("the mail was refused");
    }
    if (stage instanceof Acknowledged) {
      return Decision.none(); // already signed
    }
    return Decision.refuse("no mail " + label);
  }

  private Decision<InboxEvent> onRefuse(RecipientStage stage, String reason, long now) {
    if (stage instanceof Held held) {
      return held.expiredAt(now) ? tooLate(held)
          : refuse(held, List.of(), reason == null || reason.isBlank() ? "refused by the owner" : reason, now);
    }
    if (stage instanceof Acknowledged) {
      return Decision.refuse("the certificate of delivery is already signed");
    }
    if (stage instanceof Refused) {
      return Decision.none(); // already refused
    }
    return Decision.refuse("no mail " + label);
  }

  /**
   * Past the deadline the agent told B, a decision can no longer change how the mail ends: the
   * agent gives up on B then and signs its non-delivery ("did not acknowledge"). Neither a COD nor
   * a refusal is signed, so the owner is never told "refused" for a mail that ends otherwise.
   */
  private Decision<InboxEvent> tooLate(Held held) {
    return Decision.refuse("too late: " + held.notice().getAgent() + " took a decision on " + label
        + " only until " + Instant.ofEpochMilli(held.acceptsUntilMillis())
        + "; it records the mail as not acknowledged by the recipient");
  }

  /** COD = sig_B(Pn, L, h), h per flavour: H(M), nothing, or H(L,M) (the notice's expected hash). */
  private Decision<InboxEvent> sign(Held held, List<InboxEvent> before, long now) {
    NotificationReceived notice = held.notice();
    SignedEvidence cod = signatures.sign(EvidenceStatements.cod(mailbox, notice.getAgent(), label, notice.getSender(),
        notice.getFlavour(), notice.getExpectedHash().toByteArray(), now));
    InboxEvent signed = InboxEvent.newBuilder().setReceiptSigned(ReceiptSigned.newBuilder().setCod(cod)
        .setSignedAtMillis(now).setAfterHold(afterHold(before))).build();
    return decided(held, before, signed);
  }

  private Decision<InboxEvent> refuse(Held held, List<InboxEvent> before, String reason, long now) {
    NotificationReceived notice = held.notice();
    SignedEvidence refusal = signatures.sign(EvidenceStatements.recipientRefusal(mailbox, notice.getAgent(), label,
        notice.getSender(), reason, now));
    return decided(held, before, InboxEvent.newBuilder().setReceiptRefused(ReceiptRefused.newBuilder()
        .setRefusal(refusal).setRefusedAtMillis(now).setAfterHold(afterHold(before))).build());
  }

  /**
   * A decision on the first notification answers the agent's own resends, which go on until it
   * has one. A decision on a mail already held may come after B told the agent it holds it (the
   * agent then sleeps), so B itself resends it until the agent confirms.
   */
  private static boolean afterHold(List<InboxEvent> before) {
    return before.isEmpty();
  }

  /**
   * Persists the decision, then tells the agent: the COD or the refusal. In NSR and IP no fetch
   * goes with the COD: the agent pushes M as soon as it takes the COD, so a first fetch would only
   * cost a second copy of M (two envelopes sealed and opened); B fetches on its resend schedule
   * from the instant it signed, when the push has not come.
   */
  private Decision<InboxEvent> decided(Held held, List<InboxEvent> before, InboxEvent decision) {
    List<InboxEvent> events = new ArrayList<>(before);
    events.add(decision);
    Notified next = (Notified) apply(held, decision);
    return Decision.<InboxEvent>persist(events).andSend(answerOf(next));
  }

  /**
   * B's answer to a (repeated) notification: its COD or refusal, or while the owner decides
   * that it holds the notification (so the agent may stop resending it).
   */
  private List<Outgoing> answerOf(Notified stage) {
    Addressee agent = Addressee.server(stage.notice().getAgent(), label);
    if (stage instanceof Held held) {
      NotificationReceived notice = held.notice();
      return List.of(new Outgoing(agent, ProtocolMessage.newBuilder().setNotificationHeld(NotificationHeld.newBuilder()
          .setLabel(label).setRecipient(mailbox).setSender(notice.getSender()).setFlavour(notice.getFlavour())
          .setExpectedHash(notice.getExpectedHash()).setDeadlineMillis(notice.getDeadlineMillis())
          .setCodDeadlineMillis(notice.getCodDeadlineMillis())).build()));
    }
    if (stage instanceof Acknowledged acknowledged) {
      return List.of(new Outgoing(agent, ProtocolMessage.newBuilder().setCodReply(CodReply.newBuilder()
          .setLabel(label).setCod(acknowledged.cod())).build()));
    }
    if (stage instanceof Refused refused) {
      return List.of(new Outgoing(agent, ProtocolMessage.newBuilder().setRecipientRefusal(RecipientRefusal
          .newBuilder().setLabel(label).setRefusal(refused.refusal())).build()));
    }
    return List.of();
  }

  // ---- step 7: M after the COD (NSR, IP) ----

  private Outgoing fetch(Acknowledged acknowledged) {
    return new Outgoing(Addressee.server(acknowledged.notice().getAgent(), label),
        ProtocolMessage.newBuilder().setContentFetch(ContentFetch.newBuilder().setLabel(label)).build());
  }

  /** The resend schedule of a decision: the unconfirmed decision again, the fetch of M (NSR, IP). */
  private Decision<InboxEvent> onWakeUp(RecipientStage stage, long now) {
    if (!(stage instanceof Decided decided) || !owesWork(decided)) {
      return Decision.none();
    }
    long lost = timings.lostAfter(decided.notice().getDeadlineMillis());
    if (now >= lost) {
      return Decision.ignore("TOO_LATE", "gave up on " + label + " at " + Instant.ofEpochMilli(lost) + ": agent "
          + decided.notice().getAgent() + (decided.confirmationDue() ? " never confirmed B's decision"
              : " never released the content although it holds B's COD"));
    }
    List<Outgoing> messages = new ArrayList<>();
    if (decided.confirmationDue()) {
      messages.addAll(answerOf(decided));
    }
    if (decided instanceof Acknowledged acknowledged && !acknowledged.holdsContent()) {
      messages.add(fetch(acknowledged));
    }
    return Decision.send(messages.toArray(Outgoing[]::new));
  }

  /** The agent's receipt for B's decision (it holds the COD or refusal): B stops resending it. */
  private Decision<InboxEvent> onReceipt(RecipientStage stage, String from, Receipt receipt, long now) {
    if (!(stage instanceof Decided decided) || !decided.confirmationDue()) {
      return Decision.none(); // nothing to confirm, or confirmed already
    }
    String expected = decided instanceof Acknowledged ? "cod_reply" : "recipient_refusal";
    if (!from.equals(decided.notice().getAgent()) || !receipt.getLabel().equals(label)
        || !receipt.getAcknowledged().equals(expected)) {
      return Decision.ignore("WRONG_PARTY", "receipt for " + receipt.getLabel() + " (" + receipt.getAcknowledged()
          + ") from " + from + ": B awaits the agent " + decided.notice().getAgent() + "'s receipt of its "
          + expected);
    }
    return Decision.persist(InboxEvent.newBuilder().setDecisionConfirmed(DecisionConfirmed.newBuilder()
        .setConfirmedAtMillis(now)).build());
  }

  private Decision<InboxEvent> onContent(RecipientStage stage, String from, Content content) {
    if (stage instanceof Empty) {
      return Decision.ignore("NO_SUCH_MAIL", "content for " + label + " before any notification");
    }
    if (!(stage instanceof Acknowledged acknowledged)) {
      return Decision.ignore("UNEXPECTED_MESSAGE", "content for " + label + " while B holds no COD");
    }
    if (acknowledged.holdsContent()) {
      return Decision.none(); // pushed and fetched: the second copy
    }
    NotificationReceived notice = acknowledged.notice();
    if (!from.equals(notice.getAgent())) {
      return Decision.ignore("WRONG_PARTY", "content for " + label + " from " + from + ", not from the agent "
          + notice.getAgent());
    }
    EvidenceStatement handover;
    try {
      handover = signatures.verify(content.getHandover(), EvidenceKind.CONTENT_HANDOVER);
    } catch (Signatures.InvalidEvidence e) {
      return Decision.ignore("INVALID_EVIDENCE", "content handover for " + label + ": " + e.getMessage());
    }
    byte[] bytes = content.getContent().toByteArray();
    Optional<String> problem = content.getLabel().equals(label) ? Entitlements.check(handover, factsOf(notice, bytes))
        : Optional.of("content message for another label");
    if (problem.isEmpty() && !Arrays.equals(Entitlements.expectedCodHash(notice.getFlavour(), label, bytes),
        notice.getExpectedHash().toByteArray())) {
      // Paper §4.5: content whose H(L,M) is not the notified one is not the mail; keep fetching.
      problem = Optional.of("content does not match the hash B signed its COD over");
    }
    if (problem.isPresent()) {
      return Decision.ignore("EVIDENCE_MISMATCH", "content for " + label + " not taken: " + problem.get());
    }
    return Decision.persist(InboxEvent.newBuilder().setContentRetrieved(ContentRetrieved.newBuilder()
        .setContent(content.getContent()).setHandover(content.getHandover())).build());
  }

  /**
   * The mail as B knows it, to judge the content handover with the same rule as everyone
   * (Entitlements): B holds no COP, but knows the label, the sender and the deadline from the
   * notification, its agent (the last server of the route: the only one B knows) and H(M) of
   * the content it just received, which the handover must be over.
   */
  private MailFacts factsOf(NotificationReceived notice, byte[] content) {
    return new MailFacts(label, notice.getSender(), mailbox, Labels.originOf(label), List.of(notice.getAgent()),
        notice.getFlavour(), notice.getDeadlineMillis(), ContentHash.of(content), "");
  }
}
