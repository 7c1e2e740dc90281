package net.certmail.actors;

import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.Optional;
import net.certmail.persistence.chain.ChainingEventAdapter;
import net.certmail.persistence.chain.HeadStampingSignatures;
import net.certmail.crypto.OpenedEnvelope;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Input;
import net.certmail.protocol.RoleMachine;
import net.certmail.protocol.recipient.RecipientMachine;
import net.certmail.protocol.recipient.RecipientStage;
import net.certmail.protocol.recipient.RecipientStage.Acknowledged;
import net.certmail.protocol.recipient.RecipientStage.Empty;
import net.certmail.protocol.recipient.RecipientStage.Held;
import net.certmail.protocol.recipient.RecipientStage.Refused;
import net.certmail.protocol.recipient.RecipientView;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.EventAdapter;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.Recovery;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;

/**
 * B's side of one label (the paper's mailbox program B), a thin shell around
 * {@link RecipientMachine}: it opens envelopes, hands what arrives, what the owner says and its
 * wake-ups to the machine, persists and sends what the machine decides (CoreShell), and answers
 * the owner from the machine's view. Every rule lives in the machine; the stages are
 * {@link RecipientStage}'s:
 *
 * <pre>
 *   Empty --notification from B's home server--> Held --Accept--> Acknowledged  (NSR/IP: fetch M until T + grace)
 *                                                     '--Refuse--> Refused
 * </pre>
 */
