package net.certmail.node.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import net.certmail.node.cluster.LocalCluster;
import net.certmail.protocol.Timings;

/**
 * The workload: submits the planned mails at the given rate through alice's nodes, follows each
 * one's status until its verdict (then reads the origin's public directory and the recipient's
 * content), and plays the owners of held mailboxes (accept or refuse after a while, or never
 * answer). Every request is an operation of the history; what the answers said is kept per mail
 * for the checker.
 */
final class Workload {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final LocalCluster cluster;
  private final ChaosClient client;
  private final History history;
  private final Timings timings;
  private final ScheduledExecutorService executor;
  private final List<MailRecord> records = new ArrayList<>();
  private volatile boolean stopped;

  Workload(LocalCluster cluster, ChaosClient client, History history, Timings timings,
           ScheduledExecutorService executor) {
    this.cluster = cluster;
    this.client = client;
    this.history = history;
    this.timings = timings;
    this.executor = executor;
  }

  /** The longest a verdict may take to show at A after T: grace, plus the checker's allowance. */
  long verdictBound(long deadline) {
    return deadline + timings.grace().toMillis() + allowanceMillis();
  }

  /** The stated bounds the checker allows on top of the protocol's instants: a clock's skew and one transit. */
  long allowanceMillis() {
    return timings.clockSkew().toMillis() + timings.maxTransit().toMillis();
  }

  /** Submits the plans, the i-th at {@code start + i * interval}. */
  void start(List<MailPlan> plans, long intervalMillis) {
    for (MailPlan plan : plans) {
      MailRecord record = new MailRecord(plan);
      synchronized (records) {
        records.add(record);
      }
      executor.schedule(() -> guarded(record, () -> submit(record)), plan.index() * intervalMillis,
          TimeUnit.MILLISECONDS);
    }
  }

  List<MailRecord> records() {
    synchronized (records) {
      return List.copyOf(records);
    }
  }

  /** Mails submitted so far (at least one attempt). */
  List<MailRecord> started() {
    return records().stream().filter(r -> r.firstSubmitAt > 0).toList();
  }

  void stop() {
    stopped = true;
  }

  private void guarded(MailRecord record, Runnable step) {
    if (stopped) {
      return;
    }
    try {
      step.run();
    } catch (RuntimeException e) {
      history.add("workload", "info", "error", record.plan.submissionId(), Map.of("error", String.valueOf(e)));
      later(record, 2000, () -> guarded(record, step));
    }
  }

