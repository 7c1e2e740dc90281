package net.certmail.persistence;

import java.util.List;
import java.util.concurrent.CompletionStage;
import net.certmail.protocol.SubmissionId;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The labels delivered to a mailbox and the submissions it made, read from the journal itself:
 * every inbox entry persists under "{@code <mailbox>|<label>}", and the only other ids under a
 * mailbox are its outbox entries' "{@code <mailbox>|<submission id>}", which {@link SubmissionId}
 * tells apart. No second index has to be kept in step.
 * The query scans every persistence id, so it costs time in proportion to the journal: fine for
 * an owner looking at their mailbox, not for a hot path.
 */
public final class InboxLabels {
  private final ActorSystem<?> system;
  private final String readJournalPluginId;

  public InboxLabels(ActorSystem<?> system, JournalBackend backend) {
    this.system = system;
    this.readJournalPluginId = backend.readJournalPluginId();
  }

  /** Up to {@code limit} labels of the mailbox, sorted (labels of one origin are time-ordered only by chance). */
  public CompletionStage<List<String>> of(String mailbox, int limit) {
    return entriesOf(mailbox, true, limit);
  }

  /** Up to {@code limit} submission ids of the mailbox's outbox, sorted. */
  public CompletionStage<List<String>> submissionsOf(String mailbox, int limit) {
    return entriesOf(mailbox, false, limit);
  }

  private CompletionStage<List<String>> entriesOf(String mailbox, boolean labels, int limit) {
    String prefix = mailbox + "|";
    CurrentPersistenceIdsQuery journal = PersistenceQuery.get(system)
        .getReadJournalFor(CurrentPersistenceIdsQuery.class, readJournalPluginId);
    return journal.currentPersistenceIds()
        .filter(id -> id.startsWith(prefix))
        .map(id -> id.substring(prefix.length()))
        .filter(key -> SubmissionId.isSubmissionId(key) != labels)
        .take(limit)
        .runWith(Sink.seq(), system)
        .thenApply(ids -> ids.stream().sorted().toList());
  }
}
