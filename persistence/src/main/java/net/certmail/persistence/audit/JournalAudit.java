package net.certmail.persistence.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.TrustStore;
import net.certmail.persistence.JournalBackend;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The journal audit, streaming: list the persistence ids, group them by label ({@link StreamId}),
 * then read and check a few labels at a time ({@link JournalAuditor}). Memory holds the ids, the
 * labels in flight and the findings, never the journal: a label's events are dropped once it is
 * checked.
 *
 * <pre>{@code
 * ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "audit", backend.config(settings));
 * JournalAudit.Report report = JournalAudit.run(system, backend, trustStore, Instant.now(), progress -> {});
 * report.writeJson(Path.of("audit.json"));
 * }</pre>
 */
public final class JournalAudit {
  /** Labels read and checked at once: reads overlap with signature checks on the other cores. */
  public static final int PARALLELISM = 16;
  private static final java.lang.management.ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private JournalAudit() {}

  /**
   * How far the audit has come.
   *
   * @param labels labels audited so far, of {@code labelsTotal}
   */
  public record Progress(long labels, long labelsTotal, long events, long violations) {}

  /**
   * Which part of the journal to audit.
   *
   * @param since only labels with an event written at or after this instant (null: all); the
   *     other labels' streams are still read, not checked
   * @param labels only these labels (empty: all)
   */
  public record Scope(Instant since, Set<String> labels, Duration timeout) {
    public static final Scope ALL = new Scope(null, Set.of(), Duration.ofHours(2));

    public Scope {
      labels = Set.copyOf(labels);
    }

    boolean includes(String label) {
      return labels.isEmpty() || labels.contains(label);
    }
  }

