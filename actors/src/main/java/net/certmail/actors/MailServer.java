package net.certmail.actors;

import java.util.List;
import java.util.Optional;
import net.certmail.persistence.chain.ChainingEventAdapter;
import net.certmail.persistence.chain.HeadStampingSignatures;
import net.certmail.crypto.OpenedEnvelope;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Input;
import net.certmail.protocol.Routing;
import net.certmail.protocol.server.ServerMachine;
import net.certmail.protocol.server.ServerStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.EventAdapter;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.Recovery;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;

/**
 * A mail server's part in one label — the paper's P1, Pi and Pn — as a thin event-sourced shell
 * around {@link ServerMachine}: it opens envelopes, asks the machine what to do, persists the
 * events, sends the messages and keeps one timer for the machine's next due instant. The stages
 * and every rule are in the protocol module ({@link ServerStage}).
 */
public final class MailServer extends EventSourcedBehavior<MailServer.Command, ServerEvent, ServerStage> {

  public sealed interface Command permits Inbound, WakeUp, LingerOver, ReminderDue, ReminderStored, Stop, GetPublicEvidence {}

  /**
   * The public directory of an origin server P1: what it published about a label it issued
   * (COP, ROD, COD, NDN). Anyone may ask; nothing here is secret, and other servers' entities
   * for the label (relays, the destination) answer that they published nothing.
   */
  public record GetPublicEvidence(ActorRef<PublicEvidence> replyTo) implements Command, CborSerializable {}

  /** {@code published}: false when this server issued no such label; evidence as SignedEvidence bytes. */
  public record PublicEvidence(String server, String label, boolean published, List<byte[]> evidence)
      implements CborSerializable {}

  /** The machine's due instant came, or the entity was recovered. */
  private enum WakeUp implements Command { INSTANCE }

  /** The linger before a sleep is over (CoreShell). */
  private enum LingerOver implements Command { INSTANCE }

  /** The organisation's reminder scanner fired the entity's row due at {@code dueAt}. */
  public record ReminderDue(long dueAt) implements Command, CborSerializable {}

  /** The entity's reminder operation finished ({@code failure} null) or failed. */
  private record ReminderStored(Throwable failure) implements Command {}

  /** The shard's stop message when the entity passivates (CertmailEngine: withStopMessage). */
  enum Stop implements Command { INSTANCE }

  public static EntityTypeKey<Command> typeKey(String server) {
    return Postman.key(Command.class, EntityKind.SERVER, server);
  }

  public static Behavior<Command> create(EntityContext<Command> context, ProtocolServices services) {
    String principal = EntityKind.principalOf(context.getEntityId());
    if (Routing.isMailbox(principal)) {
      // A message routed to a "server" entity of a mailbox: never a carrier, never a signer.
      return Behaviors.setup(actorContext -> {
        services.metrics.malformed(actorContext.getLog(), context.getEntityId(), "server entity for a mailbox");
        context.getShard().tell(new ClusterSharding.Passivate<>(actorContext.getSelf()));
        return Behaviors.ignore();
      });
    }
    return Behaviors.setup(actorContext -> Behaviors.withTimers(timers -> {
      ChainingEventAdapter<ServerEvent> chain = new ChainingEventAdapter<>(context.getEntityId(), ServerEvent.class);
      ServerMachine machine = new ServerMachine(principal, EntityKind.keyOf(context.getEntityId()),
          services.serverRules(), new HeadStampingSignatures(services.signatures(principal), chain::head));
      return new MailServer(context, services, machine, chain, new CoreShell<>(context, actorContext, timers,
          WakeUp.INSTANCE, LingerOver.INSTANCE, ReminderStored::new, machine, services), actorContext.getSelf(), actorContext.getLog());
    }));
  }

  private final EntityContext<Command> entity;
  private final ProtocolServices services;
  private final ServerMachine machine;
  private final ChainingEventAdapter<ServerEvent> chain;
  private final CoreShell<Command, ServerStage, ServerEvent> shell;
  private final ActorRef<Command> self;
  private final Logger log;
  private final String me;
  private final String label;

