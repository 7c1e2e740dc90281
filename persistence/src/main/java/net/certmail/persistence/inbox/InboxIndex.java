package net.certmail.persistence.inbox;

import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;

/**
 * The labels delivered to each mailbox, written by B's inbox entry before it persists the
 * notification (so no crash leaves a notified entry out of the listing; a row whose
 * notification was never persisted shows up as an unknown entry, which the listing skips). A
 * page is read by key from the mailbox's own rows, in label order, after a cursor: its cost
 * depends on the page size, not on the journal or the number of mailboxes.
 */
public interface InboxIndex {

  /** Adds the label to the mailbox's index (idempotent). */
  CompletionStage<Done> add(String mailbox, String label);

  /** Up to {@code limit} labels of the mailbox after {@code after} ("" for the first page), in label order. */
  CompletionStage<List<String>> page(String mailbox, String after, int limit);
}