  /**
   * The result, how long the audit took and the largest heap seen while it ran.
   *
   * @param checkCpuNanos CPU time the check threads spent in the labels' checks (the rest of the
   *     audit's CPU is reading and decoding the journal)
   */
  public record Report(JournalBackend backend, Instant auditedAt, AuditResult result, Duration elapsed,
                       long labelsSkipped, long peakHeapBytes, long checkCpuNanos) {

    /** Events audited per second end to end: reading, decoding, the chain, replay and every signature. */
    public double auditEventsPerSecond() {
      return (result.events() + result.shardingEvents()) / Math.max(0.001, elapsed.toNanos() / 1e9);
    }

    public List<String> summary() {
      List<String> lines = new ArrayList<>();
      lines.add("journal " + backend.name().toLowerCase() + ", audited at " + auditedAt);
      lines.add(result.persistenceIds() + " persistence ids, " + result.events() + " certmail events ("
          + result.chainedEvents() + " hash-chained; + " + result.shardingEvents() + " of cluster sharding, not audited), "
          + result.outcomes().size() + " labels" + (labelsSkipped > 0 ? " (" + labelsSkipped + " outside --since/--labels)"
          : "") + ", " + result.evidenceVerified() + " evidence items verified"
          + (result.lateEvidenceNotVerified() > 0
              ? " (" + result.lateEvidenceNotVerified() + " late items recorded as received, not verified)" : ""));
      lines.add("outcomes: " + result.outcomeCounts() + (result.refusedSubmissions() > 0
          ? ", submissions refused before a label: " + result.refusedSubmissions() : ""));
      lines.add(String.format("audit %.0f events/s (%d ms), peak heap %d MiB", auditEventsPerSecond(),
          elapsed.toMillis(), peakHeapBytes >> 20));
      lines.add(result.passed() ? "PASSED: every rule holds" : "FAILED: " + result.violations().size()
          + " violation(s)");
      return lines;
    }

    public void writeJson(Path file) throws IOException {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("backend", backend.name().toLowerCase());
      json.put("auditedAt", auditedAt.toString());
      json.put("passed", result.passed());
      json.put("persistenceIds", result.persistenceIds());
      json.put("events", result.events());
      json.put("chainedEvents", result.chainedEvents());
      json.put("shardingEvents", result.shardingEvents());
      json.put("labels", result.outcomes().size());
      json.put("labelsSkipped", labelsSkipped);
      json.put("evidenceVerified", result.evidenceVerified());
      json.put("lateEvidenceNotVerified", result.lateEvidenceNotVerified());
      json.put("refusedSubmissions", result.refusedSubmissions());
      json.put("outcomes", result.outcomeCounts());
      json.put("averageEventsPerMail", result.averageEventsPerMail());
      json.put("elapsedMillis", elapsed.toMillis());
      json.put("eventsPerSecond", Math.round(auditEventsPerSecond()));
      json.put("peakHeapBytes", peakHeapBytes);
      Map<AuditRule, Long> counts = new TreeMap<>();
      result.violations().forEach(v -> counts.merge(v.rule(), 1L, Long::sum));
      List<Map<String, Object>> rules = new ArrayList<>();
      for (AuditRule rule : AuditRule.values()) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("rule", rule.id());
        r.put("holds", !counts.containsKey(rule));
        r.put("violations", counts.getOrDefault(rule, 0L));
        r.put("description", rule.description());
        rules.add(r);
      }
      json.put("rules", rules);
      List<Map<String, Object>> violations = new ArrayList<>();
      for (Violation violation : result.violations()) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("rule", violation.rule().id());
        v.put("label", violation.label());
        v.put("principal", violation.principal());
        v.put("persistenceId", violation.persistenceId());
        v.put("sequenceNr", violation.sequenceNr());
        v.put("event", violation.event());
        v.put("expected", violation.rule().description());
        v.put("detail", violation.detail());
        violations.add(v);
      }
      json.put("violations", violations);
      Map<String, String> perLabel = new LinkedHashMap<>();
      result.outcomes().forEach((label, outcome) -> perLabel.put(label, outcome.name()));
      json.put("labelOutcomes", perLabel);
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), json);
    }
  }

  public static Report run(ActorSystem<?> system, JournalBackend backend, TrustStore trustStore, Instant now,
                           Consumer<Progress> progress) {
    return run(system, backend, trustStore, now, Scope.ALL, progress);
  }

  /**
   * Audits the journal the system is configured with.
   *
   * @param now the audit's "now": a deadline T before it must have a verdict
   * @param progress called after each label (from a stream thread)
   */
  public static Report run(ActorSystem<?> system, JournalBackend backend, TrustStore trustStore, Instant now,
                           Scope scope, Consumer<Progress> progress) {
    long start = System.nanoTime();
    HeapWatch heap = new HeapWatch();
    // Signature checks are CPU work: off the stream's dispatcher, on one thread per core.
    ExecutorService checks = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
    ExecutorService reads = Executors.newFixedThreadPool(4);
    // Both readers go to the tables directly (one pass over the table on H2, each label's streams
    // at once on Cassandra): Persistence Query's per-stream queries bounded the audit at ~1,500 events/s.
    JournalReader reader = backend == JournalBackend.EMBEDDED ? new EmbeddedJournalReader(system, reads)
        : new CassandraJournalReader(system);
    try {
      return run(reader, backend, trustStore, now, scope, progress, system, checks, start, heap);
    } finally {
      reader.close();
      checks.shutdownNow();
      reads.shutdownNow();
    }
  }

  private static Report run(JournalReader reader, JournalBackend backend, TrustStore trustStore, Instant now,
                            Scope scope, Consumer<Progress> progress, ActorSystem<?> system,
                            ExecutorService checks, long start, HeapWatch heap) {
    List<String> ids;
    try {
      ids = reader.persistenceIds();
    } catch (Exception e) {
      throw new IllegalStateException("cannot list the journal's persistence ids: " + e.getMessage()
          + "; check that the journal is reachable and holds certmail's tables", e);
    }
    // Labels in the order the reader lists their streams (on H2 the order they were written in).
    Map<String, List<String>> byLabel = new LinkedHashMap<>();
    List<String> unaudited = new ArrayList<>();
    for (String id : ids) {
      StreamId stream = StreamId.parse(id);
      if (stream == null) {
        unaudited.add(id);
      } else {
        byLabel.computeIfAbsent(stream.label(), label -> new ArrayList<>()).add(id);
      }
    }
    Set<String> organisations = LabelAudit.organisationsOf(ids);
    JournalAuditor auditor = new JournalAuditor(new EvidenceVerifier(trustStore), now);
    JournalAuditor.Tally tally = new JournalAuditor.Tally();
    long total = byLabel.keySet().stream().filter(scope::includes).count();
    AtomicLong labelsDone = new AtomicLong();
    AtomicLong events = new AtomicLong();
    AtomicLong skipped = new AtomicLong(byLabel.size() - total);
    AtomicLong checkCpu = new AtomicLong();
    Map<String, List<String>> inScope = new LinkedHashMap<>();
    byLabel.forEach((label, labelIds) -> {
      if (scope.includes(label)) {
        inScope.put(label, labelIds);
      }
    });
    CompletableFuture<?> done = reader.labels(inScope)
        .mapAsyncUnordered(PARALLELISM, read -> CompletableFuture.supplyAsync(() -> {
          List<List<JournalEvent>> streams = read.streams();
          events.addAndGet(streams.stream().mapToLong(List::size).sum());
          if (scope.since() != null && streams.stream().flatMap(List::stream)
              .noneMatch(e -> e.writtenAtMillis() >= scope.since().toEpochMilli())) {
            skipped.incrementAndGet();
          } else {
            long cpu = THREADS.getCurrentThreadCpuTime();
            tally.add(auditor.auditLabel(read.label(), streams, organisations));
            checkCpu.addAndGet(THREADS.getCurrentThreadCpuTime() - cpu);
          }
          heap.sample();
          progress.accept(new Progress(labelsDone.incrementAndGet(), total, events.get(), tally.violationCount()));
          return read.label();
        }, checks))
        .runWith(Sink.ignore(), system)
        .toCompletableFuture();
    await(done, scope.timeout(), "auditing the journal");
    List<List<JournalEvent>> others = await(reader.read(unaudited), scope.timeout(),
        "reading the streams that are no certmail entity's");
    for (List<JournalEvent> stream : others) {
      if (!stream.isEmpty()) {
        tally.unaudited(stream.get(0).persistenceId(), stream.size());
      }
    }
    heap.sample();
    return new Report(backend, now, tally.result(ids.size()), Duration.ofNanos(System.nanoTime() - start),
        skipped.get(), heap.peak(), checkCpu.get());
  }

  static <T> T await(CompletionStage<T> stage, Duration timeout, String what) {
    CompletableFuture<T> future = stage.toCompletableFuture();
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(what + " did not finish within " + timeout + "; is the journal reachable?"
          + " Try a longer --timeout", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while " + what, e);
    } catch (ExecutionException e) {
      Throwable cause = unwrap(e.getCause());
      throw new IllegalStateException(what + " failed: " + cause.getMessage()
          + "; check that the journal is reachable and holds certmail's tables (on Cassandra: that the keyspace"
          + " is the nodes' certmail.journal.cassandra.keyspace)", cause);
    }
  }

  /** The failure inside the CompletionExceptions that futures wrap it in. */
  static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  /** The largest heap in use seen at any sample (after the collections the JVM chose to run). */
  private static final class HeapWatch {
    private final List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(pool -> pool.getType() == MemoryType.HEAP).toList();
    private long peak;

    HeapWatch() {
      pools.forEach(MemoryPoolMXBean::resetPeakUsage);
    }

    synchronized void sample() {
      long used = pools.stream().mapToLong(pool -> pool.getPeakUsage().getUsed()).sum();
      peak = Math.max(peak, used);
    }

    synchronized long peak() {
      return peak;
    }
  }
}
