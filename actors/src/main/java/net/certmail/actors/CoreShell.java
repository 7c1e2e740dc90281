package net.certmail.actors;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import net.certmail.persistence.reminders.Reminder;
import net.certmail.persistence.reminders.ReminderStore;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Ignored;
import net.certmail.protocol.Outgoing;
import net.certmail.protocol.RoleMachine;
import net.certmail.protocol.Routing;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.persistence.typed.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.Recovery;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.slf4j.Logger;

/**
 * What every entity does with its role's decisions, in one place: persist the events, then send
 * the messages sealed as the entity's principal, count what was ignored, and keep the entity's
 * durable reminder and its one timer in step with the role's next due instant.
 *
 * <p><b>Reminders and the order of writes.</b> An entity that owes work has a reminder row due
 * no later than its next due instant; the organisation's {@link ReminderScanner} wakes it from
 * that row after a crash, a rebalance or a sleep. No crash may lose a duty, so:
 * <ol>
 *   <li>Before events are persisted, the machine's next stage and its due instant are computed
 *       (the machine is pure). If no stored row is due at or before that instant, the row is
 *       written FIRST and the command is handled again once it is stored (the entity stashes what
 *       arrives meanwhile). A crash after the row and before the events leaves a row without the
 *       duty: the entity wakes early, finds nothing due and clears it — harmless. The other order
 *       (events, then row) would leave a persisted duty with no row: lost.</li>
 *   <li>Before the entity sleeps its row is moved to the exact due instant (new row written,
 *       then the old one deleted: in between there are two, never none) or, when nothing is due,
 *       deleted. A crash in between leaves an early or stale row: again only an early wake-up.</li>
 * </ol>
 * While its next due instant is near ({@code stay-awake}) the entity keeps one timer for it;
 * further away it passivates ({@code linger} later, so that a client polling its status or the
 * next message of the mail finds it awake) and the scanner wakes it. Reminder operations of one
 * entity run one at a time; commands that arrive meanwhile wait in the stash.
 *
 * <p>While the entity is awake its row may be earlier than its due instant: the timer does the
 * work, and an early row only wakes an awake entity (a wake-up before the timer's instant decides
 * nothing). The row is moved to the exact instant when the entity goes to sleep, at the end of its
 * linger, not when it decides to: a mail in flight costs one row write per entity, not two per
 * decision, and a wait that ends within the linger (most do) never writes the far row at all.
 */
final class CoreShell<C, S, E> {
  /**
   * certmail never saves snapshots (a role's stream is a few events): recovery replays the events
   * without asking the snapshot store first. With the default, every wake-up of a sleeping entity
   * (a reminder, a message, a status read) cost a snapshot query to the journal's database before
   * the event query, and failed on that query's circuit breaker while Cassandra was down.
   */
  static final Recovery EVENTS_ONLY = Recovery.withSnapshotSelectionCriteria(SnapshotSelectionCriteria.none());

  /** Long waits are re-armed in steps: a wake-up before the due instant is harmless. */
  private static final long LONGEST_TIMER_MILLIS = Duration.ofHours(12).toMillis();
  /** A failed reminder operation is tried again after this long (the store is down or slow). */
  private static final long RETRY_MILLIS = 1000;
  /** No row, or none this incarnation knows of (a stale one clears itself when it fires). */
  private static final long NO_ROW = Long.MIN_VALUE;
  /** Recovered with work due: some row exists (written before the events that created the duty), which one is unknown. */
  private static final long UNKNOWN_ROW = Long.MIN_VALUE + 1;

  private final EntityContext<C> entity;
  private final ActorContext<C> context;
  private final ActorRef<C> self;
  private final TimerScheduler<C> timers;
  private final C wakeUp;
  /** The timer message that ends the linger before a sleep (also the timer's key). */
  private final C lingerOver;
  private final Function<Throwable, C> reminderStored;
  private final RoleMachine<S, E> machine;
  private final ProtocolServices services;
  private final String principal;
  private final Reminder row;
  private final Logger log;

  /** The due instant of the row this incarnation wrote, or NO_ROW / UNKNOWN_ROW. */
  private long storedRow = NO_ROW;
  /**
   * After recovery with work due: the instant the duty's row normally sits at (rows are moved to
   * the exact due instant after each decision's events). Deleted once this incarnation's own row
   * covers the duty, or nothing is due; left alone it would wake the entity once more for nothing.
   */
  private long recoveredRow = NO_ROW;
  /** Rows the scanner fired at this incarnation that are not (yet) its stored row: deleted once replaced. */
  private final List<Long> firedRows = new ArrayList<>();
  /** What must be stored before a decision's events (InboxEntry: its inbox index row), or empty. */
  private final Function<List<E>, Optional<Supplier<CompletionStage<Done>>>> storeFirst;
  /** The reminder operation in flight (commands wait), or null. */
  private ReminderOperation<E, S> pending;
  /** The instant, by the entity's clock, that the one timer was armed for; NO_TIMER when none is. */
  private long timerAt = NO_TIMER;
  private static final long NO_TIMER = Long.MIN_VALUE;

