package net.certmail.node.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One step of an open-loop load: mails submitted at a fixed rate whatever the network answers,
 * each latency measured from the instant the mail was due to be sent (its intended time), so a
 * network that stalls shows its stall in every mail that waited, not in one (no coordinated
 * omission). A mail's COP and its ROD (status DELIVERED) are seen through long polls on its
 * status (the API's {@code waitWhile}): each answer comes when the status changes, so a figure is
 * late only by the answer's way back, and a mail costs its submission and one status request per
 * change of status.
 */
final class OpenLoopStep {
  /** Where the mails go: the sender's node, mailbox and token, the recipient. */
  record Target(String apiUri, String sender, String token, String recipient) {}

  /**
   * What a step measured. Latencies in milliseconds, from each mail's intended send time.
   *
   * @param startedAtEpochMillis when the step's first mail was due, by the wall clock (to match the
   *     timeline with the nodes' GC logs and Cassandra's log)
   * @param rodMaxBySecond per second of the step, the longest submission to ROD of the mails due to be
   *     sent in it (0: none delivered): a stall shows as a run of seconds, a queue as a slope
   */
  record Result(double offeredPerSecond, double achievedPerSecond, long submitted, long delivered,
                long failed, long unfinished, long statusRequests, Histogram submitToCop, Histogram submitToRod,
                long startedAtEpochMillis, long[] rodMaxBySecond) {
    /** The network kept up: (almost) every mail of the step had its ROD by the end of the drain. */
    boolean keptUp() {
      return submitted > 0 && unfinished == 0 && failed == 0 && achievedPerSecond >= 0.95 * offeredPerSecond;
    }
  }

  /**
   * Verdicts per second over the span in which they came out: n deliveries seen from first to
   * last, one send period added for the interval before the first. A network that keeps pace
   * delivers over about the sending time, one that falls behind over longer. Dividing by the
   * sending time plus the last mail's latency instead (as the first version did) called a network
   * that kept pace at 0.8 s latency "behind" on a 15 s step (15 / 15.8 < 0.95), whatever its rate.
   * Never above the offered rate: a burst of late verdicts is caught by the latency limit.
   */
  static double verdictRate(long delivered, double sendingSeconds, double elapsedSeconds, long firstSeenNanos,
                            long lastSeenNanos, long periodNanos) {
    if (delivered < 2) {
      return delivered / Math.max(sendingSeconds, elapsedSeconds);
    }
    double span = (lastSeenNanos - firstSeenNanos + periodNanos) / 1e9;
    return delivered / Math.max(sendingSeconds, span);
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] FLAVOURS = {"CEM", "NSR", "IP"};
  private static final long HIGHEST_MILLIS = Duration.ofMinutes(10).toMillis();

  /** After a failed status request, the next one goes out this much later. */
  private static final Duration RETRY = Duration.ofMillis(100);
  /** Each status request waits up to this long for a change (the API's longest wait). */
  private static final int WAIT_SECONDS = net.certmail.node.http.HttpApi.MAX_STATUS_WAIT_SECONDS;

  private final HttpClient http;
  private final Target target;
  private final String runId;

  OpenLoopStep(HttpClient http, Target target, String runId) {
    this.http = http;
    this.target = target;
    this.runId = runId;
  }

  /**
   * Offers {@code rate} mails/s for {@code length}, then waits up to {@code drain} for the mails of
   * the step to conclude. Flavours rotate CEM, NSR, IP (by step and index, so one-mail steps rotate too).
   *
   * @param progress called about once a second with a line of figures so far
   */
  Result run(int step, double rate, Duration length, Duration drain, java.util.function.Consumer<String> progress)
      throws InterruptedException {
    long total = Math.max(1, Math.round(rate * length.toNanos() / 1e9));
    long periodNanos = (long) (1e9 / rate);
    long startedAtEpochMillis = System.currentTimeMillis();
    long start = System.nanoTime();
    Watches watches = new Watches(start, (int) (total * periodNanos / 1_000_000_000L) + 1);
    long nextProgress = start + 1_000_000_000L;
    try {
      for (long i = 0; i < total; i++) {
        long intended = start + i * periodNanos;
        long wait = intended - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        String submissionId = "load-" + runId + "-" + step + "-" + i;
        http.sendAsync(post(submissionId, FLAVOURS[(int) Math.floorMod(step + i, FLAVOURS.length)]), HttpResponse.BodyHandlers.ofString())
            .whenComplete((response, error) -> {
              if (error == null && response.statusCode() == 202) {
                watches.accepted.incrementAndGet();
                watches.seen(submissionId, intended, parse(response.body()));
              } else {
                watches.failed.incrementAndGet();
              }
            });
        long now = System.nanoTime();
        if (now >= nextProgress) {
          nextProgress += 1_000_000_000L;
          progress.accept(String.format(java.util.Locale.ROOT, "  step %d at %.0f mails/s: %d sent, %d delivered, %d open",
              step, rate, i + 1, watches.delivered.get(), watches.accepted.get() - watches.delivered.get() - watches.failedAfterAcceptance.get()));
        }
      }
      double sendingSeconds = (System.nanoTime() - start) / 1e9;
      long drainEnd = System.nanoTime() + drain.toNanos();
      while ((watches.delivered.get() + watches.failed.get() < total) && System.nanoTime() < drainEnd) {
        Thread.sleep(100);
      }
      long delivered = watches.delivered.get();
      long failed = watches.failed.get();
      return new Result(rate, verdictRate(delivered, sendingSeconds, (System.nanoTime() - start) / 1e9,
          watches.firstSeenNanos.get(), watches.lastSeenNanos.get(), periodNanos), total, delivered, failed,
          total - delivered - failed, watches.statusRequests.get(), watches.cop.getIntervalHistogram(),
          watches.rod.getIntervalHistogram(), startedAtEpochMillis, watches.rodMaxBySecond());
    } finally {
      watches.stop();
    }
  }

  /**
   * The step's accepted mails, each followed by a chain of long polls: every status request
   * waits for the mail's status to change from the one last seen ({@code waitWhile}), so an
   * answer comes when the COP or the verdict does, not at the next poll of a client asking on a
   * clock, and a mail costs a few requests rather than one every few tens of milliseconds.
   */
  private final class Watches {
    final Recorder cop = new Recorder(HIGHEST_MILLIS, 3);
    final Recorder rod = new Recorder(HIGHEST_MILLIS, 3);
    final AtomicLong accepted = new AtomicLong();
    final AtomicLong delivered = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong failedAfterAcceptance = new AtomicLong();
    final AtomicLong statusRequests = new AtomicLong();
    final AtomicLong firstSeenNanos = new AtomicLong(Long.MAX_VALUE);
    final AtomicLong lastSeenNanos = new AtomicLong(Long.MIN_VALUE);
    final Map<String, Boolean> copSeen = new ConcurrentHashMap<>();
    private final long startNanos;
    private final java.util.concurrent.atomic.AtomicLongArray rodMax;
    final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "bench-load-retry");
      thread.setDaemon(true);
      return thread;
    });
    /** Set when the step is over: answers after it count nowhere and start no further request. */
    volatile boolean over;

    Watches(long startNanos, int seconds) {
      this.startNanos = startNanos;
      this.rodMax = new java.util.concurrent.atomic.AtomicLongArray(seconds);
    }

    long[] rodMaxBySecond() {
      long[] copy = new long[rodMax.length()];
      for (int i = 0; i < copy.length; i++) {
        copy[i] = rodMax.get(i);
      }
      return copy;
    }

    /** A status of the mail, as answered now: the COP and the verdict counted, else a wait for the next change. */
    void seen(String submissionId, long intendedNanos, JsonNode status) {
      if (over) {
        return;
      }
      long seenNanos = System.nanoTime();
      String state = status.path("status").asText();
      boolean deliveredNow = "DELIVERED".equals(state);
      if ((deliveredNow || hasCop(status)) && copSeen.putIfAbsent(submissionId, true) == null) {
        cop.recordValue(millis(seenNanos - intendedNanos));
      }
      if (deliveredNow) {
        long rodMillis = millis(seenNanos - intendedNanos);
        rod.recordValue(rodMillis);
        int second = (int) Math.min(rodMax.length() - 1, (intendedNanos - startNanos) / 1_000_000_000L);
        rodMax.accumulateAndGet(second, rodMillis, Math::max);
        firstSeenNanos.accumulateAndGet(seenNanos, Math::min);
        lastSeenNanos.accumulateAndGet(seenNanos, Math::max);
        delivered.incrementAndGet();
      } else if ("NOT_DELIVERED".equals(state) || "LOST".equals(state) || "NOT_POSTED".equals(state)) {
        failed.incrementAndGet();
        failedAfterAcceptance.incrementAndGet();
      } else {
        waitForChange(submissionId, intendedNanos, state.isEmpty() ? "SUBMITTED" : state);
      }
    }

    private void waitForChange(String submissionId, long intendedNanos, String unchanged) {
      statusRequests.incrementAndGet();
      http.sendAsync(statusChange(submissionId, unchanged), HttpResponse.BodyHandlers.ofString())
          .whenComplete((response, error) -> {
            if (error == null && response.statusCode() == 200) {
              seen(submissionId, intendedNanos, parse(response.body()));
            } else if (!over) {
              retries.schedule(() -> waitForChange(submissionId, intendedNanos, unchanged), RETRY.toMillis(),
                  TimeUnit.MILLISECONDS);
            }
          });
    }

    void stop() throws InterruptedException {
      over = true;
      retries.shutdownNow();
      retries.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private HttpRequest post(String submissionId, String flavour) {
    String body = "{\"recipient\":\"" + target.recipient() + "\",\"subject\":\"load " + submissionId
        + "\",\"body\":\"A certified mail of the load benchmark.\",\"flavour\":\"" + flavour
        + "\",\"leadSeconds\":86400}";
    return HttpRequest.newBuilder(URI.create(target.apiUri() + "/v1/mailboxes/" + target.sender() + "/outbox"))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + target.token())
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", submissionId)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  /** The mail's status once it is no longer {@code unchanged}, or after WAIT_SECONDS as it is. */
  private HttpRequest statusChange(String submissionId, String unchanged) {
    return HttpRequest.newBuilder(URI.create(target.apiUri() + "/v1/mailboxes/" + target.sender() + "/outbox/"
            + submissionId + "?waitWhile=" + unchanged + "&waitSeconds=" + WAIT_SECONDS))
        .timeout(Duration.ofSeconds(WAIT_SECONDS + 15))
        .header("Authorization", "Bearer " + target.token()).GET().build();
  }

  private static boolean hasCop(JsonNode status) {
    for (JsonNode item : status.path("evidence")) {
      if ("COP".equals(item.path("kind").asText())) {
        return true;
      }
    }
    return false;
  }

  private static JsonNode parse(String body) {
    try {
      return JSON.readTree(body);
    } catch (java.io.IOException e) {
      return JSON.createObjectNode();
    }
  }

  private static long millis(long nanos) {
    return Math.min(HIGHEST_MILLIS, Math.max(0, nanos / 1_000_000));
  }
}
