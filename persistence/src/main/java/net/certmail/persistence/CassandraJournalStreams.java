package net.certmail.persistence;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.stream.connectors.cassandra.scaladsl.CassandraSessionRegistry;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;

/**
 * The streams (persistence ids) of a pekko-persistence-cassandra journal, as its {@code messages}
 * table holds them: the partition keys themselves, not the plugin's {@code all_persistence_ids}
 * index. certmail runs the plugin with {@code support-all-persistence-ids = off}: the index cost a
 * write before the first event of every entity (five per mail, each in front of that entity's
 * first persist), and it is only a copy of what the partition keys already say. Reading the keys
 * also sees a stream whose index row is missing (a journal restored without it, or someone who
 * removed a row to hide a stream from the audit).
 *
 * <p>A full scan of the table's partition keys (paged by the driver): for the audit and the
 * one-time reminder backfill, never on a mail's path.
 */
public final class CassandraJournalStreams {
  /** The journal plugin's configuration path (its driver session is registered under it). */
  public static final String PLUGIN = "pekko.persistence.cassandra";
  private static final Duration PAGE_TIMEOUT = Duration.ofSeconds(60);

  private CassandraJournalStreams() {}

  /** Every persistence id with a partition in {@code keyspace.messages}, each once, in token order. */
  public static List<String> persistenceIds(CqlSession session, String keyspace) {
    Set<String> ids = new LinkedHashSet<>();
    // partition_nr is part of the partition key: a stream longer than one partition is listed once per partition
    SimpleStatement scan = SimpleStatement.newInstance(
            "SELECT DISTINCT persistence_id, partition_nr FROM " + keyspace + ".messages")
        .setTimeout(PAGE_TIMEOUT);
    for (Row row : session.execute(scan)) {
      ids.add(row.getString(0));
    }
    return List.copyOf(ids);
  }

  /** The journal's keyspace, as the node's configuration names it. */
  public static String keyspace(ActorSystem<?> system) {
    return system.settings().config().getString(PLUGIN + ".journal.keyspace");
  }

  /**
   * The journal plugin's driver session, asked for without schema initialisation (nothing is
   * created here; the journal, or the reminder store before it, made the session with the plugin's).
   */
  public static CqlSession pluginSession(ActorSystem<?> system) {
    scala.Function1<CqlSession, Future<Done>> noInit = session -> Future.successful(Done.getInstance());
    CassandraSessionRegistry registry = (CassandraSessionRegistry) CassandraSessionRegistry.get(Adapter.toClassic(system));
    try {
      return FutureConverters.asJava(registry.sessionFor(PLUGIN, noInit).underlying()).toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while connecting to Cassandra", e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot connect to Cassandra: " + e.getMessage()
          + "; check --contact-points (certmail.journal.cassandra.contact-points) and that Cassandra runs", e);
    }
  }
}
