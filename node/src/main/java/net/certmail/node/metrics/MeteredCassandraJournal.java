package net.certmail.node.metrics;

import com.typesafe.config.Config;
import net.certmail.persistence.CertmailCassandraJournal;
import org.apache.pekko.persistence.AtomicWrite;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.runtime.BoxedUnit;
import scala.util.Try;

/**
 * certmail's Cassandra journal ({@link CertmailCassandraJournal}, pekko-persistence-cassandra's
 * with a one-read recovery search) with every write timed and its outcome counted
 * ({@link JournalWriteMeter}). Set as {@code pekko.persistence.cassandra.journal.class} by the node.
 */
public final class MeteredCassandraJournal extends CertmailCassandraJournal {
  private final JournalWriteMeter meter;

  public MeteredCassandraJournal(Config config, String configPath) {
    super(config, configPath);
    this.meter = JournalWriteMeter.of(context().system());
  }

  @Override
  public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
    long started = System.nanoTime();
    return meter.measure(started, super.asyncWriteMessages(messages), context().dispatcher());
  }
}
