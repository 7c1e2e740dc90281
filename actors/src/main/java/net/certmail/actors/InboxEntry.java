package net.certmail.actors;

import com.google.protobuf.ByteString;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.crypto.OpenedEnvelope;
import net.certmail.crypto.VerifiedEvidence;
import net.certmail.proto.v1.CodReply;
import net.certmail.proto.v1.Content;
import net.certmail.proto.v1.ContentFetch;
import net.certmail.proto.v1.ContentRetrieved;
import net.certmail.proto.v1.Delivery;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.Notification;
import net.certmail.proto.v1.NotificationReceived;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ReceiptRefused;
import net.certmail.proto.v1.ReceiptSigned;
import net.certmail.proto.v1.RecipientRefusal;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.Routing;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;

/**
 * B's side of one label (the paper's mailbox program B): the delivery phase, steps 5 to 7.
 *
 * <pre>
 *   Empty --Delivery (CEM) / Notification (NSR, IP)--> Held            (policy HOLD: the owner decides)
 *         \--policy AUTO_ACCEPT / owner accepts-----> Acknowledged     (COD signed; NSR/IP: fetch M)
 *         \--policy REFUSE / owner refuses----------> Refused
 * </pre>
 *
 * The first agent to notify B about L holds the label lock: a notification for L from another
 * agent or with another hash is refused while this entry exists (paper §4.5). In IP, content
 * whose H(L,M) differs from the notified one is rejected and fetched again, a bounded number of
 * times.
 */
