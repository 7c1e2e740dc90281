package net.certmail.persistence;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.h2.mvstore.MVStore;

/**
 * The embedded journal's H2 file as this node holds it, for the node's metrics: how large it is,
 * in how many chunks, and how much of them is live. Known once {@link EmbeddedJournalSchema#ensureCreated}
 * opened the file in this process (not on Cassandra, nor where auto-server reaches it over TCP).
 * Without compaction (EmbeddedJournalCompaction) the chunks pile up and the live share falls.
 */
public final class EmbeddedJournalFile implements Extension {
  private static final Id ID = new Id();

  private volatile MVStore store;

  /** @param livePercent the share of the chunks' bytes still live, 0-100 */
  public record State(long bytes, long chunks, int livePercent) {}

  EmbeddedJournalFile() {}

  public static EmbeddedJournalFile get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  void held(MVStore store) {
    this.store = store;
  }

  /** The file's state now, or empty when this process does not hold an embedded journal's file. */
  public Optional<State> state() {
    MVStore held = store;
    if (held == null || held.isClosed() || held.getFileStore() == null) {
      return Optional.empty();
    }
    Map<String, String> info = new HashMap<>();
    try {
      held.getFileStore().populateInfo(info::put);
      return Optional.of(new State(Long.parseLong(info.get("info.FILE_SIZE")),
          Long.parseLong(info.get("info.CHUNK_COUNT")), Integer.parseInt(info.get("info.CHUNKS_FILL_RATE"))));
    } catch (RuntimeException e) { // closing under us, or an H2 version without these keys
      return Optional.empty();
    }
  }

  static final class Id extends ExtensionId<EmbeddedJournalFile> {
    @Override
    public EmbeddedJournalFile createExtension(ActorSystem<?> system) {
      return new EmbeddedJournalFile();
    }
  }
}
