package net.certmail.node.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.VerificationException;
import net.certmail.crypto.VerifiedEvidence;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.SignedEvidence;

/**
 * The checker: reads the history (what every client operation answered, when) and the audit of
 * the journal after the run, and names every broken property with the mail's label and trace.
 * Times are the checker's clock (the machine's, never skewed); the only tolerance is the network's
 * stated bounds ({@link Workload#allowanceMillis}: one clock skew and one transit).
 */
final class Checker {
  /** One broken property. */
  record Violation(String rule, String label, String mail, String detail, List<String> trace) {}

  /** The properties, by the name a violation carries. */
  static final Map<String, String> RULES = new LinkedHashMap<>();

  static {
    RULES.put("acknowledged-not-lost", "a submission answered 202 is known to its outbox ever after; an owner's"
        + " accept or refuse answered 200 decides the mail (DELIVERED, or NOT_DELIVERED with RECIPIENT_REFUSED)");
    RULES.put("verdict-in-time", "every submission the node took ends with a final status by T + grace (+ skew + transit);"
        + " with a COP it is exactly one of DELIVERED, NOT_DELIVERED or LOST");
    RULES.put("one-verdict", "once final, the status never changes");
    RULES.put("verdict-matches-origin", "A's verdict is the one the origin server publishes (ROD for DELIVERED,"
        + " the same NDN for NOT_DELIVERED, none for LOST)");
    RULES.put("verdict-before-deadline", "ROD and NDN are issued before T, a LOST claim at or after T + grace (issuer's clock)");
    RULES.put("evidence-verifies", "every evidence item an answer carried verifies against the network CA and is about its label");
    RULES.put("rod-needs-cod", "DELIVERED carries a valid COD from the recipient, who could sign one (auto-accept, or"
        + " its owner accepted before)");
    RULES.put("content-after-cod", "in NSR and IP the recipient gets no content before its COD");
    RULES.put("cod-holder-obtains-content", "a recipient whose COD made the mail DELIVERED obtains M, exactly as sent");
    RULES.put("label-issued-once", "no two submissions get the same label");
    RULES.put("audit", "the journal audit passes (certmail audit: every signature, every protocol rule)");
  }

  private final EvidenceVerifier verifier;
  private final Workload workload;
  private final long graceMillis;
  private final List<History.Op> ops;
  private final List<Violation> violations = new ArrayList<>();

  Checker(EvidenceVerifier verifier, Workload workload, long graceMillis, List<History.Op> ops) {
    this.verifier = verifier;
    this.workload = workload;
    this.graceMillis = graceMillis;
    this.ops = ops;
  }

  List<Violation> check(List<MailRecord> records, JsonNode audit) {
    Map<String, List<String>> byLabel = new TreeMap<>();
    for (MailRecord record : records) {
      if (record.firstSubmitAt == 0) {
        continue;
      }
      check(record);
      if (record.label != null) {
        byLabel.computeIfAbsent(record.label, l -> new ArrayList<>()).add(record.plan.submissionId());
      }
    }
    byLabel.forEach((label, mails) -> {
      if (mails.size() > 1) {
        add("label-issued-once", label, mails.get(0), "label given to " + mails, null);
      }
    });
    if (audit == null) {
      add("audit", "", "", "the audit did not run or wrote no report", null);
    } else {
      for (JsonNode v : audit.path("violations")) {
        add("audit", v.path("label").asText(), "", v.path("rule").asText() + ": " + v.path("persistenceId").asText()
            + " #" + v.path("sequenceNr").asText() + " " + v.path("event").asText() + ": " + v.path("detail").asText(), null);
      }
    }
    return List.copyOf(violations);
  }

