package net.certmail.actors;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The reminders' meters (Prometheus names in brackets): rows waiting in the store
 * [certmail_reminders_waiting], rows found due by the last scan [certmail_reminders_due], wake-ups
 * sent [certmail_reminders_fired_total], how late each was against its due instant
 * [certmail_reminders_lateness_seconds, p50/p99 and max], rows the entities wrote and deleted
 * [certmail_reminders_rows_written_total, certmail_reminders_rows_deleted_total: what waiting costs
 * the store] and their failed store operations [certmail_reminders_store_failures_total]. Waiting,
 * due, fired and lateness are per organisation.
 */
public final class ReminderMetrics {
  public static final String WAITING = "certmail.reminders.waiting";
  public static final String DUE = "certmail.reminders.due";
  public static final String FIRED = "certmail.reminders.fired";
  public static final String LATENESS = "certmail.reminders.lateness";
  public static final String STORE_FAILURES = "certmail.reminders.store.failures";
  public static final String ROWS_WRITTEN = "certmail.reminders.rows.written";
  public static final String ROWS_DELETED = "certmail.reminders.rows.deleted";

  private final MeterRegistry registry;
  private final Map<String, AtomicLong> waiting = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> due = new ConcurrentHashMap<>();
  private final Counter storeFailures;
  private final Counter rowsWritten;
  private final Counter rowsDeleted;

  public ReminderMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.storeFailures = Counter.builder(STORE_FAILURES)
        .description("Reminder writes or deletes of entities that failed (and were tried again)").register(registry);
    this.rowsWritten = Counter.builder(ROWS_WRITTEN).description("Reminder rows the entities wrote").register(registry);
    this.rowsDeleted = Counter.builder(ROWS_DELETED).description("Reminder rows the entities deleted").register(registry);
  }

  void rowWritten() {
    rowsWritten.increment();
  }

  void rowDeleted() {
    rowsDeleted.increment();
  }

  /** Rows written and deleted by the entities of this node so far. */
  public long rowsWritten() {
    return (long) rowsWritten.count();
  }

  public long rowsDeleted() {
    return (long) rowsDeleted.count();
  }

  void storeFailed() {
    storeFailures.increment();
  }

  void waiting(String organisation, long rows) {
    gauge(waiting, WAITING, "Reminder rows in the store (entities that owe work)", organisation).set(rows);
  }

  void due(String organisation, long rows) {
    gauge(due, DUE, "Reminder rows the last scan found due or about to be", organisation).set(rows);
  }

  void fired(String organisation, Duration lateness) {
    Counter.builder(FIRED).description("Wake-ups sent from reminder rows").tag("organisation", organisation)
        .register(registry).increment();
    Timer.builder(LATENESS).description("How long after its due instant a reminder's wake-up was sent")
        .tag("organisation", organisation).publishPercentiles(0.5, 0.99).publishPercentileHistogram()
        .register(registry).record(lateness.isNegative() ? Duration.ZERO : lateness);
  }

  private AtomicLong gauge(Map<String, AtomicLong> values, String name, String description, String organisation) {
    return values.computeIfAbsent(organisation, org -> {
      AtomicLong value = new AtomicLong();
      Gauge.builder(name, value, AtomicLong::get).description(description).tag("organisation", org).register(registry);
      return value;
    });
  }
}
