package net.certmail.actors;

import java.time.Duration;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Ignored;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.RoleMachine;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.slf4j.Logger;

/**
 * What every entity does with its role's decisions, in one place: persist the events, then send
 * the messages sealed as the entity's principal, count what was ignored, and arm one timer for
 * the role's next due instant — or, with nothing due, passivate (remember-entities then forgets
 * the entity: it owes nothing until a message or its owner wakes it).
 */
final class CoreShell<C, S, E> {
  /** Long waits are re-armed in steps: a wake-up before the due instant is harmless. */
  private static final long LONGEST_TIMER_MILLIS = Duration.ofHours(12).toMillis();

  private final EntityContext<C> entity;
  private final ActorContext<C> context;
  private final ActorRef<C> self;
  private final TimerScheduler<C> timers;
  private final C wakeUp;
  private final RoleMachine<S, E> machine;
  private final ProtocolServices services;
  private final String principal;
  private final Logger log;

  CoreShell(EntityContext<C> entity, ActorContext<C> context, TimerScheduler<C> timers, C wakeUp,
            RoleMachine<S, E> machine, ProtocolServices services) {
    this.entity = entity;
    this.context = context;
    this.self = context.getSelf();
    this.timers = timers;
    this.wakeUp = wakeUp;
    this.machine = machine;
    this.services = services;
    this.principal = EntityKind.principalOf(entity.getEntityId());
    this.log = context.getLog();
  }

  long now() {
    return services.now();
  }

  /** Persists the decision's events; once they are stored, sends its messages and re-arms the timer. */
  EffectBuilder<E, S> carryOut(EffectFactories<E, S> effects, Decision<E> decision) {
    for (Ignored ignored : decision.ignored()) {
      services.metrics.ignored(log, entity.getEntityId(), ignored.reason(), ignored.detail());
    }
    EffectBuilder<E, S> stored = decision.events().isEmpty() ? effects.none() : effects.persist(decision.events());
    return stored.thenRun(stage -> {
      send(decision);
      arm(stage);
    });
  }

  void send(Decision<E> decision) {
    for (Outgoing outgoing : decision.messages()) {
      services.transport.send(principal, outgoing);
    }
  }

  /**
   * The shard's stop message after a passivation. Commands queued behind the passivation request
   * were handled first and may have made work due again (an owner's accept behind a resent
   * notification): then a wake-up goes through the shard, which holds it while this incarnation
   * stops and starts a new one for it, so nothing owed is dropped with the entity.
   */
  EffectBuilder<E, S> stop(EffectFactories<E, S> effects, S stage) {
    if (machine.dueAt(stage, services.now()) != RoleMachine.NEVER) {
      ClusterSharding.get(context.getSystem()).entityRefFor(entity.getEntityTypeKey(), entity.getEntityId())
          .tell(wakeUp);
    }
    return effects.stop();
  }

  /** One timer for the next due instant; none due: passivate. */
  void arm(S stage) {
    long now = services.now();
    long due = machine.dueAt(stage, now);
    if (due == RoleMachine.NEVER) {
      timers.cancel(wakeUp);
      entity.getShard().tell(new ClusterSharding.Passivate<>(self));
      return;
    }
    long delay = Math.min(Math.max(0, due - now), LONGEST_TIMER_MILLIS);
    timers.startSingleTimer(wakeUp, wakeUp, Duration.ofMillis(delay));
  }
}
