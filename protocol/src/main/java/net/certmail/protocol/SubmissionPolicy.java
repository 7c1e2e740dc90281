package net.certmail.protocol;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.Submission;

/**
 * What P1 accepts (phase 1): a deadline T within its lead-time window, content within its size
 * limit, a flavour, a well-formed recipient in a known domain, and a sender who is the envelope's
 * signer.
 */
public record SubmissionPolicy(Duration minLeadTime, Duration maxLeadTime, int maxContentBytes) {

  public Optional<Refusal> check(Submission submission, String envelopeSender, Instant now, Routing routing) {
    if (!submission.getSender().equals(envelopeSender)) {
      return refuse(ReasonCode.POLICY_VIOLATION, envelopeSender + " cannot submit for " + submission.getSender());
    }
    if (submission.getSubmissionId().isBlank()) {
      return refuse(ReasonCode.POLICY_VIOLATION, "a submission needs an idempotency key");
    }
    if (submission.getFlavour() == Flavour.FLAVOUR_UNSPECIFIED || submission.getFlavour() == Flavour.UNRECOGNIZED) {
      return refuse(ReasonCode.POLICY_VIOLATION, "choose a flavour: CEM, NSR or IP");
    }
    if (!Routing.isMailbox(submission.getRecipient())) {
      return refuse(ReasonCode.UNKNOWN_RECIPIENT, "\"" + submission.getRecipient() + "\" is not a mailbox address");
    }
    if (!routing.knowsDomain(submission.getRecipient())) {
      return refuse(ReasonCode.UNKNOWN_DOMAIN, "no server for " + Routing.domainOf(submission.getRecipient()));
    }
    if (submission.getContent().size() > maxContentBytes) {
      return refuse(ReasonCode.MESSAGE_TOO_LARGE,
          submission.getContent().size() + " bytes, the limit is " + maxContentBytes);
    }
    Duration lead = Duration.between(now, Instant.ofEpochMilli(submission.getDeadlineMillis()));
    if (lead.compareTo(minLeadTime) < 0 || lead.compareTo(maxLeadTime) > 0) {
      return refuse(ReasonCode.DEADLINE_NOT_ACCEPTABLE,
          "the deadline must lie between " + minLeadTime + " and " + maxLeadTime + " ahead; it lies " + lead + " ahead");
    }
    return Optional.empty();
  }

  private static Optional<Refusal> refuse(ReasonCode reason, String detail) {
    return Optional.of(new Refusal(reason, detail));
  }
}
