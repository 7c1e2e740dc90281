package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.ALPHA;
import static net.certmail.actors.TestNetwork.BETA;
import static net.certmail.actors.TestNetwork.BOB;
import static net.certmail.actors.TestNetwork.RELAY;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.slf4j.LoggerFactory;

/**
 * Figures behind the choice in certmail-artery.conf, not a regression test (run it with
 * {@code -Dcertmail.footprint=true}): three nodes on real Artery TCP in this JVM, once with the
 * shipped settings (large-message channel), once with a 2 MiB ordinary frame instead, and once
 * with Pekko's defaults (where 1 MiB mails cannot cross). For each: the direct memory the JVM
 * holds (Artery's pooled outbound buffers are direct; inbound TCP frames are heap), the latency of
 * small and 1 MiB mails, a burst of concurrent 1 MiB mails, and the largest frame Artery sent.
 */
@EnabledIfSystemProperty(named = "certmail.footprint", matches = "true")
class LargeMailFootprintTest {
  static final int MIB = 1024 * 1024;
  static final int SEQUENTIAL = 7;
  static final int ROUNDS = 2;
  static final int BURST = 16;
  static final Duration WAIT = Duration.ofSeconds(120);

  @Test
  void measure() throws Exception {
    FrameSizes frames = FrameSizes.attach();
    Map<String, Config> variants = new LinkedHashMap<>();
    variants.put("shipped (certmail-artery.conf)", ConfigFactory.empty());
    variants.put("shipped with Pekko's large pool of 32", ConfigFactory.parseString(
        "pekko.remote.artery.advanced.large-buffer-pool-size = 32"));
    variants.put("ordinary frame 2 MiB, no large channel", ConfigFactory.parseString("""
        pekko.remote.artery.large-message-destinations = []
        pekko.remote.artery.advanced.maximum-frame-size = 2MiB
        """));
    String defaults = "Pekko defaults (256 KiB, 1 MiB mails fail)";
    variants.put(defaults, ConfigFactory.parseString("pekko.remote.artery.large-message-destinations = []"));
    // A first run warms the JVM up (JIT, class loading) and is not reported; then every variant
    // runs ROUNDS times, interleaved, so that drift on this machine spreads over all of them.
    run("warm-up", variants.values().iterator().next(), true, frames);
    List<String> lines = new ArrayList<>();
    for (int round = 1; round <= ROUNDS; round++) {
      for (Map.Entry<String, Config> variant : variants.entrySet()) {
        lines.add("round " + round + " " + run(variant.getKey(), variant.getValue(), !variant.getKey().equals(defaults),
            frames));
      }
    }
    System.out.println("footprint: " + Runtime.getRuntime().availableProcessors() + " cores, " + BURST
        + " concurrent 1 MiB mails in the burst; direct memory in MiB (JVM total, 3 nodes, above the JVM's"
        + " before the nodes started)");
    lines.forEach(line -> System.out.println("footprint: " + line));
  }