  private MailServer(EntityContext<Command> entity, ProtocolServices services, ServerMachine machine,
                     ChainingEventAdapter<ServerEvent> chain, CoreShell<Command, ServerStage, ServerEvent> shell,
                     ActorRef<Command> self, Logger log) {
    super(PersistenceId.ofUniqueId(entity.getEntityId()));
    this.entity = entity;
    this.services = services;
    this.machine = machine;
    this.chain = chain;
    this.shell = shell;
    this.self = self;
    this.log = log;
    this.me = EntityKind.principalOf(entity.getEntityId());
    this.label = EntityKind.keyOf(entity.getEntityId());
  }

  /**
   * Every event goes into this stream's hash chain, and every statement the machine signs names
   * the chain's head (tamper evidence for the audit, witnessed by peers); the entity never sees it.
   */
  @Override
  public EventAdapter<ServerEvent, ?> eventAdapter() {
    return chain;
  }

  @Override
  public ServerStage emptyState() {
    return machine.empty();
  }

  @Override
  public CommandHandler<Command, ServerEvent, ServerStage> commandHandler() {
    // While its reminder is being stored, the entity stashes every other command (CoreShell).
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(command -> shell.busy() && !(command instanceof ReminderStored), command -> Effect().stash())
        .onCommand(ReminderStored.class, (stage, stored) -> shell.onStored(Effect(), stored.failure()))
        .onCommand(Inbound.class, this::onInbound)
        .onCommand(WakeUp.class, this::onWakeUp)
        .onCommand(LingerOver.class, (stage, over) -> shell.onLingerOver(Effect(), stage))
        .onCommand(ReminderDue.class, (stage, due) -> {
          shell.reminded(due.dueAt());
          return onWakeUp(stage, WakeUp.INSTANCE);
        })
        .onCommand(GetPublicEvidence.class, this::onPublicEvidence)
        .onCommand(Stop.class, (stage, stop) -> shell.stop(Effect()))
        .build();
  }

  private Effect<ServerEvent, ServerStage> onInbound(ServerStage stage, Inbound inbound) {
    Optional<OpenedEnvelope> opened = InboundEnvelopes.open(services, inbound, entity.getEntityId(), log);
    if (opened.isEmpty()) {
      return carryOut(stage, Decision.none()); // nothing to act on: an empty entity passivates
    }
    return carryOut(stage, machine.decide(stage, new Input.Received(opened.get().from(), opened.get().message()),
        shell.now()));
  }

  private Effect<ServerEvent, ServerStage> onWakeUp(ServerStage stage, WakeUp wakeUp) {
    if (shell.wokenEarly()) {
      return Effect().none();
    }
    return carryOut(stage, machine.decide(stage, Input.WakeUp.INSTANCE, shell.now()));
  }

  private Effect<ServerEvent, ServerStage> carryOut(ServerStage stage, Decision<ServerEvent> decision) {
    return shell.carryOut(Effect(), stage, decision, EffectBuilder::thenNoReply);
  }

  private Effect<ServerEvent, ServerStage> onPublicEvidence(ServerStage stage, GetPublicEvidence query) {
    boolean published = stage instanceof ServerStage.Carrying carrying && carrying.carriage().origin();
    List<byte[]> evidence = ServerMachine.publicEvidence(stage).stream().map(SignedEvidence::toByteArray).toList();
    return shell.carryOut(Effect(), stage, Decision.none(),
        stored -> stored.thenReply(query.replyTo(), s -> new PublicEvidence(me, label, published, evidence)));
  }

  @Override
  public Recovery recovery() {
    return CoreShell.EVENTS_ONLY;
  }

  @Override
  public SignalHandler<ServerStage> signalHandler() {
    // Timers do not survive a restart: the machine's instants are persisted, so a wake-up
    // re-evaluates them (and resends what is owed) once recovery is complete.
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), stage -> {
          shell.recovered(stage);
          self.tell(WakeUp.INSTANCE);
        })
        .build();
  }

  @Override
  public EventHandler<ServerStage, ServerEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onEvent(ServerEvent.class, machine::apply).build();
  }
}
