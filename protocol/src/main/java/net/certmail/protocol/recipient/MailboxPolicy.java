package net.certmail.protocol.recipient;

import java.util.Locale;

/** How a mailbox answers the first notification of a mail: sign the COD at once, hold it for its owner, or refuse. */
public enum MailboxPolicy {
  AUTO_ACCEPT, HOLD, REFUSE;

  /** Reads a setting such as {@code auto-accept}, {@code hold} or {@code REFUSE}. */
  public static MailboxPolicy parse(String text) {
    return valueOf(text.trim().replace('-', '_').toUpperCase(Locale.ROOT));
  }
}
