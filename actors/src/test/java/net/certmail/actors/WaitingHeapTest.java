package net.certmail.actors;

import static net.certmail.actors.TestNetwork.ALICE;
import static net.certmail.actors.TestNetwork.ALPHA;
import static net.certmail.actors.TestNetwork.BETA;
import static net.certmail.actors.TestNetwork.CAROL;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Where the heap of a waiting mail goes, not a regression test (run it with
 * {@code -Dcertmail.waiting-heap=true}, optionally {@code -Dcertmail.waiting-heap.mails=N}): the
 * origin and the destination organisation as two nodes in this JVM on the embedded journal, a
 * warm-up, then N NSR mails to carol, who holds them (T a day ahead). After each phase it waits
 * until the entities have gone to sleep, takes a class histogram of the live heap
 * ({@code jcmd GC.class_histogram}: a full GC first) and prints the classes that grew, in bytes
 * per waiting mail. The clock follows real time, as a node's does.
 */
@EnabledIfSystemProperty(named = "certmail.waiting-heap", matches = "true")
class WaitingHeapTest {
  private static final Pattern HISTOGRAM_LINE = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(.+?)\\s*(\\(.*\\))?$");

  @Test
  void measure() throws Exception {
    int mails = Integer.getInteger("certmail.waiting-heap.mails", 2000);
    Duration settle = Duration.ofSeconds(Long.getLong("certmail.waiting-heap.settle-seconds", 150));
    Path directory = Files.createTempDirectory("waiting-heap");
    TestNetwork network = new TestNetwork();
    ManualClock clock = new ManualClock(Instant.now());
    Thread ticking = new Thread(() -> {
      while (true) {
        clock.set(System.currentTimeMillis());
        EngineNode.sleep(20);
      }
    });
    ticking.setDaemon(true);
    ticking.start();
    Config overrides = ConfigFactory.parseString("""
        certmail.engine.routes."alpha.example"."beta.example" = "beta.example"
        certmail.engine.delivery-timeout = 2d
        pekko.loglevel = WARNING
        pekko.logger-startup-timeout = 60s
        """);
    try (EngineNode alpha = EngineNode.start(network, clock, List.of(ALPHA), EngineNode.embeddedJournal(directory),
             null, overrides);
         EngineNode beta = EngineNode.start(network, clock, List.of(BETA), EngineNode.embeddedJournal(directory),
             alpha.address(), overrides)) {
      submit(alpha, clock, 50);
      awaitSleep(alpha, beta, settle);
      Map<String, long[]> before = histogram();
      long heapBefore = usedHeap();
      long start = System.nanoTime();
      submit(alpha, clock, mails);
      System.out.printf("waiting-heap: %d mails submitted in %d s%n", mails,
          Duration.ofNanos(System.nanoTime() - start).toSeconds());
      int awake = awaitSleep(alpha, beta, settle);
      Map<String, long[]> after = histogram();
      long heapAfter = usedHeap();
      System.out.printf("waiting-heap: %d entities awake; heap after GC %.1f MB -> %.1f MB: %d bytes per mail%n",
          awake, heapBefore / 1e6, heapAfter / 1e6, (heapAfter - heapBefore) / mails);
      List<Map.Entry<String, long[]>> grown = new ArrayList<>();
      for (Map.Entry<String, long[]> entry : after.entrySet()) {
        long[] old = before.getOrDefault(entry.getKey(), new long[2]);
        grown.add(Map.entry(entry.getKey(), new long[] {entry.getValue()[0] - old[0], entry.getValue()[1] - old[1]}));
      }
      grown.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
      long total = grown.stream().mapToLong(entry -> entry.getValue()[1]).sum();
      System.out.printf("waiting-heap: histogram growth %d bytes, %d per mail; largest:%n", total, total / mails);
      for (Map.Entry<String, long[]> entry : grown.subList(0, Math.min(45, grown.size()))) {
        System.out.printf("waiting-heap: %8.1f B/mail %7.2f inst/mail  %s%n", entry.getValue()[1] / (double) mails,
            entry.getValue()[0] / (double) mails, entry.getKey());
      }
      String dump = System.getProperty("certmail.waiting-heap.dump", "");
      if (!dump.isEmpty()) {
        ManagementFactory.newPlatformMXBeanProxy(ManagementFactory.getPlatformMBeanServer(),
                "com.sun.management:type=HotSpotDiagnostic", com.sun.management.HotSpotDiagnosticMXBean.class)
            .dumpHeap(dump, true);
        System.out.println("waiting-heap: heap dump " + dump);
      }
    }
  }

  /** Submits in batches of 8; a submission that timed out (a busy machine) is made again with its id (idempotent). */
  private static void submit(EngineNode alpha, ManualClock clock, int mails) throws Exception {
    MailItem item = MailItem.newBuilder().setSubject("waiting").setBody("a mail its recipient has not decided on").build();
    long deadline = clock.millis() + Duration.ofDays(1).toMillis();
    List<String> batch = new ArrayList<>();
    for (int i = 0; i < mails; i++) {
      batch.add(UUID.randomUUID().toString());
      if (batch.size() == 8 || i == mails - 1) {
        while (!batch.isEmpty()) {
          List<CompletableFuture<MailStatus>> inFlight = batch.stream().map(id -> alpha.engine.submit(ALICE, id, CAROL,
              item, deadline, Flavour.NSR).toCompletableFuture()).toList();
          List<String> again = new ArrayList<>();
          for (int j = 0; j < batch.size(); j++) {
            try {
              inFlight.get(j).get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
              again.add(batch.get(j));
            }
          }
          batch = again;
        }
      }
    }
  }

  /** Waits until no entity runs, or their number has stopped falling for 30 s; returns how many still run. */
  private static int awaitSleep(EngineNode alpha, EngineNode beta, Duration atMost) {
    long until = System.nanoTime() + atMost.toNanos();
    int lowest = Integer.MAX_VALUE;
    long lowestSince = System.nanoTime();
    while (true) {
      Map<String, Integer> running = new LinkedHashMap<>();
      running.put("outbox@alpha", alpha.runningEntities(OutboxEntry.typeKey(ALICE)).size());
      running.put("server@alpha", alpha.runningEntities(MailServer.typeKey(ALPHA)).size());
      running.put("server@beta", beta.runningEntities(MailServer.typeKey(BETA)).size());
      running.put("inbox@beta", beta.runningEntities(InboxEntry.typeKey(CAROL)).size());
      int total = running.values().stream().mapToInt(Integer::intValue).sum();
      System.out.println("waiting-heap: running " + running);
      if (total < lowest) {
        lowest = total;
        lowestSince = System.nanoTime();
      }
      if (total == 0 || System.nanoTime() > until
          || System.nanoTime() - lowestSince > Duration.ofSeconds(30).toNanos()) {
        return total;
      }
      EngineNode.sleep(5000);
    }
  }

  private static long usedHeap() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Class name -> {instances, bytes} of the live heap (jcmd runs a full GC first). */
  private static Map<String, long[]> histogram() throws Exception {
    Process jcmd = new ProcessBuilder("jcmd", Long.toString(ProcessHandle.current().pid()), "GC.class_histogram")
        .redirectErrorStream(true).start();
    Map<String, long[]> classes = new HashMap<>();
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(jcmd.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        Matcher matcher = HISTOGRAM_LINE.matcher(line);
        if (matcher.matches()) {
          classes.merge(matcher.group(3), new long[] {Long.parseLong(matcher.group(1)), Long.parseLong(matcher.group(2))},
              (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        }
      }
    }
    jcmd.waitFor(120, TimeUnit.SECONDS);
    return classes;
  }
}
