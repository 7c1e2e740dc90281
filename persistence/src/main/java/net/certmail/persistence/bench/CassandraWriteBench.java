package net.certmail.persistence.bench;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The raw write rate of a Cassandra node through the Java driver, without Pekko: the ceiling the
 * journal can approach (pekko-persistence-cassandra adds ~0.7 ms of client CPU per event).
 *
 * Writes rows of {@code row-bytes} random bytes with asynchronous prepared INSERTs into a scratch
 * table ({@code certmail_bench.scratch}, dropped at the end), {@code concurrency} requests in
 * flight, until {@code rows} rows or {@code seconds} have passed, and prints the rate every second
 * and at the end. Bounded in count and time; talks only to the given contact point.
 *
 * <pre>
 *   scripts/cassandra.sh start
 *   scripts/cassandra-write-bench.sh rows=300000 seconds=30 concurrency=256
 * </pre>
 *
 * Arguments (key=value, all optional): contact-point=127.0.0.1:9042 datacenter=datacenter1
 * rows=200000 seconds=30 concurrency=256 row-bytes=100 warmup-seconds=5 keep=false
 */
public final class CassandraWriteBench {

  private static final String KEYSPACE = "certmail_bench";
  private static final String TABLE = KEYSPACE + ".scratch";

  private record Options(InetSocketAddress contactPoint, String datacenter, long rows, int seconds,
      int concurrency, int rowBytes, int warmupSeconds, boolean keep) {

    static Options parse(String[] args) {
      Map<String, String> values = new HashMap<>();
      for (String arg : args) {
        int eq = arg.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("Arguments are key=value, got \"" + arg + "\"");
        }
        values.put(arg.substring(0, eq), arg.substring(eq + 1));
      }
      String contactPoint = values.getOrDefault("contact-point", "127.0.0.1:9042");
      int colon = contactPoint.lastIndexOf(':');
      Options options = new Options(
          new InetSocketAddress(contactPoint.substring(0, colon), Integer.parseInt(contactPoint.substring(colon + 1))),
          values.getOrDefault("datacenter", "datacenter1"),
          Long.parseLong(values.getOrDefault("rows", "200000")),
          Integer.parseInt(values.getOrDefault("seconds", "30")),
          Integer.parseInt(values.getOrDefault("concurrency", "256")),
          Integer.parseInt(values.getOrDefault("row-bytes", "100")),
          Integer.parseInt(values.getOrDefault("warmup-seconds", "5")),
          Boolean.parseBoolean(values.getOrDefault("keep", "false")));
      values.keySet().removeAll(Set.of("contact-point", "datacenter", "rows", "seconds",
          "concurrency", "row-bytes", "warmup-seconds", "keep"));
      if (!values.isEmpty()) {
        throw new IllegalArgumentException("Unknown arguments " + values.keySet());
      }
      if (options.rows < 1 || options.seconds < 1 || options.concurrency < 1 || options.rowBytes < 0
          || options.warmupSeconds < 0) {
        throw new IllegalArgumentException("rows, seconds and concurrency must be at least 1, row-bytes and warmup-seconds at least 0");
      }
      return options;
    }
  }

  /** Counts of one measured phase. */
  private static final class Counters {
    final AtomicLong written = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong latencyNanos = new AtomicLong();
    final AtomicReference<Throwable> firstError = new AtomicReference<>();
    double writesPerSecond;
  }

  public static void main(String[] args) throws InterruptedException {
    Options options;
    try {
      options = Options.parse(args);
    } catch (RuntimeException e) {
      System.err.println("cassandra-write-bench: " + e.getMessage());
      System.err.println("usage: CassandraWriteBench [contact-point=127.0.0.1:9042] [datacenter=datacenter1]"
          + " [rows=200000] [seconds=30] [concurrency=256] [row-bytes=100] [warmup-seconds=5] [keep=false]");
      System.exit(2);
      return;
    }
    try {
      measure(options);
    } catch (IllegalStateException e) {
      System.err.println("cassandra-write-bench: " + e.getMessage());
      System.exit(1);
    }
  }

  /**
   * Runs the benchmark with key=value arguments as for {@link #main} and returns the measured
   * writes per second (for `certmail bench journal`, which sets it beside the journal's rate).
   *
   * @throws IllegalStateException when Cassandra cannot be reached or writes failed
   */
  public static double writesPerSecond(String... args) throws InterruptedException {
    return measure(Options.parse(args));
  }

  private static double measure(Options options) throws InterruptedException {

    DriverConfigLoader driverConfig = DriverConfigLoader.programmaticBuilder()
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(20))
        .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(10))
        // the driver's default cap of 1024 in-flight requests per connection is plenty here
        .build();
    CqlSession session;
    try {
      session = CqlSession.builder()
          .addContactPoint(options.contactPoint)
          .withLocalDatacenter(options.datacenter)
          .withConfigLoader(driverConfig)
          .build();
    } catch (RuntimeException e) {
      throw new IllegalStateException("cannot connect to Cassandra at " + options.contactPoint
          + " (" + e.getMessage() + "). Start it with ./scripts/cassandra.sh start.", e);
    }

    try (session) {
      System.out.printf(Locale.ROOT, "Cassandra %s at %s; %d-byte rows into %s, %d in flight%n",
          session.getMetadata().getNodes().values().iterator().next().getCassandraVersion(),
          options.contactPoint, options.rowBytes, TABLE, options.concurrency);
      session.execute(SimpleStatement.newInstance("CREATE KEYSPACE IF NOT EXISTS " + KEYSPACE
          + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").setTimeout(Duration.ofSeconds(60)));
      session.execute(SimpleStatement.newInstance("DROP TABLE IF EXISTS " + TABLE).setTimeout(Duration.ofSeconds(60)));
      session.execute(SimpleStatement.newInstance("CREATE TABLE " + TABLE + " (id bigint PRIMARY KEY, payload blob)")
          .setTimeout(Duration.ofSeconds(60)));
      PreparedStatement insert = session.prepare(SimpleStatement.newInstance(
          "INSERT INTO " + TABLE + " (id, payload) VALUES (?, ?)").setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM));

      AtomicLong nextId = new AtomicLong();
      if (options.warmupSeconds > 0) {
        System.out.printf(Locale.ROOT, "warm-up: %d s (a freshly started server is several times slower at first)%n",
            options.warmupSeconds);
        run(session, insert, options, nextId, Long.MAX_VALUE, options.warmupSeconds, false);
      }
      System.out.printf(Locale.ROOT, "measuring: up to %,d rows or %d s%n", options.rows, options.seconds);
      Counters counters = run(session, insert, options, nextId, options.rows, options.seconds, true);

      if (!options.keep) {
        session.execute(SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + KEYSPACE).setTimeout(Duration.ofSeconds(60)));
      }
      if (counters.failed.get() > 0) {
        throw new IllegalStateException(String.format(Locale.ROOT, "%,d writes FAILED, the first with: %s",
            counters.failed.get(), counters.firstError.get()));
      }
      return counters.writesPerSecond;
    }
  }

  /** Writes until {@code maxRows} rows are acknowledged or {@code seconds} have passed. */
  private static Counters run(CqlSession session, PreparedStatement insert, Options options,
      AtomicLong nextId, long maxRows, int seconds, boolean report) throws InterruptedException {
    Counters counters = new Counters();
    Semaphore inFlight = new Semaphore(options.concurrency);
    byte[] payload = new byte[options.rowBytes];
    ThreadLocalRandom.current().nextBytes(payload);

    long start = System.nanoTime();
    long deadline = start + Duration.ofSeconds(seconds).toNanos();
    long nextReport = start + Duration.ofSeconds(1).toNanos();
    long writtenAtLastReport = 0;
    long issued = 0;
    while (issued < maxRows && System.nanoTime() < deadline) {
      inFlight.acquire();
      long sent = System.nanoTime();
      issued++;
      session.executeAsync(insert.bind(nextId.incrementAndGet(), ByteBuffer.wrap(payload)))
          .whenComplete((result, error) -> {
            if (error == null) {
              counters.written.incrementAndGet();
              counters.latencyNanos.addAndGet(System.nanoTime() - sent);
            } else {
              counters.failed.incrementAndGet();
              counters.firstError.compareAndSet(null, error);
            }
            inFlight.release();
          });
      long now = System.nanoTime();
      if (report && now >= nextReport) {
        long written = counters.written.get();
        System.out.printf(Locale.ROOT, "  %3d s  %,10d rows  %,8d rows/s%n",
            Duration.ofNanos(now - start).toSeconds(), written, written - writtenAtLastReport);
        writtenAtLastReport = written;
        nextReport += Duration.ofSeconds(1).toNanos();
      }
    }
    inFlight.acquire(options.concurrency); // wait for the requests still in flight
    double elapsed = (System.nanoTime() - start) / 1e9;
    counters.writesPerSecond = counters.written.get() / elapsed;
    if (report) {
      long written = counters.written.get();
      System.out.printf(Locale.ROOT, "RESULT: %,d rows in %.1f s = %,.0f writes/s, mean latency %.2f ms, %d failed%n",
          written, elapsed, written / elapsed,
          written == 0 ? 0.0 : counters.latencyNanos.get() / 1e6 / written, counters.failed.get());
    }
    return counters;
  }
}