  private void check(MailRecord record) {
    String label = record.label == null ? "" : record.label;
    long deadline = record.deadline;
    long bound = workload.verdictBound(deadline);
    List<MailRecord.StatusRead> reads = record.reads();

    // Acknowledged, then unknown.
    if (record.submitAcknowledged) {
      for (History.Op op : ops) {
        if (record.plan.submissionId().equals(op.mail()) && "status".equals(op.f()) && "fail".equals(op.type())
            && op.value() != null && Integer.valueOf(404).equals(op.value().get("status"))) {
          add("acknowledged-not-lost", label, record, "a status request after the submission's 202 answered 404", null);
          break;
        }
      }
    }

    // Exactly one verdict, in time.
    String first = null;
    for (MailRecord.StatusRead read : reads) {
      boolean isFinal = Workload.isFinal(read.status());
      if (!isFinal && read.invokedAt() > bound) {
        add("verdict-in-time", label, record, "status " + read.status() + " at " + relative(read.invokedAt(), deadline)
            + ", past T + grace + skew + transit", null);
        break;
      }
      if (isFinal) {
        if (first == null) {
          first = read.status() + "/" + read.reason();
        } else if (!first.equals(read.status() + "/" + read.reason())) {
          add("one-verdict", label, record, "final status " + first + " then " + read.status() + "/" + read.reason(), null);
          break;
        }
      }
    }
    boolean taken = record.submitAcknowledged || record.label != null;
    if (taken && record.finalStatus == null) {
      add("verdict-in-time", label, record, "no final status seen (the last read: "
          + (reads.isEmpty() ? "none" : reads.get(reads.size() - 1).status()) + ")", null);
      return;
    }
    if (record.finalStatus == null) {
      return;
    }
    String status = record.finalStatus.path("status").asText();
    String reason = record.finalStatus.path("reason").asText("");
    if (record.label != null && "NOT_POSTED".equals(status)) {
      add("verdict-in-time", label, record, "NOT_POSTED although a COP was issued", null);
    }

    // Evidence: every item verifies and is about this label.
    Map<EvidenceKind, List<EvidenceStatement>> evidence = verify(record, record.finalStatus.path("evidence"));
    Map<EvidenceKind, List<EvidenceStatement>> published = record.directory == null ? Map.of()
        : verify(record, record.directory.path("evidence"));

    // Issue times against T.
    for (EvidenceKind kind : List.of(EvidenceKind.ROD, EvidenceKind.NDN)) {
      for (EvidenceStatement s : evidence.getOrDefault(kind, List.of())) {
        if (s.getIssuedAtMillis() >= s.getDeadlineMillis() && s.getDeadlineMillis() > 0) {
          add("verdict-before-deadline", label, record, kind + " issued at " + relative(s.getIssuedAtMillis(), deadline)
              + " by " + s.getIssuer(), null);
        }
      }
    }
    for (EvidenceStatement claim : evidence.getOrDefault(EvidenceKind.COMPENSATION_CLAIM, List.of())) {
      if (claim.getIssuedAtMillis() < deadline + graceMillis) {
        add("verdict-before-deadline", label, record, "LOST claimed at " + relative(claim.getIssuedAtMillis(), deadline)
            + ", before T + grace", null);
      }
    }

    // A's verdict is P1's.
    if (record.directory != null && record.label != null) {
      boolean rod = published.containsKey(EvidenceKind.ROD);
      List<EvidenceStatement> ndns = published.getOrDefault(EvidenceKind.NDN, List.of());
      boolean matches = switch (status) {
        case "DELIVERED" -> rod && ndns.isEmpty();
        case "NOT_DELIVERED" -> !rod && ndns.size() == 1 && ndns.get(0).getReason().name().equals(reason);
        case "LOST" -> !rod && ndns.isEmpty();
        default -> true;
      };
      if (!matches) {
        add("verdict-matches-origin", label, record, "A: " + status + " " + reason + "; origin publishes "
            + (rod ? "a ROD" : "") + ndns.stream().map(n -> " NDN " + n.getReason()).toList(), null);
      }
    }

    // DELIVERED: the recipient's COD, a recipient that could sign it, and M obtained.
    MailPlan plan = record.plan;
    if ("DELIVERED".equals(status)) {
      boolean cod = evidence.getOrDefault(EvidenceKind.COD, List.of()).stream()
          .anyMatch(s -> s.getIssuer().equals(plan.recipient()) && s.getLabel().equals(record.label));
      if (!cod || !evidence.containsKey(EvidenceKind.ROD)) {
        add("rod-needs-cod", label, record, "DELIVERED without " + (cod ? "a ROD" : "a COD from " + plan.recipient()), null);
      }
      if (!plan.behaviour().maySignCod()) {
        add("rod-needs-cod", label, record, "DELIVERED although " + plan.recipient() + " " + describe(plan.behaviour()), null);
      } else if (plan.behaviour() == MailPlan.Behaviour.HOLD_ACCEPT && record.decisionInvokedAt == 0) {
        add("rod-needs-cod", label, record, "DELIVERED before the owner of " + plan.recipient() + " accepted", null);
      }
      if (record.content == null) {
        add("cod-holder-obtains-content", label, record, plan.recipient() + " signed the COD but never obtained M", null);
      } else if (!plan.body().equals(record.content.path("body").asText())) {
        add("cod-holder-obtains-content", label, record, plan.recipient() + " obtained other content than sent: "
            + record.content.path("body").asText(), null);
      }
    }
    if (Boolean.TRUE.equals(record.contentBeforeCod)) {
      add("content-after-cod", label, record, plan.flavour() + ": the content was handed to " + plan.recipient()
          + " while it awaited its decision", null);
    }

    // The owner's acknowledged decision is the mail's fate.
    if (record.decisionOk && plan.behaviour() == MailPlan.Behaviour.HOLD_ACCEPT
        && ("ACKNOWLEDGED".equals(record.decisionAnswer) || "RETRIEVED".equals(record.decisionAnswer))
        && !"DELIVERED".equals(status)) {
      add("acknowledged-not-lost", label, record, "the owner's accept was answered " + record.decisionAnswer
          + ", yet the mail ended " + status + " " + reason, null);
    }
    if (record.decisionOk && plan.behaviour() == MailPlan.Behaviour.HOLD_REFUSE && "REFUSED".equals(record.decisionAnswer)
        && !("NOT_DELIVERED".equals(status) && "RECIPIENT_REFUSED".equals(reason))) {
      add("acknowledged-not-lost", label, record, "the owner's refusal was answered REFUSED, yet the mail ended "
          + status + " " + reason, null);
    }
  }

