package net.certmail.protocol.simulation;

import net.certmail.proto.v1.Flavour;
import net.certmail.protocol.Labels;
import net.certmail.protocol.Routing;

/**
 * One mail a sender's owner posts: to whom, what, which flavour, at which true instant, with how
 * much lead time before its deadline T (T = the sender's clock at submission + lead). A few
 * plans are meant to be refused (a deadline under the policy's minimum, an unknown domain). The
 * label is the one P1 derives: known in advance to anyone who knows the submission id.
 */
public record MailPlan(int index, String sender, String submissionId, String recipient, byte[] content,
                       Flavour flavour, long submitAt, long leadMillis, boolean submittedTwice, String label) {

  public MailPlan(int index, String sender, String submissionId, String recipient, byte[] content, Flavour flavour,
                  long submitAt, long leadMillis, boolean submittedTwice) {
    this(index, sender, submissionId, recipient, content, flavour, submitAt, leadMillis, submittedTwice,
        Labels.forSubmission(Routing.domainOf(sender), sender, submissionId));
  }

  public String origin() {
    return Routing.domainOf(sender);
  }

}
