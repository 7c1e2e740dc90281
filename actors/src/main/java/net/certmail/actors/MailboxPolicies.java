package net.certmail.actors;

import java.util.Map;
import net.certmail.protocol.recipient.MailboxPolicy;

/** How each mailbox answers a delivery (certmail.engine.mailbox-policies), with a default for the others. */
public record MailboxPolicies(Map<String, MailboxPolicy> byMailbox, MailboxPolicy defaultPolicy) {

  public MailboxPolicy of(String mailbox) {
    return byMailbox.getOrDefault(mailbox, defaultPolicy);
  }
}
