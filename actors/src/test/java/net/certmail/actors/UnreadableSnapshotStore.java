package net.certmail.actors;

import java.util.Optional;
import org.apache.pekko.persistence.SelectedSnapshot;
import org.apache.pekko.persistence.SnapshotMetadata;
import org.apache.pekko.persistence.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.snapshot.japi.SnapshotStore;
import scala.concurrent.Future$;

/**
 * A snapshot store whose every read fails, as Cassandra's did while it was down: certmail's
 * entities never save snapshots, so their recovery must not depend on reading one.
 */
public final class UnreadableSnapshotStore extends SnapshotStore {
  /** The plugin's configuration, to be used as {@code pekko.persistence.snapshot-store.plugin}. */
  static final String CONFIG = """
      pekko.persistence.snapshot-store.plugin = "certmail-test-unreadable-snapshot-store"
      certmail-test-unreadable-snapshot-store.class = "net.certmail.actors.UnreadableSnapshotStore"
      """;

  @Override
  public scala.concurrent.Future<Optional<SelectedSnapshot>> doLoadAsync(String persistenceId,
                                                                         SnapshotSelectionCriteria criteria) {
    return Future$.MODULE$.failed(new IllegalStateException("snapshot store unreadable (test): " + persistenceId));
  }

  @Override
  public scala.concurrent.Future<Void> doSaveAsync(SnapshotMetadata metadata, Object snapshot) {
    return Future$.MODULE$.failed(new IllegalStateException("certmail saves no snapshots"));
  }

  @Override
  public scala.concurrent.Future<Void> doDeleteAsync(SnapshotMetadata metadata) {
    return Future$.MODULE$.successful(null);
  }

  @Override
  public scala.concurrent.Future<Void> doDeleteAsync(String persistenceId, SnapshotSelectionCriteria criteria) {
    return Future$.MODULE$.successful(null);
  }
}