  CoreShell(EntityContext<C> entity, ActorContext<C> context, TimerScheduler<C> timers, C wakeUp, C lingerOver,
            Function<Throwable, C> reminderStored, RoleMachine<S, E> machine, ProtocolServices services) {
    this(entity, context, timers, wakeUp, lingerOver, reminderStored, machine, services, events -> Optional.empty());
  }

  /** @param storeFirst a write that must be stored before the given events are persisted, if any */
  CoreShell(EntityContext<C> entity, ActorContext<C> context, TimerScheduler<C> timers, C wakeUp, C lingerOver,
            Function<Throwable, C> reminderStored, RoleMachine<S, E> machine, ProtocolServices services,
            Function<List<E>, Optional<Supplier<CompletionStage<Done>>>> storeFirst) {
    this.storeFirst = storeFirst;
    this.entity = entity;
    this.context = context;
    this.self = context.getSelf();
    this.timers = timers;
    this.wakeUp = wakeUp;
    this.lingerOver = lingerOver;
    this.reminderStored = reminderStored;
    this.machine = machine;
    this.services = services;
    this.principal = EntityKind.principalOf(entity.getEntityId());
    this.row = new Reminder(Routing.organisationOf(principal), entity.getEntityTypeKey().name(), entity.getEntityId(), 0);
    this.log = context.getLog();
  }

  long now() {
    return services.now();
  }

  private void passivate() {
    entity.getShard().tell(new ClusterSharding.Passivate<>(self));
  }

  /**
   * Sleeps after the linger. A sleeping entity costs a recovery per message or status read; a
   * client polling a mail's status every second woke its outbox entry from the journal on every
   * poll (bench load: ~20 recoveries per mail).
   */
  private void sleepSoon() {
    if (services.lingerMillis <= 0) {
      passivate();
    } else {
      timers.startSingleTimer(lingerOver, lingerOver, Duration.ofMillis(services.lingerMillis));
    }
  }

  /**
   * The linger is over: sleep, unless work came near meanwhile (a timer armed) or a reminder
   * operation is in flight. An own row earlier than the due instant (the entity went to sleep with
   * it, see settle) is first moved to the instant, so that the sleeping entity is not woken early.
   */
  ReplyEffect<E, S> onLingerOver(EffectFactories<E, S> effects, S stage) {
    if (timerAt != NO_TIMER || pending != null) {
      return effects.none().thenNoReply();
    }
    long now = now();
    long due = machine.dueAt(stage, now);
    long at = Math.max(due, now);
    boolean ownRow = storedRow != NO_ROW && storedRow != UNKNOWN_ROW;
    if (ownRow && due != RoleMachine.NEVER && storedRow < at && firedRows.isEmpty()) {
      start(new ReminderOperation<>(null, List.of(at), List.of(storedRow), at, Afterwards.SLEEP_NOW, null));
    } else {
      passivate();
    }
    return effects.none().thenNoReply();
  }

  /** Whether a reminder operation is in flight: every command but its outcome waits in the stash. */
  boolean busy() {
    return pending != null;
  }

  /**
   * After recovery: with work due, a row no later than the due instant exists (written before the
   * events that created the duty); which one, this incarnation does not know for sure.
   */
  void recovered(S stage) {
    long due = machine.dueAt(stage, now());
    storedRow = due == RoleMachine.NEVER ? NO_ROW : UNKNOWN_ROW;
    recoveredRow = due == RoleMachine.NEVER ? NO_ROW : due;
  }

  /**
   * Whether a wake-up came before the instant the timer was armed for, by the entity's clock (the
   * scheduler ran ahead of the clock, or a test's clock stands still); if so the timer is armed
   * again for the rest and nothing is decided. A wake-up resends what the stage owes, and the
   * machines know only the instant a stage was entered, not when they last sent: one decided
   * early would resend before the schedule (a seal, an open and the answer's, for nothing).
   */
  boolean wokenEarly() {
    long now = now();
    if (timerAt == NO_TIMER || now >= timerAt) {
      timerAt = NO_TIMER;
      return false;
    }
    timers.startSingleTimer(wakeUp, wakeUp, Duration.ofMillis(timerAt - now));
    return true;
  }

  /** The scanner fired the row due at {@code dueAt}: handled like a wake-up, and the row replaced or deleted after. */
  void reminded(long dueAt) {
    if (!firedRows.contains(dueAt)) {
      firedRows.add(dueAt);
    }
  }

