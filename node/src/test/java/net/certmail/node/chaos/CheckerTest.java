package net.certmail.node.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import net.certmail.protocol.Timings;
import org.junit.jupiter.api.Test;

/** The chaos checker names what the history shows broken, and nothing when it holds. */
class CheckerTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Timings TIMINGS = ChaosRun.engineSettings().timings();
  static final long T = 1_000_000_000_000L;
  static final JsonNode AUDIT_PASSED = JSON.createObjectNode().put("passed", true);

  final Workload workload = new Workload(null, null, null, TIMINGS, null);

  static MailRecord mail(int index, MailPlan.Behaviour behaviour, String label, String... statuses) {
    MailRecord record = new MailRecord(new MailPlan(index, "chaos-0-" + index, MailPlan.SENDER, "dave@beta.example",
        "CEM", 200_000, behaviour, 0, "body " + index));
    record.firstSubmitAt = T - 200_000;
    record.deadline = T;
    record.submitAcknowledged = true;
    record.label = label;
    long at = T - 100_000;
    for (String status : statuses) {
      String[] parts = status.split(" ");
      record.read(new MailRecord.StatusRead(at, at + 10, parts[0], parts.length > 1 ? parts[1] : "", label));
      if (record.finalStatus == null && Workload.isFinal(parts[0])) {
        record.finalStatus = JSON.createObjectNode().put("status", parts[0]).put("reason", parts.length > 1 ? parts[1] : "");
        record.finalSeenAt = at + 10;
      }
      at += 10_000;
    }
    return record;
  }

  List<Checker.Violation> check(MailRecord... records) {
    return new Checker(null, workload, TIMINGS.grace().toMillis(), List.of()).check(List.of(records), AUDIT_PASSED);
  }

  @Test
  void aRefusedMailThatEndsNotDeliveredHolds() {
    assertEquals(List.of(), check(mail(1, MailPlan.Behaviour.REFUSE_POLICY, "alpha.example/01",
        "IN_DELIVERY", "NOT_DELIVERED RECIPIENT_REFUSED", "NOT_DELIVERED RECIPIENT_REFUSED")));
  }

  @Test
  void deliveredToAMailboxThatRefusesEverythingIsAViolation() {
    List<Checker.Violation> violations = check(mail(1, MailPlan.Behaviour.REFUSE_POLICY, "alpha.example/01",
        "IN_DELIVERY", "DELIVERED"));
    assertTrue(violations.stream().anyMatch(v -> v.rule().equals("rod-needs-cod")
        && v.detail().contains("refuses every mail")), violations.toString());
  }

  @Test
  void aVerdictThatChangesIsAViolation() {
    List<Checker.Violation> violations = check(mail(1, MailPlan.Behaviour.REFUSE_POLICY, "alpha.example/01",
        "NOT_DELIVERED RECIPIENT_REFUSED", "LOST"));
    assertTrue(violations.stream().anyMatch(v -> v.rule().equals("one-verdict")), violations.toString());
  }

  @Test
  void aMailStillOpenPastTPlusGracePlusTheStatedBoundsIsAViolation() {
    MailRecord late = mail(1, MailPlan.Behaviour.REFUSE_POLICY, "alpha.example/01", "IN_DELIVERY");
    long bound = T + TIMINGS.grace().toMillis() + TIMINGS.clockSkew().toMillis() + TIMINGS.maxTransit().toMillis();
    late.read(new MailRecord.StatusRead(bound - 1, bound + 5, "IN_DELIVERY", "", late.label));
    assertTrue(check(late).stream().noneMatch(v -> v.detail().startsWith("status IN_DELIVERY")),
        "a read invoked before the bound is no violation");
    late.read(new MailRecord.StatusRead(bound + 1, bound + 5, "IN_DELIVERY", "", late.label));
    assertTrue(check(late).stream().anyMatch(v -> v.rule().equals("verdict-in-time")
        && v.detail().startsWith("status IN_DELIVERY")), check(late).toString());
  }

  @Test
  void aTakenSubmissionWithoutAnyVerdictIsAViolation() {
    List<Checker.Violation> violations = check(mail(1, MailPlan.Behaviour.AUTO_ACCEPT, "alpha.example/01", "IN_DELIVERY"));
    assertTrue(violations.stream().anyMatch(v -> v.rule().equals("verdict-in-time")
        && v.detail().startsWith("no final status")), violations.toString());
  }

  @Test
  void oneLabelForTwoSubmissionsIsAViolation() {
    List<Checker.Violation> violations = check(
        mail(1, MailPlan.Behaviour.REFUSE_POLICY, "alpha.example/01", "NOT_DELIVERED RECIPIENT_REFUSED"),
        mail(2, MailPlan.Behaviour.REFUSE_POLICY, "alpha.example/01", "NOT_DELIVERED RECIPIENT_REFUSED"));
    assertTrue(violations.stream().anyMatch(v -> v.rule().equals("label-issued-once")), violations.toString());
  }

  @Test
  void anAuditViolationIsAViolation() {
    JsonNode failed = JSON.createObjectNode().put("passed", false).set("violations", JSON.createArrayNode()
        .add(JSON.createObjectNode().put("rule", "one-verdict-per-label").put("label", "alpha.example/01")));
    List<Checker.Violation> violations = new Checker(null, workload, TIMINGS.grace().toMillis(), List.of())
        .check(List.of(), failed);
    assertEquals(1, violations.size());
    assertEquals("audit", violations.get(0).rule());
  }
}