public final class InboxEntry
    extends EventSourcedBehaviorWithEnforcedReplies<InboxEntry.Command, InboxEvent, InboxEntry.State> {

  public sealed interface Command permits Accept, Refuse, GetEntry, Inbound, Tick {}

  /** The owner signs the COD of a held mail. */
  public record Accept(ActorRef<InboxView> replyTo) implements Command, CborSerializable {}

  /** The owner refuses a held mail. */
  public record Refuse(String reason, ActorRef<InboxView> replyTo) implements Command, CborSerializable {}

  public record GetEntry(ActorRef<InboxView> replyTo) implements Command, CborSerializable {}

  private enum Tick implements Command { INSTANCE }

  public static EntityTypeKey<Command> typeKey(String mailbox) {
    return Postman.key(Command.class, EntityKind.INBOX, mailbox);
  }

  public static Behavior<Command> create(EntityContext<Command> context, ProtocolServices services) {
    return Behaviors.setup(actorContext -> Behaviors.withTimers(timers ->
        new InboxEntry(context, services, new EntityLifecycle<>(context, actorContext.getSelf(), timers, Tick.INSTANCE,
            java.time.Duration.ofMillis(250)), actorContext.getLog())));
  }

  // ---- state ----

  public sealed interface State permits Empty, Held, Acknowledged, Refused {}

  public enum Empty implements State { INSTANCE }

  public record Held(NotificationReceived notice) implements State {}

  /** COD signed; {@code content} is null until M is retrieved (NSR and IP). */
  public record Acknowledged(NotificationReceived notice, SignedEvidence cod, byte[] content, SignedEvidence handover)
      implements State {}

  public record Refused(NotificationReceived notice, SignedEvidence refusal) implements State {}

  private final EntityContext<Command> entity;
  private final ProtocolServices services;
  private final EntityLifecycle<Command> lifecycle;
  private final Logger log;
  private final String mailbox;
  private final String label;
  private final Resends resends;
  private int fetchAttempts;

  private InboxEntry(EntityContext<Command> entity, ProtocolServices services, EntityLifecycle<Command> lifecycle,
                     Logger log) {
    super(PersistenceId.ofUniqueId(entity.getEntityId()));
    this.entity = entity;
    this.services = services;
    this.lifecycle = lifecycle;
    this.log = log;
    this.mailbox = EntityKind.principalOf(entity.getEntityId());
    this.label = EntityKind.keyOf(entity.getEntityId());
    this.resends = new Resends(services.timings);
  }

  @Override
  public State emptyState() {
    return Empty.INSTANCE;
  }

  @Override
  public CommandHandlerWithReply<Command, InboxEvent, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, InboxEvent, State> builder = newCommandHandlerWithReplyBuilder();
    // An entry left without state passivates on the next tick: stray or forged messages and
    // queries for unknown labels must not leave remembered entities behind.
    builder.forStateType(Empty.class)
        .onCommand(Inbound.class, (state, inbound) -> {
          passivateSoon();
          return onInboundEmpty(state, inbound);
        })
        .onCommand(Accept.class, (state, command) -> noSuchMail(command.replyTo()))
        .onCommand(Refuse.class, (state, command) -> noSuchMail(command.replyTo()))
        .onCommand(GetEntry.class, (state, command) -> noSuchMail(command.replyTo()))
        .onCommand(Tick.class, (state, tick) -> passivate());
    builder.forStateType(Held.class)
        .onCommand(Inbound.class, (state, inbound) -> onInboundNotified(state.notice(), inbound, null))
        .onCommand(Accept.class, this::onAccept)
        .onCommand(Refuse.class, this::onRefuse)
        .onCommand(GetEntry.class, this::replyEntry)
        .onCommand(Tick.class, (state, tick) -> passivate());
    builder.forStateType(Acknowledged.class)
        .onCommand(Inbound.class, this::onInboundAcknowledged)
        .onCommand(Accept.class, this::replyEntry)
        .onCommand(Refuse.class, (state, command) ->
            Effect().reply(command.replyTo(), viewOf(state, "the certificate of delivery is already signed")))
        .onCommand(GetEntry.class, this::replyEntry)
        .onCommand(Tick.class, this::onTickAcknowledged);
    builder.forStateType(Refused.class)
        .onCommand(Inbound.class, (state, inbound) -> onInboundNotified(state.notice(), inbound, answer(state)))
        .onCommand(Accept.class, (state, command) ->
            Effect().reply(command.replyTo(), viewOf(state, "the mail was refused")))
        .onCommand(Refuse.class, this::replyEntry)
        .onCommand(GetEntry.class, this::replyEntry)
        .onCommand(Tick.class, (state, tick) -> passivate());
    return builder.build();
  }

  private ReplyEffect<InboxEvent, State> noSuchMail(ActorRef<InboxView> replyTo) {
    passivateSoon();
    return Effect().reply(replyTo, viewOf(Empty.INSTANCE, "no mail " + label));
  }

  // ---- Empty: step 5 arrives ----

  private ReplyEffect<InboxEvent, State> onInboundEmpty(Empty state, Inbound inbound) {
    Optional<OpenedEnvelope> opened = InboundEnvelopes.open(services, inbound, entity.getEntityId(), log);
    if (opened.isEmpty()) {
      return Effect().noReply();
    }
    Optional<NotificationReceived> notice = noticeOf(opened.get());
    if (notice.isEmpty()) {
      return ignore("NO_SUCH_MAIL", opened.get().message().getMessageCase() + " before any notification");
    }
    if (!fromHomeServer(opened.get())) {
      return ignore("NOT_HOME_SERVER", "notification from " + opened.get().from() + ", not from "
          + Routing.domainOf(mailbox));
    }
    NotificationReceived received = notice.get();
    return switch (services.mailboxPolicies.of(mailbox)) {
      case AUTO_ACCEPT -> Effect().persist(List.of(notified(received), signed(received)))
          .thenRun(this::afterDecision).thenNoReply();
      case REFUSE -> Effect().persist(List.of(notified(received), refused(received, "mailbox refuses certified mail")))
          .thenRun(this::afterDecision).thenNoReply();
      case HOLD -> Effect().persist(notified(received)).thenNoReply();
    };
  }

  private Optional<NotificationReceived> noticeOf(OpenedEnvelope opened) {
    ProtocolMessage message = opened.message();
    NotificationReceived.Builder notice = NotificationReceived.newBuilder().setLabel(label).setAgent(opened.from())
        .setReceivedAtMillis(services.now());
    if (message.hasDelivery()) {
      Delivery delivery = message.getDelivery();
      return Optional.of(notice.setSender(delivery.getSender()).setFlavour(Flavour.CEM)
          .setContent(delivery.getContent()).setContentSize(delivery.getContent().size())
          .setExpectedHash(ByteString.copyFrom(ContentHash.of(delivery.getContent().toByteArray())))
          .setDeadlineMillis(delivery.getDeadlineMillis()).setCodDeadlineMillis(delivery.getCodDeadlineMillis()).build());
    }
    if (message.hasNotification()) {
      Notification notification = message.getNotification();
      if (notification.getFlavour() != Flavour.NSR && notification.getFlavour() != Flavour.IP) {
        return Optional.empty();
      }
      return Optional.of(notice.setSender(notification.getSender()).setFlavour(notification.getFlavour())
          .setExpectedHash(notification.getLabelledContentHash()).setContentSize(notification.getContentSize())
          .setDeadlineMillis(notification.getDeadlineMillis())
          .setCodDeadlineMillis(notification.getCodDeadlineMillis()).build());
    }
    return Optional.empty();
  }

  // ---- Held: the owner decides ----

  private ReplyEffect<InboxEvent, State> onAccept(Held state, Accept accept) {
    if (services.now() > state.notice().getCodDeadlineMillis()) {
      return Effect().reply(accept.replyTo(), viewOf(state, "too late: the agent accepts no COD after "
          + Instant.ofEpochMilli(state.notice().getCodDeadlineMillis())));
    }
    return Effect().persist(signed(state.notice())).thenRun(this::afterDecision)
        .thenReply(accept.replyTo(), newState -> viewOf(newState, null));
  }

  private ReplyEffect<InboxEvent, State> onRefuse(Held state, Refuse refuse) {
    String reason = refuse.reason() == null || refuse.reason().isBlank() ? "refused by the owner" : refuse.reason();
    return Effect().persist(refused(state.notice(), reason)).thenRun(this::afterDecision)
        .thenReply(refuse.replyTo(), newState -> viewOf(newState, null));
  }

  // ---- after the COD: fetch M in NSR and IP (step 7) ----

  private ReplyEffect<InboxEvent, State> onInboundAcknowledged(Acknowledged state, Inbound inbound) {
    Optional<OpenedEnvelope> opened = InboundEnvelopes.open(services, inbound, entity.getEntityId(), log);
    if (opened.isEmpty()) {
      return Effect().noReply();
    }
    if (!opened.get().message().hasContent()) {
      return onNotification(state.notice(), opened.get(), answer(state));
    }
    if (state.content() != null || !opened.get().from().equals(state.notice().getAgent())) {
      return Effect().noReply();
    }
    Content content = opened.get().message().getContent();
    byte[] bytes = content.getContent().toByteArray();
    if (state.notice().getFlavour() == Flavour.IP
        && !Arrays.equals(ContentHash.labelled(label, bytes), state.notice().getExpectedHash().toByteArray())) {
      // Paper §4.5: content that does not match H(L,M) is not the mail; fetch it again.
      return ignore("CONTENT_HASH_MISMATCH", "content for " + label + " does not match the notified H(L,M)");
    }
    Optional<VerifiedEvidence> handover =
        services.verify(content.getHandover(), EvidenceKind.CONTENT_HANDOVER, log, entity.getEntityId());
    if (handover.isEmpty()) {
      return Effect().noReply();
    }
    return Effect().persist(InboxEvent.newBuilder().setContentRetrieved(ContentRetrieved.newBuilder()
            .setContent(content.getContent()).setHandover(content.getHandover())).build())
        .thenRun(newState -> passivateSoon())
        .thenNoReply();
  }

  private ReplyEffect<InboxEvent, State> onTickAcknowledged(Acknowledged state, Tick tick) {
    if (state.content() != null) {
      return passivate();
    }
    if (fetchAttempts >= services.maxFetchAttempts) {
      log.warn("{}: gave up fetching the content after {} attempts; alert the community about agent {}",
          entity.getEntityId(), fetchAttempts, state.notice().getAgent());
      return passivate();
    }
    if (resends.due(services.now())) {
      fetch(state.notice());
    }
    return Effect().noReply();
  }

  // ---- notifications after the first: duplicates and bogus agents ----

  private ReplyEffect<InboxEvent, State> onInboundNotified(NotificationReceived notice, Inbound inbound,
                                                         ProtocolMessage answer) {
    Optional<OpenedEnvelope> opened = InboundEnvelopes.open(services, inbound, entity.getEntityId(), log);
    if (opened.isEmpty()) {
      return Effect().noReply();
    }
    return onNotification(notice, opened.get(), answer);
  }

  private ReplyEffect<InboxEvent, State> onNotification(NotificationReceived notice, OpenedEnvelope opened,
                                                        ProtocolMessage answer) {
    Optional<NotificationReceived> again = noticeOf(opened);
    if (again.isEmpty()) {
      return ignore("UNEXPECTED_MESSAGE", opened.message().getMessageCase().name());
    }
    if (!fromHomeServer(opened)) {
      return ignore("NOT_HOME_SERVER", "notification from " + opened.from() + ", not from " + Routing.domainOf(mailbox));
    }
    boolean sameMail = again.get().getAgent().equals(notice.getAgent())
        && again.get().getExpectedHash().equals(notice.getExpectedHash())
        && again.get().getFlavour() == notice.getFlavour();
    if (!sameMail) {
      return ignore("LABEL_LOCKED", "notification for " + label + " from " + again.get().getAgent()
          + " conflicts with the one from " + notice.getAgent());
    }
    if (answer != null) {
      services.postman.toServer(mailbox, notice.getAgent(), label, answer); // the agent resent: answer again
    }
    return Effect().noReply();
  }

  /**
   * Only B's own server may deliver to B. The paper's B cannot tell agents apart; here every
   * notification is a signed envelope, so a bogus agent cannot even take the label lock first.
   */
  private boolean fromHomeServer(OpenedEnvelope opened) {
    return opened.from().equals(Routing.domainOf(mailbox));
  }

  // ---- evidence B signs ----

  private InboxEvent notified(NotificationReceived notice) {
    return InboxEvent.newBuilder().setNotificationReceived(notice).build();
  }

  /** Step 6: COD = sig_B(Pn, L, h), h per flavour: H(M), nothing, or H(L,M). */
  private InboxEvent signed(NotificationReceived notice) {
    byte[] hash = notice.getFlavour() == Flavour.NSR ? new byte[0] : notice.getExpectedHash().toByteArray();
    SignedEvidence cod = services.signer(mailbox).sign(EvidenceStatements.cod(mailbox, notice.getAgent(), label,
        notice.getSender(), notice.getFlavour(), hash, services.now()));
    return InboxEvent.newBuilder().setReceiptSigned(ReceiptSigned.newBuilder().setCod(cod)).build();
  }

  private InboxEvent refused(NotificationReceived notice, String reason) {
    SignedEvidence refusal = services.signer(mailbox).sign(EvidenceStatements.recipientRefusal(mailbox,
        notice.getAgent(), label, notice.getSender(), reason, services.now()));
    return InboxEvent.newBuilder().setReceiptRefused(ReceiptRefused.newBuilder().setRefusal(refusal)).build();
  }

  private void afterDecision(State state) {
    if (state instanceof Acknowledged acknowledged) {
      services.postman.toServer(mailbox, acknowledged.notice().getAgent(), label, answer(acknowledged));
      if (acknowledged.content() == null) {
        fetch(acknowledged.notice());
      }
      startTicking();
    } else if (state instanceof Refused refused) {
      services.postman.toServer(mailbox, refused.notice().getAgent(), label, answer(refused));
      startTicking();
    }
  }

  private ProtocolMessage answer(Acknowledged state) {
    return ProtocolMessage.newBuilder().setCodReply(CodReply.newBuilder().setLabel(label).setCod(state.cod())).build();
  }

  private ProtocolMessage answer(Refused state) {
    return ProtocolMessage.newBuilder()
        .setRecipientRefusal(RecipientRefusal.newBuilder().setLabel(label).setRefusal(state.refusal())).build();
  }

  private void fetch(NotificationReceived notice) {
    fetchAttempts++;
    services.postman.toServer(mailbox, notice.getAgent(), label,
        ProtocolMessage.newBuilder().setContentFetch(ContentFetch.newBuilder().setLabel(label)).build());
    resends.sent(services.now());
  }

  // ---- plumbing ----

  private ReplyEffect<InboxEvent, State> replyEntry(State state, Command command) {
    ActorRef<InboxView> replyTo;
    if (command instanceof Accept accept) {
      replyTo = accept.replyTo();
    } else if (command instanceof Refuse refuse) {
      replyTo = refuse.replyTo();
    } else if (command instanceof GetEntry get) {
      replyTo = get.replyTo();
    } else {
      throw new IllegalArgumentException("no reply to " + command);
    }
    return Effect().reply(replyTo, viewOf(state, null));
  }

  private ReplyEffect<InboxEvent, State> ignore(String reason, String detail) {
    services.metrics.ignored(log, entity.getEntityId(), reason, detail);
    return Effect().noReply();
  }

  private void startTicking() {
    lifecycle.startTicking();
  }

  private void passivateSoon() {
    startTicking();
  }

  private ReplyEffect<InboxEvent, State> passivate() {
    lifecycle.passivate();
    return Effect().noReply();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          if (state instanceof Acknowledged acknowledged && acknowledged.content() == null) {
            startTicking(); // still owes the fetch of M
          }
        })
        .build();
  }

  @Override
  public EventHandler<State, InboxEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onEvent(InboxEvent.class, InboxEntry::apply).build();
  }

  static State apply(State state, InboxEvent event) {
    return switch (event.getEventCase()) {
      case NOTIFICATION_RECEIVED -> new Held(event.getNotificationReceived());
      case RECEIPT_SIGNED -> {
        NotificationReceived notice = ((Held) state).notice();
        byte[] content = notice.getFlavour() == Flavour.CEM ? notice.getContent().toByteArray() : null;
        yield new Acknowledged(notice, event.getReceiptSigned().getCod(), content, null);
      }
      case RECEIPT_REFUSED -> new Refused(((Held) state).notice(), event.getReceiptRefused().getRefusal());
      case CONTENT_RETRIEVED -> {
        Acknowledged acknowledged = (Acknowledged) state;
        yield new Acknowledged(acknowledged.notice(), acknowledged.cod(),
            event.getContentRetrieved().getContent().toByteArray(), event.getContentRetrieved().getHandover());
      }
      case EVENT_NOT_SET -> throw new IllegalStateException("an inbox event without content");
    };
  }

  // ---- the owner's view ----

  private InboxView viewOf(State state, String problem) {
    if (state instanceof Held held) {
      return view(held.notice(), "AWAITING_DECISION", heldContent(held.notice()), List.of(), problem);
    }
    if (state instanceof Acknowledged acknowledged) {
      return view(acknowledged.notice(), acknowledged.content() == null ? "ACKNOWLEDGED" : "RETRIEVED",
          acknowledged.content(), acknowledged.handover() == null ? List.of(acknowledged.cod())
              : List.of(acknowledged.cod(), acknowledged.handover()), problem);
    }
    if (state instanceof Refused refused) {
      return view(refused.notice(), "REFUSED", null, List.of(refused.refusal()), problem);
    }
    return new InboxView(mailbox, label, "", "", "", "NONE", null, List.of(), problem);
  }

  /** In CEM the mail arrived with the delivery, so the owner sees it before deciding: selective receipt. */
  private static byte[] heldContent(NotificationReceived notice) {
    return notice.getFlavour() == Flavour.CEM ? notice.getContent().toByteArray() : null;
  }

  private InboxView view(NotificationReceived notice, String status, byte[] content, List<SignedEvidence> evidence,
                         String problem) {
    return new InboxView(mailbox, label, notice.getSender(), notice.getAgent(), notice.getFlavour().name(), status,
        content, evidence.stream().map(SignedEvidence::toByteArray).toList(), problem);
  }
}