  private static String describe(MailPlan.Behaviour behaviour) {
    return switch (behaviour) {
      case REFUSE_POLICY -> "refuses every mail by policy";
      case HOLD_REFUSE -> "was held and its owner refused it";
      case HOLD_SILENT -> "was held and its owner never answered";
      default -> behaviour.name();
    };
  }

  private Map<EvidenceKind, List<EvidenceStatement>> verify(MailRecord record, JsonNode items) {
    Map<EvidenceKind, List<EvidenceStatement>> byKind = new LinkedHashMap<>();
    for (JsonNode item : items) {
      try {
        SignedEvidence signed = SignedEvidence.parseFrom(Base64.getDecoder().decode(item.path("base64").asText()));
        VerifiedEvidence verified = verifier.verify(signed);
        EvidenceStatement statement = verified.statement();
        if (record.label != null && !statement.getLabel().isEmpty() && !statement.getLabel().equals(record.label)) {
          add("evidence-verifies", record.label, record, statement.getKind() + " by " + statement.getIssuer()
              + " is about label " + statement.getLabel(), null);
        }
        byKind.computeIfAbsent(statement.getKind(), k -> new ArrayList<>()).add(statement);
      } catch (VerificationException | com.google.protobuf.InvalidProtocolBufferException | IllegalArgumentException e) {
        add("evidence-verifies", record.label == null ? "" : record.label, record, item.path("kind").asText()
            + " by " + item.path("signer").asText() + " does not verify: " + e.getMessage(), null);
      }
    }
    return byKind;
  }

  private static String relative(long millis, long deadline) {
    long delta = millis - deadline;
    return "T" + (delta >= 0 ? "+" : "") + String.format("%.1f", delta / 1000.0) + " s";
  }

  private void add(String rule, String label, MailRecord record, String detail, List<String> trace) {
    add(rule, label, record.plan.submissionId(), detail + " (" + record.plan.flavour() + ", " + record.plan.recipient()
        + ", " + record.plan.behaviour() + ")", trace);
  }

  private void add(String rule, String label, String mail, String detail, List<String> trace) {
    violations.add(new Violation(rule, label, mail, detail, trace != null ? trace : trace(mail)));
  }

  /** The mail's operations in the history, and the nemesis' actions among them. */
  private List<String> trace(String mail) {
    List<String> lines = new ArrayList<>();
    if (mail == null || mail.isEmpty()) {
      return lines;
    }
    long from = Long.MAX_VALUE;
    long to = 0;
    for (History.Op op : ops) {
      if (mail.equals(op.mail())) {
        from = Math.min(from, op.time());
        to = Math.max(to, op.time());
      }
    }
    for (History.Op op : ops) {
      boolean mine = mail.equals(op.mail());
      boolean nemesis = "nemesis".equals(op.process()) && op.time() >= from && op.time() <= to;
      if (mine || nemesis) {
        lines.add(String.format("%9.3f %-10s %-6s %-10s %s", op.time() / 1000.0, op.process(), op.type(), op.f(),
            op.value() == null ? "" : op.value()));
      }
    }
    if (lines.size() > 80) {
      List<String> shortened = new ArrayList<>(lines.subList(0, 40));
      shortened.add("... " + (lines.size() - 80) + " lines ...");
      shortened.addAll(lines.subList(lines.size() - 40, lines.size()));
      return shortened;
    }
    return lines;
  }
}
