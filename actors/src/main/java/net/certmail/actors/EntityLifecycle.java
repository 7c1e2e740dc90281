package net.certmail.actors;

import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;

/**
 * An entity's ticking and passivation, the same for every kind. While an entity owes work it
 * ticks: each tick re-reads its persisted deadlines and resends what is due (Pekko timers do not
 * survive a restart, persisted instants do). With nothing owed, it asks its shard to passivate
 * it, which with remember-entities also means it is not restarted after a crash.
 */
final class EntityLifecycle<C> {
  private final EntityContext<C> entity;
  private final ActorRef<C> self;
  private final TimerScheduler<C> timers;
  private final C tick;
  private final Duration interval;

  EntityLifecycle(EntityContext<C> entity, ActorRef<C> self, TimerScheduler<C> timers, C tick, Duration interval) {
    this.entity = entity;
    this.self = self;
    this.timers = timers;
    this.tick = tick;
    this.interval = interval;
  }

  String entityId() {
    return entity.getEntityId();
  }

  void startTicking() {
    timers.startTimerWithFixedDelay(tick, interval);
  }

  void passivate() {
    timers.cancel(tick);
    entity.getShard().tell(new ClusterSharding.Passivate<>(self));
  }
}
