package net.certmail.node.metrics;

import com.typesafe.config.Config;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.jdbc.journal.JdbcAsyncWriteJournal;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.runtime.BoxedUnit;
import scala.util.Try;

/**
 * pekko-persistence-jdbc's journal (the embedded H2 journal), with every write timed and its
 * outcome counted ({@link JournalWriteMeter}). Set as {@code jdbc-journal.class} by the node.
 */
public final class MeteredJdbcJournal extends JdbcAsyncWriteJournal {
  private final JournalWriteMeter meter;

  public MeteredJdbcJournal(Config config) {
    super(config);
    this.meter = JournalWriteMeter.of(context().system());
  }

  @Override
  public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
    long started = System.nanoTime();
    return meter.measure(started, super.asyncWriteMessages(messages), context().dispatcher());
  }
}