  /**
   * Carries out a decision: if its next stage owes work no stored row covers, the row is written
   * first and the decision carried out once it is stored (commands arriving meanwhile wait in the
   * stash, so the stage it was decided on is still the entity's); otherwise at once: the events
   * persisted, then the messages sent and the reminder and timer set. {@code reply} finishes the
   * effect (it runs when the decision is carried out).
   */
  ReplyEffect<E, S> carryOut(EffectFactories<E, S> effects, S stage, Decision<E> decision,
                             Function<EffectBuilder<E, S>, ReplyEffect<E, S>> reply) {
    long now = now();
    S next = stage;
    for (E event : decision.events()) {
      next = machine.apply(next, event);
    }
    long due = machine.dueAt(next, now);
    long at = Math.max(due, now);
    // Without events the stage and its duty are the recovered ones, which a stored row covers.
    boolean covered = covers(storedRow, at) || storedRow == UNKNOWN_ROW && decision.events().isEmpty();
    boolean remindFirst = due != RoleMachine.NEVER && !covered;
    Optional<Supplier<CompletionStage<Done>>> first = storeFirst.apply(decision.events());
    if (remindFirst || first.isPresent()) {
      // A later row of this incarnation's own (it slept until a far instant, now work is near) is
      // deleted once the nearer one is stored; forgotten, it would wake the concluded entity weeks later.
      List<Long> replaced = remindFirst && covers(storedRow, Long.MAX_VALUE) ? List.of(storedRow) : List.of();
      start(new ReminderOperation<E, S>(first.orElse(null), remindFirst ? List.of(at) : List.of(), replaced,
          remindFirst ? at : storedRow, Afterwards.STAY, later -> persistThenSettle(later, decision, reply)));
      return effects.noReply(); // the decision's effect, reply included, comes once that is stored
    }
    return persistThenSettle(effects, decision, reply);
  }

  private ReplyEffect<E, S> persistThenSettle(EffectFactories<E, S> effects, Decision<E> decision,
                                             Function<EffectBuilder<E, S>, ReplyEffect<E, S>> reply) {
    for (Ignored ignored : decision.ignored()) {
      services.metrics.ignored(log, entity.getEntityId(), ignored.reason(), ignored.detail());
    }
    EffectBuilder<E, S> stored = decision.events().isEmpty() ? effects.none() : effects.persist(decision.events());
    return reply.apply(stored.thenRun(stage -> {
      send(decision);
      settle(stage);
    }));
  }

  private static boolean covers(long storedRow, long due) {
    return storedRow != NO_ROW && storedRow != UNKNOWN_ROW && storedRow <= due;
  }

  void send(Decision<E> decision) {
    for (Outgoing outgoing : decision.messages()) {
      services.transport.send(principal, outgoing);
    }
  }

  /**
   * The shard's stop message after a passivation (own, or sharding's idle passivation). Whatever
   * the stage still owes is covered by a stored row (written before the events that created it),
   * so the entity simply stops and the scanner wakes it when due; a reminder operation in flight
   * finished first (the stop message waited in the stash).
   */
  EffectBuilder<E, S> stop(EffectFactories<E, S> effects) {
    return effects.stop();
  }

  /** The outcome of the reminder operation in flight; on success, what was stashed is handled. */
  ReplyEffect<E, S> onStored(EffectFactories<E, S> effects, Throwable failure) {
    ReminderOperation<E, S> done = pending;
    if (done == null) {
      return effects.noReply();
    }
    if (failure != null) {
      services.reminderMetrics.storeFailed();
      log.warn("{}: reminder store failed ({}); trying again in {} ms. Check the journal database / Cassandra.",
          entity.getEntityId(), failure.getMessage(), RETRY_MILLIS);
      CompletionStage<Done> retry = CompletableFuture.supplyAsync(() -> done,
              CompletableFuture.delayedExecutor(RETRY_MILLIS, TimeUnit.MILLISECONDS))
          .thenCompose(this::execute);
      context.pipeToSelf(retry, (ok, again) -> reminderStored.apply(again));
      return effects.noReply();
    }
    pending = null;
    storedRow = done.storedAfter();
    firedRows.removeAll(done.deletes());
    switch (done.afterwards()) {
      case SLEEP_SOON -> sleepSoon();
      case SLEEP_NOW -> {
        if (timerAt == NO_TIMER) {
          passivate(); // the linger is over already; work that came meanwhile armed a timer
        }
      }
      case STAY -> { }
    }
    ReplyEffect<E, S> effect = done.then() == null ? effects.none().thenNoReply() : done.then().apply(effects);
    return effect.thenUnstashAll();
  }

