package net.certmail.persistence.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.TrustStore;
import net.certmail.persistence.JournalBackend;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The journal audit: replay (Persistence Query) then the rules ({@link JournalAuditor}).
 *
 * <pre>{@code
 * ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "audit", backend.config(settings));
 * JournalAudit.Report report = JournalAudit.run(system, backend, trustStore, Instant.now(), progress -> {});
 * report.writeJson(Path.of("audit.json"));
 * }</pre>
 */
public final class JournalAudit {
  /** Persistence ids replayed at once: measured, the embedded journal gains little beyond 8. */
  public static final int PARALLELISM = 8;

  private JournalAudit() {}

  /** The result and how long the replay and the checks took. */
  public record Report(JournalBackend backend, Instant auditedAt, AuditResult result, Duration replayTime,
                       Duration checkTime) {

    /** Journal events read per second of replay (reading and decoding, before the checks). */
    public double replayEventsPerSecond() {
      return (result.events() + result.shardingEvents()) / Math.max(0.001, replayTime.toNanos() / 1e9);
    }

    /** Events audited per second end to end: replay plus verification of every signature. */
    public double auditEventsPerSecond() {
      return (result.events() + result.shardingEvents()) / Math.max(0.001, (replayTime.toNanos() + checkTime.toNanos()) / 1e9);
    }

    public List<String> summary() {
      List<String> lines = new ArrayList<>();
      lines.add("journal " + backend.name().toLowerCase() + ", audited at " + auditedAt);
      lines.add(result.persistenceIds() + " persistence ids, " + result.events() + " certmail events (+ "
          + result.shardingEvents() + " of cluster sharding, not audited), "
          + result.outcomes().size() + " labels, " + result.evidenceVerified() + " evidence items verified"
          + (result.lateEvidenceNotVerified() > 0
              ? " (" + result.lateEvidenceNotVerified() + " late items recorded as received, not verified)" : ""));
      lines.add("outcomes: " + result.outcomeCounts() + (result.refusedSubmissions() > 0
          ? ", submissions refused before a label: " + result.refusedSubmissions() : ""));
      lines.add(String.format("replay %.0f events/s (%d ms), checks %d ms", replayEventsPerSecond(),
          replayTime.toMillis(), checkTime.toMillis()));
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
      json.put("shardingEvents", result.shardingEvents());
      json.put("labels", result.outcomes().size());
      json.put("evidenceVerified", result.evidenceVerified());
      json.put("lateEvidenceNotVerified", result.lateEvidenceNotVerified());
      json.put("refusedSubmissions", result.refusedSubmissions());
      json.put("outcomes", result.outcomeCounts());
      json.put("averageEventsPerMail", result.averageEventsPerMail());
      json.put("replayMillis", replayTime.toMillis());
      json.put("checkMillis", checkTime.toMillis());
      json.put("replayEventsPerSecond", Math.round(replayEventsPerSecond()));
      Map<String, String> rules = new LinkedHashMap<>();
      for (AuditRule rule : AuditRule.values()) {
        rules.put(rule.id(), rule.description());
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

  /**
   * Replays the journal the system is configured with and checks it.
   *
   * @param now the audit's "now": a deadline T before it must have a verdict
   * @param progress called after each persistence id (from a stream thread)
   */
  public static Report run(ActorSystem<?> system, JournalBackend backend, TrustStore trustStore, Instant now,
                           Consumer<JournalReplay.Progress> progress) {
    long start = System.nanoTime();
    List<List<JournalEvent>> streams = new JournalReplay(system, backend.readJournalPluginId(), PARALLELISM)
        .readAll(Duration.ofMinutes(30), progress);
    long replayed = System.nanoTime();
    AuditResult result = new JournalAuditor(new EvidenceVerifier(trustStore), now).audit(streams);
    long checked = System.nanoTime();
    return new Report(backend, now, result, Duration.ofNanos(replayed - start), Duration.ofNanos(checked - replayed));
  }
}
