package net.certmail.actors;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import net.certmail.persistence.MailboxIndex;
import net.certmail.persistence.chain.ChainingEventAdapter;
import net.certmail.persistence.chain.HeadStampingSignatures;
import net.certmail.crypto.OpenedEnvelope;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Input;
import net.certmail.protocol.Labels;
import net.certmail.protocol.Routing;
import net.certmail.protocol.sender.SenderMachine;
import net.certmail.protocol.sender.SenderStage;
import net.certmail.protocol.sender.SenderStage.AwaitingCop;
import net.certmail.protocol.sender.SenderStage.Concluded;
import net.certmail.protocol.sender.SenderStage.Empty;
import net.certmail.protocol.sender.SenderStage.InDelivery;
import net.certmail.protocol.sender.SenderStatus;
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
 * A's side of one submission: the entity shell of {@link SenderMachine}, which holds every rule.
 * This class opens envelopes, feeds the machine its owner's commands, the messages and its
 * wake-ups, persists and sends what it decides (CoreShell, one timer) and answers the owner.
 *
 * <pre>
 *   Empty --Submit--> AwaitingCop --COP--> InDelivery --ROD+COD | NDN | T+grace (claim)--> Concluded
 *                         |  \--signed rejection------------------------------------------^  ^
 *                         \--T+grace, neither COP nor rejection: NOT_POSTED-------------------/
 * </pre>
 */
