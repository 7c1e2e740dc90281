package net.certmail.persistence;

import java.util.List;
import java.util.concurrent.CompletionStage;
import net.certmail.persistence.inbox.InboxIndex;

/**
 * The labels delivered to a mailbox, a page at a time, from the inbox index the inbox entries
 * write (never a scan of the journal's persistence ids): a page costs one keyed read of the
 * mailbox's own rows, whatever the size of the journal.
 */
public final class InboxLabels {
  private final InboxIndex index;

  public InboxLabels(InboxIndex index) {
    this.index = index;
  }

  /** Up to {@code limit} labels of the mailbox after {@code after} ("" from the start), in label order. */
  public CompletionStage<List<String>> of(String mailbox, String after, int limit) {
    return index.page(mailbox, after, limit);
  }
}