  private String run(String variant, Config artery, boolean largeMailsCross, FrameSizes frames) throws Exception {
    TestNetwork network = new TestNetwork();
    ManualClock clock = new ManualClock(Instant.now());
    Config overrides = artery.withFallback(ConfigFactory.parseString("""
        certmail.engine.max-content-size = 1MiB
        # The shipped first resend (reference.conf), not the test network's 100 ms: under a burst
        # that would resend 1 MiB relays before the first copy is acknowledged. (retry-max stays the
        # test network's: the time model ties the margins to it.)
        certmail.engine.retry-min = 500ms
        pekko.remote.artery.log-frame-size-exceeding = 64KiB
        pekko.loglevel = INFO
        """));
    frames.largest.clear();
    settle();
    long before = directUsed();
    try (EngineNode alpha = EngineNode.start(network, clock, List.of(ALPHA), EngineNode.inMemoryJournal(), null,
             overrides);
         EngineNode relay = EngineNode.start(network, clock, List.of(RELAY), EngineNode.inMemoryJournal(),
             alpha.address(), overrides);
         EngineNode beta = EngineNode.start(network, clock, List.of(BETA), EngineNode.inMemoryJournal(),
             alpha.address(), overrides)) {
      deliver(alpha, clock, small(), Flavour.CEM); // warm-up: connections, shard allocation, JIT
      settle();
      long idle = directUsed() - before;

      long smallMedian = median(() -> deliver(alpha, clock, small(), Flavour.CEM));
      String large = "1 MiB mails do not cross";
      long peak = idle;
      long afterGc = idle;
      if (largeMailsCross) {
        MailItem item = LargeMailTest.mailOfSize(MIB, "footprint");
        long largeMedian = median(() -> deliver(alpha, clock, item, Flavour.CEM));
        AtomicBoolean sampling = new AtomicBoolean(true);
        AtomicLong highest = new AtomicLong();
        Thread sampler = new Thread(() -> {
          while (sampling.get()) {
            highest.accumulateAndGet(directUsed() - before, Math::max);
            EngineNode.sleep(2);
          }
        });
        sampler.start();
        long start = System.nanoTime();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < BURST; i++) {
          String id = UUID.randomUUID().toString();
          alpha.engine.submit(ALICE, id, BOB, item, clock.millis() + Duration.ofMinutes(10).toMillis(),
              Flavour.values()[1 + i % 3]).toCompletableFuture().get(30, TimeUnit.SECONDS);
          ids.add(id);
        }
        for (String id : ids) {
          MailStatus status = EngineNode.await(() -> alpha.engine.status(ALICE, id), MailStatus::isFinal, WAIT,
              "burst mail " + id);
          assertEquals(DeliveryStatus.DELIVERED, status.status(), status.reason().name());
        }
        long burstMillis = Duration.ofNanos(System.nanoTime() - start).toMillis();
        sampling.set(false);
        sampler.join();
        peak = highest.get();
        settle();
        afterGc = directUsed() - before;
        large = String.format("1 MiB mail %d ms (median of %d), burst of %d in %d ms", largeMedian, SEQUENTIAL,
            BURST, burstMillis);
      }
      return String.format("%-42s idle %5.1f, peak %6.1f, held after burst+GC %6.1f | small mail %d ms, %s"
              + " | largest frames %s",
          variant, idle / (double) MIB, peak / (double) MIB, afterGc / (double) MIB, smallMedian, large,
          frames.largest);
    }
  }

  private static long deliver(EngineNode alpha, ManualClock clock, MailItem item, Flavour flavour)
      throws Exception {
    String id = UUID.randomUUID().toString();
    long start = System.nanoTime();
    alpha.engine.submit(ALICE, id, BOB, item, clock.millis() + Duration.ofMinutes(10).toMillis(), flavour)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    MailStatus status = EngineNode.await(() -> alpha.engine.status(ALICE, id), MailStatus::isFinal, WAIT,
        "a verdict");
    assertEquals(DeliveryStatus.DELIVERED, status.status(), status.reason().name());
    return Duration.ofNanos(System.nanoTime() - start).toMillis();
  }

  interface Timed {
    long run() throws Exception;
  }

  private static long median(Timed timed) throws Exception {
    List<Long> times = new ArrayList<>();
    for (int i = 0; i < SEQUENTIAL; i++) {
      times.add(timed.run());
    }
    times.sort(null);
    return times.get(times.size() / 2);
  }

  private static MailItem small() {
    return MailItem.newBuilder().setSubject("small").setBody("a short certified mail").build();
  }

  private static long directUsed() {
    return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(pool -> pool.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
  }

  /** Direct buffers no longer referenced are freed only after a GC has run their cleaners. */
  private static void settle() {
    for (int i = 0; i < 3; i++) {
      System.gc();
      EngineNode.sleep(200);
    }
  }

  /** Artery's log-frame-size-exceeding lines: the largest payload per message type. */
  static final class FrameSizes extends AppenderBase<ILoggingEvent> {
    static final Pattern LINE = Pattern.compile("Payload size for \\[(.+?)] is \\[(\\d+)] bytes");
    final Map<String, Long> largest = new ConcurrentHashMap<>();

    static FrameSizes attach() {
      FrameSizes appender = new FrameSizes();
      Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
      appender.setContext(root.getLoggerContext());
      appender.start();
      root.addAppender(appender);
      return appender;
    }

    @Override
    protected void append(ILoggingEvent event) {
      Matcher matcher = LINE.matcher(event.getFormattedMessage());
      if (matcher.find()) {
        largest.merge(matcher.group(1), Long.parseLong(matcher.group(2)), Math::max);
      }
    }
  }
}