  private void later(MailRecord record, long delayMillis, Runnable step) {
    if (!stopped) {
      executor.schedule(() -> guarded(record, step), delayMillis, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * After the last mail's bound, with every fault healed: reads what the follow-ups could not see
   * while nodes were down or this client fell behind (on a saturated machine its follow-ups ran
   * minutes late, and gave up at the bound): the status of every taken mail without a final one,
   * the origin's directory entry, and the content of every DELIVERED mail whose recipient has not
   * obtained it. These reads come after the bound, so one that finds a mail still open is a
   * violation, as any other; one that finds it final shows how it ended, and its evidence carries
   * the instants the checker holds against T.
   *
   * @return how many mails were read again
   */
  int sweep(Duration budget, java.util.function.Consumer<String> progress) throws InterruptedException {
    List<MailRecord> open = records().stream().filter(r -> r.firstSubmitAt > 0
        && (r.submitAcknowledged || r.label != null)
        && (!r.isFinal() || r.label != null && r.directory == null || deliveredWithoutContent(r))).toList();
    if (open.isEmpty()) {
      return 0;
    }
    progress.accept("chaos: reading " + open.size() + " mails the follow-ups did not see to the end (at most "
        + budget.toSeconds() + " s)");
    long until = System.nanoTime() + budget.toNanos();
    java.util.concurrent.ExecutorService readers = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      for (MailRecord record : open) {
        readers.submit(() -> sweep(record, until));
      }
    } finally {
      readers.shutdown();
      if (!readers.awaitTermination(budget.toMillis() + 60_000, TimeUnit.MILLISECONDS)) {
        readers.shutdownNow();
      }
    }
    return open.size();
  }

  private void sweep(MailRecord record, long until) {
    MailPlan plan = record.plan;
    while (System.nanoTime() < until) {
      if (!record.isFinal()) {
        ChaosClient.Answer answer = client.call(process(record, "A"), "status", plan.submissionId(), plan.sender(),
            nodesOf("alpha.example", plan.index() + 1), "GET", "/v1/mailboxes/" + plan.sender() + "/outbox/"
                + plan.submissionId(), null, null);
        if (answer.ok()) {
          observe(record, answer);
        }
        if (!record.isFinal() && answer.ok()) {
          return; // read after the bound and still open: the checker names it
        }
      }
      if (record.isFinal() && record.label != null && record.directory == null) {
        ChaosClient.Answer answer = client.call(process(record, "A"), "directory", plan.submissionId(), plan.sender(),
            nodesOf("alpha.example", plan.index()), "GET", "/v1/directory/" + record.label, null, null);
        if (answer.ok()) {
          record.directory = answer.body();
        }
      }
      if (deliveredWithoutContent(record)) {
        ChaosClient.Answer answer = client.call(process(record, "B"), "fetch", plan.submissionId(), plan.recipient(),
            nodesOf(plan.recipientOrganisation(), plan.index()), "GET", "/v1/mailboxes/" + plan.recipient()
                + "/inbox/" + record.label + "/content", null, null);
        if (answer.ok()) {
          record.content = answer.body();
          record.contentAt = answer.completedAt();
        }
      }
      if (record.isFinal() && (record.label == null || record.directory != null) && !deliveredWithoutContent(record)) {
        return;
      }
      try {
        Thread.sleep(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static boolean deliveredWithoutContent(MailRecord record) {
    return record.isFinal() && record.label != null && record.content == null
        && "DELIVERED".equals(record.finalStatus.path("status").asText());
  }

  private List<LocalCluster.Node> nodesOf(String organisation, int rotation) {
    List<LocalCluster.Node> nodes = new ArrayList<>(cluster.nodes().stream()
        .filter(n -> n.organisation().equals(organisation)).toList());
    java.util.Collections.rotate(nodes, rotation);
    return nodes;
  }

  private String process(MailRecord record, String role) {
    return role + "-" + record.plan.index();
  }

  // ---- A: submit, follow the status, read the directory ----

  private void submit(MailRecord record) {
    MailPlan plan = record.plan;
    long now = history.now();
    if (record.firstSubmitAt == 0) {
      record.firstSubmitAt = now;
      record.deadline = now + plan.leadMillis();
    }
    if (now > record.deadline) {
      record.done = true; // never taken: nothing is owed for it
      return;
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("recipient", plan.recipient());
    body.put("subject", "chaos " + plan.index());
    body.put("body", plan.body());
    body.put("flavour", plan.flavour());
    body.put("deadline", Instant.ofEpochMilli(record.deadline).toString());
    String json;
    try {
      json = JSON.writeValueAsString(body);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    ChaosClient.Answer answer = client.call(process(record, "A"), "submit", plan.submissionId(), plan.sender(),
        nodesOf("alpha.example", plan.index()), "POST", "/v1/mailboxes/" + plan.sender() + "/outbox", json,
        plan.submissionId(), Map.of("recipient", plan.recipient(), "behaviour", plan.behaviour().name(),
            "flavour", plan.flavour(), "deadline", Instant.ofEpochMilli(record.deadline).toString()));
    if (answer.ok()) {
      record.submitAcknowledged = true;
      observe(record, answer);
      later(record, 1000, () -> follow(record));
    } else if (answer.status() >= 400 && answer.status() < 500) {
      record.submitRefused = answer.status() + " " + (answer.body() == null ? "" : answer.body().path("error").asText());
      record.done = true;
    } else {
      later(record, 2000, () -> submit(record));
    }
  }

  private void follow(MailRecord record) {
    MailPlan plan = record.plan;
    ChaosClient.Answer answer = client.call(process(record, "A"), "status", plan.submissionId(), plan.sender(),
        nodesOf("alpha.example", plan.index() + 1), "GET", "/v1/mailboxes/" + plan.sender() + "/outbox/"
            + plan.submissionId(), null, null);
    if (answer.ok()) {
      observe(record, answer);
    }
    if (record.isFinal()) {
      later(record, 0, () -> directory(record, 0));
      return;
    }
    long now = history.now();
    if (now > verdictBound(record.deadline) + 60_000) {
      record.done = true; // the checker names it: no verdict long after it was due
      return;
    }
    // Often while the COP is due and around the verdict's instants, rarely in between.
    long sinceVerdictCutoff = now - timings.verdictCutoff(record.deadline);
    long pause = record.label == null ? 2000 : sinceVerdictCutoff > -5000 ? 3000 : 8000;
    later(record, pause, () -> follow(record));
  }

  private void observe(MailRecord record, ChaosClient.Answer answer) {
    JsonNode body = answer.body();
    if (body == null) {
      return;
    }
    String status = body.path("status").asText();
    String label = body.path("label").asText("");
    record.read(new MailRecord.StatusRead(answer.invokedAt(), answer.completedAt(), status,
        body.path("reason").asText(""), label));
    if (!label.isEmpty() && record.label == null) {
      record.label = label;
      if (record.plan.behaviour().held()) {
        later(record, 1000, () -> owner(record));
      }
    }
    if (record.finalStatus == null && isFinal(status)) {
      record.finalStatus = body;
      record.finalSeenAt = answer.completedAt();
    }
  }

  static boolean isFinal(String status) {
    return switch (status) {
      case "DELIVERED", "NOT_DELIVERED", "LOST", "NOT_POSTED" -> true;
      default -> false;
    };
  }

  private void directory(MailRecord record, int attempt) {
    if (record.label == null) {
      record.done = true;
      return;
    }
    MailPlan plan = record.plan;
    ChaosClient.Answer answer = client.call(process(record, "A"), "directory", plan.submissionId(), plan.sender(),
        nodesOf("alpha.example", plan.index()), "GET", "/v1/directory/" + record.label, null, null);
    if (answer.ok()) {
      record.directory = answer.body();
      later(record, 0, () -> content(record));
    } else if (attempt < 20) {
      later(record, 3000, () -> directory(record, attempt + 1));
    } else {
      later(record, 0, () -> content(record));
    }
  }

  // ---- B: the owner of a held mailbox, and the content after delivery ----

  private void content(MailRecord record) {
    if (!"DELIVERED".equals(record.finalStatus.path("status").asText())) {
      record.done = true;
      return;
    }
    MailPlan plan = record.plan;
    ChaosClient.Answer answer = client.call(process(record, "B"), "fetch", plan.submissionId(), plan.recipient(),
        nodesOf(plan.recipientOrganisation(), plan.index()), "GET", "/v1/mailboxes/" + plan.recipient() + "/inbox/"
            + record.label + "/content", null, null);
    if (answer.ok()) {
      record.content = answer.body();
      record.contentAt = answer.completedAt();
      record.done = true;
    } else if (history.now() > verdictBound(record.deadline) + 60_000) {
      record.done = true; // the checker names it: a recipient with a COD that never obtained M
    } else {
      later(record, 3000, () -> content(record));
    }
  }

  private void owner(MailRecord record) {
    MailPlan plan = record.plan;
    String entry = "/v1/mailboxes/" + plan.recipient() + "/inbox/" + record.label;
    ChaosClient.Answer answer = client.call(process(record, "B"), "inbox", plan.submissionId(), plan.recipient(),
        nodesOf(plan.recipientOrganisation(), plan.index()), "GET", entry, null, null);
    String status = answer.ok() ? answer.body().path("status").asText() : "";
    if (!"AWAITING_DECISION".equals(status)) {
      boolean gone = !status.isEmpty() && !"NONE".equals(status);
      if (!gone && history.now() < timings.codCutoff(record.deadline) && !record.isFinal()) {
        later(record, 2000, () -> owner(record));
      } else {
        record.inboxStatusSeen = status;
      }
      return;
    }
    record.inboxStatusSeen = status;
    if (!"CEM".equals(plan.flavour())) {
      // NSR and IP: the content must not be released before the COD.
      ChaosClient.Answer probe = client.call(process(record, "B"), "fetch", plan.submissionId(), plan.recipient(),
          nodesOf(plan.recipientOrganisation(), plan.index()), "GET", entry + "/content", null, null);
      if (probe.ok() || probe.status() == 409) {
        record.contentBeforeCod = probe.ok();
      }
    }
    if (plan.behaviour() == MailPlan.Behaviour.HOLD_SILENT) {
      return;
    }
    later(record, plan.decisionDelayMillis(), () -> decide(record, 0));
  }

  private void decide(MailRecord record, int attempt) {
    MailPlan plan = record.plan;
    boolean accept = plan.behaviour() == MailPlan.Behaviour.HOLD_ACCEPT;
    String path = "/v1/mailboxes/" + plan.recipient() + "/inbox/" + record.label + (accept ? "/accept" : "/refuse");
    if (record.decisionInvokedAt == 0) {
      record.decisionInvokedAt = history.now();
    }
    ChaosClient.Answer answer = client.call(process(record, "B"), accept ? "accept" : "refuse", plan.submissionId(),
        plan.recipient(), nodesOf(plan.recipientOrganisation(), plan.index()), "POST", path,
        accept ? null : "{\"reason\":\"chaos owner refuses\"}", null);
    if (answer.ok()) {
      record.decisionOk = true;
      record.decisionAnswer = answer.body().path("status").asText();
    } else if (answer.status() >= 400 && answer.status() < 500) {
      record.decisionAnswer = answer.status() + " " + (answer.body() == null ? "" : answer.body().path("error").asText());
    } else if (attempt < 10 && history.now() < timings.codCutoff(record.deadline)) {
      later(record, 2000, () -> decide(record, attempt + 1));
    }
  }
}