  /**
   * After the events are stored: one timer for a near due instant, else sleep with the row at
   * the exact instant; nothing due: delete the rows and passivate.
   */
  void settle(S stage) {
    long now = now();
    long due = machine.dueAt(stage, now);
    List<Long> known = new ArrayList<>(firedRows);
    boolean ownRow = storedRow != NO_ROW && storedRow != UNKNOWN_ROW;
    if (ownRow && !known.contains(storedRow)) {
      known.add(storedRow);
    }
    if (recoveredRow != NO_ROW && (due == RoleMachine.NEVER || ownRow)) {
      if (!known.contains(recoveredRow)) {
        known.add(recoveredRow);
      }
      recoveredRow = NO_ROW;
    }
    if (due == RoleMachine.NEVER) {
      timers.cancel(wakeUp);
      timerAt = NO_TIMER;
      if (known.isEmpty()) {
        storedRow = NO_ROW;
        sleepSoon();
      } else {
        start(new ReminderOperation<>(null, List.of(), known, NO_ROW, Afterwards.SLEEP_SOON, null));
      }
      return;
    }
    long at = Math.max(due, now);
    long delay = at - now;
    boolean sleep = delay > services.stayAwakeMillis;
    if (sleep) {
      timers.cancel(wakeUp);
      timerAt = NO_TIMER;
    } else {
      timers.cancel(lingerOver);
      long timerDelay = Math.min(delay, LONGEST_TIMER_MILLIS);
      timers.startSingleTimer(wakeUp, wakeUp, Duration.ofMillis(timerDelay));
      timerAt = now + timerDelay;
    }
    if (storedRow == UNKNOWN_ROW && firedRows.isEmpty()) {
      // Woken by a message or a read, nothing persisted since recovery: the recovered row still
      // covers the duty. Writing another here cost a write per read of a sleeping entity.
      if (sleep) {
        sleepSoon();
      }
      return;
    }
    if (storedRow == at && known.stream().allMatch(instant -> instant == at)) {
      firedRows.clear(); // fired a little early (the scanner's clock): the same row stays
      if (sleep) {
        sleepSoon();
      }
      return;
    }
    if (ownRow && storedRow <= at && known.size() == 1 && firedRows.isEmpty()
        && (!sleep || services.lingerMillis > 0)) {
      // Awake, the timer does the work. Going to sleep, the early row is moved when the linger is
      // over (onLingerOver), not now: most waits end within it (the verdict comes), and a row moved
      // now to a deadline a day ahead was written and deleted again for nothing, a tombstone in a
      // bucket the scans and the waiting count would read until that day (bench load: 1-2 per mail).
      // Without a linger the entity sleeps at once, so the row is moved at once (below).
      if (sleep) {
        sleepSoon();
      }
      return;
    }
    // Move the row to the exact instant (an early one would wake a sleeping entity for nothing),
    // new row first, then the old ones.
    List<Long> obsolete = known.stream().filter(instant -> instant != at).toList();
    start(new ReminderOperation<>(null, storedRow == at ? List.of() : List.of(at), obsolete, at,
        sleep ? Afterwards.SLEEP_SOON : Afterwards.STAY, null));
  }

  private void start(ReminderOperation<E, S> operation) {
    pending = operation;
    context.pipeToSelf(execute(operation), (ok, failure) -> reminderStored.apply(failure));
  }

  /** Writes, then deletes (ReminderStore.replace): between the two there are two rows, never none. */
  private CompletionStage<Done> execute(ReminderOperation<E, S> operation) {
    CompletionStage<Done> first = operation.first() == null ? CompletableFuture.completedFuture(Done.getInstance())
        : operation.first().get();
    List<Reminder> writes = operation.writes().stream().map(row::at).toList();
    List<Reminder> deletes = operation.deletes().stream().map(row::at).toList();
    ReminderMetrics metrics = services.reminderMetrics;
    return first.thenCompose(done -> services.reminders.replace(writes, deletes)).thenApply(done -> {
      writes.forEach(written -> metrics.rowWritten());
      deletes.forEach(deleted -> metrics.rowDeleted());
      return done;
    });
  }

  /**
   * @param first a write to store before the rows (null: none)
   * @param storedAfter the row this incarnation knows once done
   * @param afterwards whether the entity then sleeps: after the linger, at once, or not
   * @param then the decision waiting for this row, carried out once it is stored (null: none)
   */
  private record ReminderOperation<E, S>(Supplier<CompletionStage<Done>> first, List<Long> writes, List<Long> deletes,
                                         long storedAfter, Afterwards afterwards,
                                         Function<EffectFactories<E, S>, ReplyEffect<E, S>> then) {}

  /** What the entity does once a reminder operation is stored. */
  private enum Afterwards { STAY, SLEEP_SOON, SLEEP_NOW }
}