public final class OutboxEntry
    extends EventSourcedBehaviorWithEnforcedReplies<OutboxEntry.Command, OutboxEvent, SenderStage> {

  public sealed interface Command permits Submit, GetStatus, AwaitChange, WaitOver, Inbound, WakeUp, LingerOver, ReminderDue,
      ReminderStored, Stop {}

  /** The owner posts a mail; answered at once with its status (SUBMITTED until P1 answers). */
  public record Submit(String recipient, byte[] content, long deadlineMillis, Flavour flavour, String originServer,
                       ActorRef<MailStatus> replyTo) implements Command, CborSerializable {}

  public record GetStatus(ActorRef<MailStatus> replyTo) implements Command, CborSerializable {}

  /**
   * A long poll: answered with the status once it is no longer {@code unchanged}, or after
   * {@code waitMillis} (or when the entry goes to sleep) with the status as it is. A client
   * waiting for its verdict asks once per change instead of polling.
   */
  public record AwaitChange(DeliveryStatus unchanged, long waitMillis, ActorRef<MailStatus> replyTo)
      implements Command, CborSerializable {}

  /** A long poll's wait is over (its timer, keyed by the poll's replyTo). */
  private record WaitOver(ActorRef<MailStatus> replyTo) implements Command {}

  /** The machine's due instant came, or the entity was recovered. */
  private enum WakeUp implements Command { INSTANCE }

  /** The linger before a sleep is over (CoreShell). */
  private enum LingerOver implements Command { INSTANCE }

  /** The organisation's reminder scanner fired the entry's row due at {@code dueAt}. */
  public record ReminderDue(long dueAt) implements Command, CborSerializable {}

  /** The entry's reminder operation finished ({@code failure} null) or failed. */
  private record ReminderStored(Throwable failure) implements Command {}

  /** The shard's stop message when the entry passivates (CertmailEngine: withStopMessage). */
  enum Stop implements Command { INSTANCE }

  /**
   * How long an entry asked about a submission never made stays before it passivates: a client
   * polling an id it has not submitted yet meets a running entry instead of a journal recovery
   * per request.
   */
  private static final Duration UNKNOWN_LINGER = Duration.ofSeconds(1);

  /** Long polls one entry holds at most; more are answered at once (a client gains nothing from more). */
  static final int MAX_WAITING = 64;

  public static EntityTypeKey<Command> typeKey(String mailbox) {
    return Postman.key(Command.class, EntityKind.OUTBOX, mailbox);
  }

  /** The entity for sharding; also what tests run without sharding, given an EntityContext of their own. */
  public static Behavior<Command> create(EntityContext<Command> entity, ProtocolServices services) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new OutboxEntry(entity, services, context, timers)));
  }

  private final EntityContext<Command> entity;
  private final ProtocolServices services;
  private final ActorRef<Command> self;
  private final TimerScheduler<Command> timers;
  private final Logger log;
  private final String sender;
  private final String submissionId;
  private final SenderMachine machine;
  private final ChainingEventAdapter<OutboxEvent> chain;
  private final CoreShell<Command, SenderStage, OutboxEvent> shell;
  /** The long polls waiting for a change of status: not persisted (a client asks again). */
  private final List<AwaitChange> waiting = new ArrayList<>();

  private OutboxEntry(EntityContext<Command> entity, ProtocolServices services, ActorContext<Command> context,
                      TimerScheduler<Command> timers) {
    super(PersistenceId.ofUniqueId(entity.getEntityId()));
    this.entity = entity;
    this.services = services;
    this.self = context.getSelf();
    this.timers = timers;
    this.log = context.getLog();
    this.sender = EntityKind.principalOf(entity.getEntityId());
    this.submissionId = EntityKind.keyOf(entity.getEntityId());
    this.chain = new ChainingEventAdapter<>(entity.getEntityId(), OutboxEvent.class);
    this.machine = new SenderMachine(sender, submissionId, services.timings,
        new HeadStampingSignatures(services.signatures(sender), chain::head));
    // The submission goes into the mailbox's outbox index before it is persisted: a crash in
    // between leaves a row for an entry that knows nothing (the listing shows it UNKNOWN and skips it).
    this.shell = new CoreShell<>(entity, context, timers, WakeUp.INSTANCE, LingerOver.INSTANCE, ReminderStored::new, machine, services,
        events -> events.stream().anyMatch(OutboxEvent::hasMailSubmitted)
            ? Optional.of(() -> services.inboxIndex.add(MailboxIndex.outboxKey(sender), submissionId))
            : Optional.empty());
  }

  /**
   * Every event goes into this stream's hash chain, and every statement the machine signs names
   * the chain's head (tamper evidence for the audit, witnessed by peers); the entity never sees it.
   */
  @Override
  public EventAdapter<OutboxEvent, ?> eventAdapter() {
    return chain;
  }

  @Override
  public SenderStage emptyState() {
    return machine.empty();
  }

  @Override
  public CommandHandlerWithReply<Command, OutboxEvent, SenderStage> commandHandler() {
    // Every stage takes the same commands; what each means in a stage is the machine's (SenderStage).
    // An entry never submitted answers "unknown" and lingers briefly before it passivates.
    // While its reminder is being stored, the entry stashes every other command (CoreShell).
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(command -> shell.busy() && !(command instanceof ReminderStored), command -> Effect().stash())
        .onCommand(ReminderStored.class, (stage, stored) -> shell.onStored(Effect(), stored.failure()))
        .onCommand(Submit.class, this::onSubmit)
        .onCommand(GetStatus.class, (stage, query) -> stage instanceof Empty
            ? onUnknownSubmission(stage, query.replyTo()) : onGetStatus(stage, query))
        .onCommand(AwaitChange.class, (stage, await) -> stage instanceof Empty
            ? onUnknownSubmission(stage, await.replyTo()) : onAwaitChange(stage, await))
        .onCommand(WaitOver.class, (stage, over) -> {
          answerWaiting(stage, waiter -> waiter.replyTo().equals(over.replyTo()));
          return Effect().noReply();
        })
        .onCommand(Inbound.class, this::onInbound)
        .onCommand(WakeUp.class, this::onWakeUp)
        .onCommand(LingerOver.class, (stage, over) -> shell.onLingerOver(Effect(), stage))
        .onCommand(ReminderDue.class, (stage, due) -> {
          shell.reminded(due.dueAt());
          return onWakeUp(stage, WakeUp.INSTANCE);
        })
        .onCommand(Stop.class, (stage, stop) -> {
          answerWaiting(stage, waiter -> true); // asleep, it cannot see a change: the client asks again
          return shell.stop(Effect()).thenNoReply();
        })
        .build();
  }

  private ReplyEffect<OutboxEvent, SenderStage> onSubmit(SenderStage stage, Submit submit) {
    Decision<OutboxEvent> decision = machine.decide(stage, new SenderMachine.Submit(submit.recipient(),
        submit.content(), submit.deadlineMillis(), submit.flavour(), submit.originServer()), shell.now());
    return carryOut(stage, decision,
        stored -> stored.thenReply(submit.replyTo(), next -> withProblem(statusOf(next), decision.problem())));
  }

  /**
   * A query for a submission never made must not leave an entity behind: the wake-up
   * after a short linger finds nothing due and passivates it, unless a submission came meanwhile.
   */
  private ReplyEffect<OutboxEvent, SenderStage> onUnknownSubmission(SenderStage stage, ActorRef<MailStatus> replyTo) {
    timers.startSingleTimer(WakeUp.INSTANCE, WakeUp.INSTANCE, UNKNOWN_LINGER);
    return Effect().reply(replyTo, statusOf(stage));
  }

  /**
   * The status at this instant: what is overdue (a deadline passed while the timer was lost, or
   * has not fired yet) is done first, so that the answer is never one the mail has already left.
   */
  private ReplyEffect<OutboxEvent, SenderStage> onGetStatus(SenderStage stage, GetStatus query) {
    long now = shell.now();
    if (machine.dueAt(stage, now) > now) {
      return Effect().reply(query.replyTo(), statusOf(stage));
    }
    return carryOut(stage, machine.decide(stage, Input.WakeUp.INSTANCE, now),
        stored -> stored.thenReply(query.replyTo(), this::statusOf));
  }

  /**
   * Holds the poll until the status changes (every decision's outcome is checked against the
   * waiting polls), its wait is over, or the entry sleeps. What is overdue is done first, as for
   * a status read, so a poll never waits on a stage the mail has already left.
   */
  private ReplyEffect<OutboxEvent, SenderStage> onAwaitChange(SenderStage stage, AwaitChange await) {
    if (waiting.size() >= MAX_WAITING) {
      return Effect().reply(await.replyTo(), statusOf(stage));
    }
    waiting.add(await);
    timers.startSingleTimer(await.replyTo(), new WaitOver(await.replyTo()), Duration.ofMillis(await.waitMillis()));
    long now = shell.now();
    if (machine.dueAt(stage, now) > now) {
      answerChanged(stage);
      return Effect().noReply();
    }
    return carryOut(stage, machine.decide(stage, Input.WakeUp.INSTANCE, now), EffectBuilder::thenNoReply);
  }

  /** Answers the waiting polls whose status has changed. */
  private void answerChanged(SenderStage stage) {
    if (!waiting.isEmpty()) {
      DeliveryStatus now = statusOf(stage).status();
      answerWaiting(stage, waiter -> waiter.unchanged() != now);
    }
  }

  private void answerWaiting(SenderStage stage, java.util.function.Predicate<AwaitChange> which) {
    if (waiting.isEmpty()) {
      return;
    }
    MailStatus status = statusOf(stage);
    waiting.removeIf(waiter -> {
      if (!which.test(waiter)) {
        return false;
      }
      timers.cancel(waiter.replyTo());
      waiter.replyTo().tell(status);
      return true;
    });
  }

  private ReplyEffect<OutboxEvent, SenderStage> onInbound(SenderStage stage, Inbound inbound) {
    Optional<OpenedEnvelope> opened = InboundEnvelopes.open(services, inbound, entity.getEntityId(), labelOf(stage),
        log);
    if (opened.isEmpty()) {
      return shell.carryOut(Effect(), stage, Decision.none(), EffectBuilder::thenNoReply);
    }
    Decision<OutboxEvent> decision = machine.decide(stage,
        new Input.Received(opened.get().from(), opened.get().message()), shell.now());
    return carryOut(stage, decision, EffectBuilder::thenNoReply);
  }

  private ReplyEffect<OutboxEvent, SenderStage> onWakeUp(SenderStage stage, WakeUp wakeUp) {
    if (shell.wokenEarly()) {
      return Effect().noReply();
    }
    return carryOut(stage, machine.decide(stage, Input.WakeUp.INSTANCE, shell.now()), EffectBuilder::thenNoReply);
  }

  /** Carries a decision out and counts what it changed: a submission taken, a mail concluded (once each, never on replay). */
  private ReplyEffect<OutboxEvent, SenderStage> carryOut(SenderStage before, Decision<OutboxEvent> decision,
      java.util.function.Function<EffectBuilder<OutboxEvent, SenderStage>, ReplyEffect<OutboxEvent, SenderStage>> reply) {
    return shell.carryOut(Effect(), before, decision, stored -> reply.apply(stored.thenRun(next -> {
      if (before instanceof Empty && next instanceof AwaitingCop awaiting) {
        services.metrics.submitted(awaiting.mail().getFlavour());
      }
      if (!(before instanceof Concluded) && next instanceof Concluded concluded) {
        services.metrics.concluded(SenderStatus.of(concluded).status(), concluded.reason(),
            Duration.ofMillis(shell.now() - concluded.mail().getSubmittedAtMillis()));
      }
      answerChanged(next);
    })));
  }

  /** The label this entry also answers to: the one its origin derives for the submission. */
  private String labelOf(SenderStage stage) {
    if (stage instanceof AwaitingCop awaiting) {
      return machine.labelOf(awaiting.mail());
    }
    if (stage instanceof InDelivery delivery) {
      return delivery.posting().label();
    }
    if (stage instanceof Concluded concluded) {
      return machine.labelOf(concluded.mail());
    }
    return Labels.forSubmission(Routing.domainOf(sender), sender, submissionId);
  }

  @Override
  public Recovery recovery() {
    return CoreShell.EVENTS_ONLY;
  }

  @Override
  public SignalHandler<SenderStage> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), stage -> {
          shell.recovered(stage);
          // Timers do not survive a restart: do what is due now, which re-arms the one timer
          // (or passivates a concluded entry that a stale reminder woke).
          if (!(stage instanceof Empty)) {
            self.tell(WakeUp.INSTANCE);
          }
        })
        .build();
  }

  @Override
  public EventHandler<SenderStage, OutboxEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(machine::apply);
  }

  // ---- the owner's view ----

  private MailStatus statusOf(SenderStage stage) {
    if (stage instanceof Empty) {
      return new MailStatus(sender, submissionId, "", DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED, ReasonCode.REASON_UNSPECIFIED,
          List.of(), List.of(),
          "no submission " + submissionId + " from " + sender);
    }
    SenderStatus view = SenderStatus.of(stage);
    return new MailStatus(sender, submissionId, view.label(), view.status(), view.reason(),
        view.evidence().stream().map(SignedEvidence::toByteArray).toList(),
        view.late().stream().map(SignedEvidence::toByteArray).toList(), null);
  }

  private static MailStatus withProblem(MailStatus status, String problem) {
    if (problem == null) {
      return status;
    }
    return new MailStatus(status.sender(), status.submissionId(), status.label(), status.status(), status.reason(),
        status.evidence(), status.lateEvidence(), problem);
  }
}