public final class InboxEntry
    extends EventSourcedBehaviorWithEnforcedReplies<InboxEntry.Command, InboxEvent, RecipientStage> {

  public sealed interface Command permits Accept, Refuse, GetEntry, Inbound, WakeUp, LingerOver, ReminderDue, ReminderStored, Stop {}

  /** The owner signs the COD of a held mail. */
  public record Accept(ActorRef<InboxView> replyTo) implements Command, CborSerializable {}

  /** The owner refuses a held mail. */
  public record Refuse(String reason, ActorRef<InboxView> replyTo) implements Command, CborSerializable {}

  public record GetEntry(ActorRef<InboxView> replyTo) implements Command, CborSerializable {}

  /** The machine's due instant came, or the entry was recovered. */
  private enum WakeUp implements Command { INSTANCE }

  /** The linger before a sleep is over (CoreShell). */
  private enum LingerOver implements Command { INSTANCE }

  /** The organisation's reminder scanner fired the entry's row due at {@code dueAt}. */
  public record ReminderDue(long dueAt) implements Command, CborSerializable {}

  /** The entry's reminder operation finished ({@code failure} null) or failed. */
  private record ReminderStored(Throwable failure) implements Command {}

  /** The shard's stop message when the entry passivates (CertmailEngine: withStopMessage). */
  enum Stop implements Command { INSTANCE }

  public static EntityTypeKey<Command> typeKey(String mailbox) {
    return Postman.key(Command.class, EntityKind.INBOX, mailbox);
  }

  public static Behavior<Command> create(EntityContext<Command> entity, ProtocolServices services) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new InboxEntry(entity, services, context, timers)));
  }

  private static final Duration IDLE_AFTER_RECOVERY = Duration.ofSeconds(1);

  private final String entityId;
  private final String mailbox;
  private final String label;
  private final ProtocolServices services;
  private final RecipientMachine machine;
  private final ChainingEventAdapter<InboxEvent> chain;
  private final CoreShell<Command, RecipientStage, InboxEvent> shell;
  private final ActorRef<Command> self;
  private final TimerScheduler<Command> timers;
  private final Logger log;

  private InboxEntry(EntityContext<Command> entity, ProtocolServices services, ActorContext<Command> context,
                     TimerScheduler<Command> timers) {
    super(PersistenceId.ofUniqueId(entity.getEntityId()));
    this.entityId = entity.getEntityId();
    this.mailbox = EntityKind.principalOf(entityId);
    this.label = EntityKind.keyOf(entityId);
    this.services = services;
    this.chain = new ChainingEventAdapter<>(entity.getEntityId(), InboxEvent.class);
    this.machine = new RecipientMachine(mailbox, label, services.mailboxPolicies.of(mailbox), services.timings,
        new HeadStampingSignatures(services.signatures(mailbox), chain::head));
    // The label goes into the mailbox's inbox index before the notification is persisted: a
    // crash in between leaves an index row for an entry that knows nothing (listings skip it),
    // never a notified entry missing from the listing.
    this.shell = new CoreShell<>(entity, context, timers, WakeUp.INSTANCE, LingerOver.INSTANCE, ReminderStored::new, machine, services,
        events -> events.stream().anyMatch(InboxEvent::hasNotificationReceived)
            ? Optional.of(() -> services.inboxIndex.add(mailbox, label)) : Optional.empty());
    this.self = context.getSelf();
    this.timers = timers;
    this.log = context.getLog();
  }

  /**
   * Every event goes into this stream's hash chain, and every statement the machine signs names
   * the chain's head (tamper evidence for the audit, witnessed by peers); the entity never sees it.
   */
  @Override
  public EventAdapter<InboxEvent, ?> eventAdapter() {
    return chain;
  }

  @Override
  public RecipientStage emptyState() {
    return machine.empty();
  }

  @Override
  public CommandHandlerWithReply<Command, InboxEvent, RecipientStage> commandHandler() {
    // Every stage takes the same commands; what each means in a stage is the machine's (RecipientStage):
    // Empty takes a notification from B's home server (the label lock); Held waits for the owner until the
    // deadline the agent told B; Acknowledged answers repeats with the COD and fetches M (NSR, IP) until taken;
    // Refused answers repeats with the refusal.
    // While its reminder is being stored, the entry stashes every other command (CoreShell).
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(command -> shell.busy() && !(command instanceof ReminderStored), command -> Effect().stash())
        .onCommand(ReminderStored.class, (stage, stored) -> shell.onStored(Effect(), stored.failure()))
        .onCommand(Inbound.class, this::onInbound)
        .onCommand(Accept.class, this::onAccept)
        .onCommand(Refuse.class, this::onRefuse)
        .onCommand(GetEntry.class, this::onGetEntry)
        .onCommand(WakeUp.class, this::onWakeUp)
        .onCommand(LingerOver.class, (stage, over) -> shell.onLingerOver(Effect(), stage))
        .onCommand(ReminderDue.class, (stage, due) -> {
          shell.reminded(due.dueAt());
          return onWakeUp(stage, WakeUp.INSTANCE);
        })
        .onCommand(Stop.class, (stage, stop) -> shell.stop(Effect()).thenNoReply())
        .build();
  }

  private ReplyEffect<InboxEvent, RecipientStage> onInbound(RecipientStage stage, Inbound inbound) {
    Optional<OpenedEnvelope> opened = InboundEnvelopes.open(services, inbound, entityId, log);
    Decision<InboxEvent> decision = opened.isEmpty() ? Decision.none()
        : machine.decide(stage, new Input.Received(opened.get().from(), opened.get().message()), shell.now());
    return shell.carryOut(Effect(), stage, decision, EffectBuilder::thenNoReply);
  }

  private ReplyEffect<InboxEvent, RecipientStage> onAccept(RecipientStage stage, Accept accept) {
    return decideForOwner(stage, RecipientMachine.Accept.INSTANCE, accept.replyTo());
  }

  private ReplyEffect<InboxEvent, RecipientStage> onRefuse(RecipientStage stage, Refuse refuse) {
    return decideForOwner(stage, new RecipientMachine.Refuse(refuse.reason()), refuse.replyTo());
  }

  private ReplyEffect<InboxEvent, RecipientStage> decideForOwner(RecipientStage stage, Input input,
                                                                 ActorRef<InboxView> replyTo) {
    Decision<InboxEvent> decision = machine.decide(stage, input, shell.now());
    return shell.carryOut(Effect(), stage, decision,
        stored -> stored.thenReply(replyTo, next -> viewOf(next, decision.problem())));
  }

  /** Answers from the stage; carrying out "nothing" re-arms the timer or passivates an entry with nothing due. */
  private ReplyEffect<InboxEvent, RecipientStage> onGetEntry(RecipientStage stage, GetEntry get) {
    return shell.carryOut(Effect(), stage, Decision.<InboxEvent>none(),
        stored -> stored.thenReply(get.replyTo(), next -> viewOf(next, null)));
  }

  private ReplyEffect<InboxEvent, RecipientStage> onWakeUp(RecipientStage stage, WakeUp wakeUp) {
    if (shell.wokenEarly()) {
      return Effect().noReply();
    }
    return shell.carryOut(Effect(), stage, machine.decide(stage, Input.WakeUp.INSTANCE, shell.now()),
        EffectBuilder::thenNoReply);
  }

  /**
   * Whatever was due while the entry was down (a fetch of M) is done at once, and the timer
   * re-armed. With nothing due the entry waits a moment before it wakes: the command that
   * started it arms or passivates it first (so that no wake-up handled before that command asks
   * to passivate an entry the command is about to give work, such as a COD to fetch M for); an
   * entry woken by a stale reminder with nothing due then passivates.
   */
  @Override
  public Recovery recovery() {
    return CoreShell.EVENTS_ONLY;
  }

  @Override
  public SignalHandler<RecipientStage> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), stage -> {
          shell.recovered(stage);
          if (machine.dueAt(stage, shell.now()) != RoleMachine.NEVER) {
            self.tell(WakeUp.INSTANCE);
          } else {
            timers.startSingleTimer(WakeUp.INSTANCE, WakeUp.INSTANCE, IDLE_AFTER_RECOVERY);
          }
        })
        .build();
  }

  @Override
  public EventHandler<RecipientStage, InboxEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(machine::apply);
  }

  // ---- the owner's view ----

  private InboxView viewOf(RecipientStage stage, String problem) {
    RecipientView view = RecipientView.of(stage, shell.now());
    return new InboxView(mailbox, label, view.sender(), view.agent(), view.flavour().orElse(Flavour.FLAVOUR_UNSPECIFIED),
        view.status(), view.content().map(ByteString::toByteArray).orElse(null),
        view.evidence().stream().map(SignedEvidence::toByteArray).toList(), view.acceptsUntilMillis(), problem);
  }
}
