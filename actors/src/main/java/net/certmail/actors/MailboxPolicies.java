package net.certmail.actors;

import java.util.Locale;
import java.util.Map;

/** How each mailbox answers a delivery: sign automatically, hold for its owner, or refuse. */
public record MailboxPolicies(Map<String, Policy> byMailbox, Policy defaultPolicy) {
  public enum Policy { AUTO_ACCEPT, HOLD, REFUSE;

    public static Policy parse(String text) {
      return valueOf(text.trim().replace('-', '_').toUpperCase(Locale.ROOT));
    }
  }

  public Policy of(String mailbox) {
    return byMailbox.getOrDefault(mailbox, defaultPolicy);
  }
}
