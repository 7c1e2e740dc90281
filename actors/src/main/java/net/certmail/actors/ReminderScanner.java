package net.certmail.actors;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import net.certmail.persistence.audit.StreamId;
import net.certmail.persistence.reminders.Reminder;
import net.certmail.persistence.reminders.ReminderBackfill;
import net.certmail.persistence.reminders.ReminderStore;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * Wakes the entities of one organisation from their reminder rows. One per organisation in the
 * cluster (a cluster singleton on the nodes with the organisation's role): when its node is
 * killed, the singleton starts on a surviving node of the organisation and carries on from the
 * store, which is the only state that matters.
 *
 * <p>Every {@code scan-interval} it reads the rows due within {@code look-ahead} (only due
 * buckets: {@link ReminderStore#dueBetween}; where each scan starts, and why it reads as little as
 * it does, is {@link ScanCursor}'s); a row already due is fired at once, a row coming due is
 * fired by a timer at its exact instant, so a wake-up is late by at most the scheduler's tick
 * while the scanner keeps up. Firing sends the entity a wake-up through sharding, which starts
 * it wherever its shard lives. The entity deletes or moves the row once it has acted; a row
 * still there {@code refire-after} later is fired again (its entity was on a node that died, or
 * the message was lost): wake-ups are at least once, and a spurious one is harmless.
 *
 * <p>On its first start against a store never initialised for the organisation, it backfills a
 * row for each of the organisation's entity streams in the journal ({@link ReminderBackfill}):
 * a journal written before reminder rows existed must not leave a waiting entity asleep forever.
 */
final class ReminderScanner extends AbstractBehavior<ReminderScanner.Command> {

  sealed interface Command {}

  private enum Scan implements Command { INSTANCE }

  private enum Count implements Command { INSTANCE }

  /** A scan's rows: those due after its start ({@link ScanCursor.Scan}) up to its look-ahead. */
  private record Scanned(long startedAt, ScanCursor.Scan scan, List<Reminder> rows, Throwable failure)
      implements Command {}

  private record Counted(Long rows, Throwable failure) implements Command {}

  private record Fire(Reminder row) implements Command {}

  private enum Backfill implements Command { INSTANCE }

  private record Backfilled(Long rows, Throwable failure) implements Command {}

  /** Starts the organisation's scanner (where the role is) or a proxy to it. */
  static void init(org.apache.pekko.actor.typed.ActorSystem<?> system, String organisation, ReminderStore store,
                   ReminderSettings settings, ReminderMetrics metrics, Clock clock) {
    Behavior<Command> scanner = Behaviors.setup(context -> Behaviors.withTimers(timers ->
        new ReminderScanner(context, timers, organisation, store, settings, metrics, clock)));
    ClusterSingleton.get(system).init(SingletonActor.of(Behaviors.supervise(scanner)
            .onFailure(org.apache.pekko.actor.typed.SupervisorStrategy.restart()), "reminder-scanner-" + organisation)
        .withSettings(ClusterSingletonSettings.create(system).withRole(organisation)));
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final String organisation;
  private final ReminderStore store;
  private final ReminderSettings settings;
  private final ReminderMetrics metrics;
  private final Clock clock;
  private final ClusterSharding sharding;
  /** Rows fired and when; only rows the last complete scan still saw are kept. */
  private final Map<Reminder, Long> firedAt = new HashMap<>();
  /** Rows with a timer at their due instant. */
  private final Set<Reminder> scheduled = new HashSet<>();
  private boolean scanning;
  /** Where the next scan starts reading. */
  private final ScanCursor cursor;

  private ReminderScanner(ActorContext<Command> context, TimerScheduler<Command> timers, String organisation,
                          ReminderStore store, ReminderSettings settings, ReminderMetrics metrics, Clock clock) {
    super(context);
    this.context = context;
    this.timers = timers;
    this.organisation = organisation;
    this.store = store;
    this.settings = settings;
    this.metrics = metrics;
    this.clock = clock;
    this.sharding = ClusterSharding.get(context.getSystem());
    this.cursor = new ScanCursor(settings.completeScanInterval().toMillis(), settings.fullScanInterval().toMillis(),
        settings.scanOverlap().toMillis());
    timers.startTimerWithFixedDelay(Scan.INSTANCE, Duration.ZERO, settings.scanInterval());
    timers.startTimerWithFixedDelay(Count.INSTANCE, Duration.ZERO, settings.countInterval());
    context.getLog().info("reminder scanner of {} started", organisation);
    context.getSelf().tell(Backfill.INSTANCE);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Scan.INSTANCE, this::onScan)
        .onMessage(Scanned.class, this::onScanned)
        .onMessage(Fire.class, this::onFire)
        .onMessageEquals(Count.INSTANCE, this::onCount)
        .onMessage(Counted.class, this::onCounted)
        .onMessageEquals(Backfill.INSTANCE, this::onBackfill)
        .onMessage(Backfilled.class, this::onBackfilled)
        .build();
  }

  private Behavior<Command> onScan() {
    if (!scanning) {
      scanning = true;
      long startedAt = clock.millis();
      ScanCursor.Scan scan = cursor.next(startedAt, oldestFired());
      context.pipeToSelf(store.dueBetween(organisation, scan.after(), startedAt + settings.lookAhead().toMillis(),
          settings.scanLimit()), (rows, failure) -> new Scanned(startedAt, scan, rows, failure));
    }
    return this;
  }

  private Behavior<Command> onScanned(Scanned scanned) {
    scanning = false;
    if (scanned.failure() != null) {
      context.getLog().warn("reminder scan of {} failed ({}); next scan in {}: check the journal database / Cassandra",
          organisation, scanned.failure().getMessage(), settings.scanInterval());
      return this;
    }
    List<Reminder> rows = scanned.rows();
    boolean stopped = rows.size() >= settings.scanLimit();
    cursor.scanned(scanned.scan(), scanned.startedAt(), stopped ? rows.get(rows.size() - 1).dueAt() : ScanCursor.NONE);
    long now = clock.millis();
    long due = 0;
    for (Reminder row : rows) {
      if (row.dueAt() <= now) {
        due++;
        fire(row, now);
      } else if (scheduled.add(row)) {
        timers.startSingleTimer(row, new Fire(row), Duration.ofMillis(row.dueAt() - now));
      }
    }
    metrics.due(organisation, due);
    if (!stopped) {
      // Every row due in the scan's span: rows of that span no longer there were deleted by
      // their entities (older rows wait for a scan that reads them).
      Set<Reminder> seen = new HashSet<>(rows);
      long after = scanned.scan().after();
      firedAt.keySet().removeIf(row -> row.dueAt() > after && !seen.contains(row));
      scheduled.removeIf(row -> {
        boolean gone = row.dueAt() > after && !seen.contains(row);
        if (gone) {
          timers.cancel(row);
        }
        return gone;
      });
    }
    return this;
  }

  /** The due instant of the oldest row fired and not yet seen gone, or ScanCursor.NONE. */
  private long oldestFired() {
    return firedAt.keySet().stream().mapToLong(Reminder::dueAt).min().orElse(ScanCursor.NONE);
  }

  private Behavior<Command> onFire(Fire fire) {
    scheduled.remove(fire.row());
    fire(fire.row(), clock.millis());
    return this;
  }

  private void fire(Reminder row, long now) {
    Long last = firedAt.get(row);
    if (last != null && now - last < settings.refireAfter().toMillis()) {
      return; // fired recently: its entity is acting on it
    }
    if (!wake(row)) {
      return;
    }
    if (last == null) {
      metrics.fired(organisation, Duration.ofMillis(now - row.dueAt()));
    }
    firedAt.put(row, now);
  }

  /** Sends the wake-up through sharding; false for a row that names no entity kind of ours. */
  private boolean wake(Reminder row) {
    String principal;
    EntityKind kind;
    try {
      kind = EntityKind.ofTypeName(row.entityType());
      principal = EntityKind.principalOf(row.entityId());
    } catch (IllegalArgumentException | StringIndexOutOfBoundsException e) {
      context.getLog().warn("reminder row of {} names no entity of certmail ({} {}); left in the store", organisation,
          row.entityType(), row.entityId());
      return false;
    }
    switch (kind) {
      case OUTBOX -> sharding.entityRefFor(OutboxEntry.typeKey(principal), row.entityId())
          .tell(new OutboxEntry.ReminderDue(row.dueAt()));
      case SERVER -> sharding.entityRefFor(MailServer.typeKey(principal), row.entityId())
          .tell(new MailServer.ReminderDue(row.dueAt()));
      case INBOX -> sharding.entityRefFor(InboxEntry.typeKey(principal), row.entityId())
          .tell(new InboxEntry.ReminderDue(row.dueAt()));
    }
    return true;
  }

  private Behavior<Command> onBackfill() {
    context.pipeToSelf(ReminderBackfill.ensure(context.getSystem(), store, organisation, ReminderScanner::entityTypeOf,
        clock.millis(), settings.backfillPerSecond()), Backfilled::new);
    return this;
  }

  private Behavior<Command> onBackfilled(Backfilled backfilled) {
    if (backfilled.failure() != null) {
      context.getLog().warn("reminder backfill of {} from its journal failed ({}); trying again in {}: check the journal"
          + " database / Cassandra", organisation, backfilled.failure().getMessage(), settings.refireAfter());
      timers.startSingleTimer(Backfill.INSTANCE, settings.refireAfter());
    } else if (backfilled.rows() > 0) {
      context.getLog().info("reminder rows of {} backfilled from its journal: {} entity streams had none (a journal"
          + " older than its reminders); they wake at {} a second, recover and re-arm or clear their rows", organisation,
          backfilled.rows(), settings.backfillPerSecond());
    }
    return this;
  }

  /** The entity type of a stream in the journal: its role names the kind. */
  private static Optional<String> entityTypeOf(StreamId stream) {
    EntityKind kind = switch (stream.role()) {
      case SENDER -> EntityKind.OUTBOX;
      case SERVER -> EntityKind.SERVER;
      case RECIPIENT -> EntityKind.INBOX;
    };
    return Optional.of(kind.typeName(stream.principal()));
  }

  private Behavior<Command> onCount() {
    context.pipeToSelf(store.count(organisation, cursor.countAfter(oldestFired())), Counted::new);
    return this;
  }

  private Behavior<Command> onCounted(Counted counted) {
    if (counted.failure() == null) {
      metrics.waiting(organisation, counted.rows());
    }
    return this;
  }
}
