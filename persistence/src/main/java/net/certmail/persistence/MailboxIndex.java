package net.certmail.persistence;

import java.util.List;
import java.util.concurrent.CompletionStage;
import net.certmail.persistence.inbox.InboxIndex;

/**
 * The labels delivered to a mailbox and the submissions it made, a page at a time, from the
 * index the entries write before they persist (never a scan of the journal's persistence ids): a
 * page costs one keyed read of the mailbox's own rows, whatever the size of the journal. A
 * mailbox's submissions are kept under {@link #outboxKey}, which no mailbox id can equal.
 */
public final class MailboxIndex {
  private final InboxIndex index;

  public MailboxIndex(InboxIndex index) {
    this.index = index;
  }

  /** The index key of a mailbox's submissions: '#' is outside the mailbox grammar. */
  public static String outboxKey(String mailbox) {
    return "outbox#" + mailbox;
  }

  /** Up to {@code limit} labels of the mailbox after {@code after} ("" from the start), in label order. */
  public CompletionStage<List<String>> of(String mailbox, String after, int limit) {
    return index.page(mailbox, after, limit);
  }

  /** Up to {@code limit} submission ids of the mailbox's outbox, in id order. */
  public CompletionStage<List<String>> submissionsOf(String mailbox, int limit) {
    return index.page(outboxKey(mailbox), "", limit);
  }
}
