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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One step of an open-loop load: mails submitted at a fixed rate whatever the network answers,
 * each latency measured from the instant the mail was due to be sent (its intended time), so a
 * network that stalls shows its stall in every mail that waited, not in one (no coordinated
 * omission). A mail's COP and its ROD (status DELIVERED) are seen by polling its status every
 * {@code poll} while it is young and at a tenth of its age later (so that a slow network is not
 * also flooded with status requests): a figure is late by at most {@code poll} or a tenth of itself.
 */
final class OpenLoopStep {
  /** Where the mails go: the sender's node, mailbox and token, the recipient. */
  record Target(String apiUri, String sender, String token, String recipient) {}

  /** What a step measured. Latencies in milliseconds, from each mail's intended send time. */
  record Result(double offeredPerSecond, double achievedPerSecond, long submitted, long delivered,
                long failed, long unfinished, long polls, Histogram submitToCop, Histogram submitToRod) {
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

  private final HttpClient http;
  private final Target target;
  private final Duration poll;
  private final String runId;

  OpenLoopStep(HttpClient http, Target target, Duration poll, String runId) {
    this.http = http;
    this.target = target;
    this.poll = poll;
    this.runId = runId;
  }

  /** A mail that has been accepted (202) and has no verdict yet. */
  private static final class OpenMail {
    final String submissionId;
    final long intendedNanos;
    volatile boolean copSeen;
    final AtomicBoolean polling = new AtomicBoolean();
    /** When to ask again: soon while the mail is young, then at a tenth of its age (at most every second). */
    volatile long nextPollNanos;

    OpenMail(String submissionId, long intendedNanos) {
      this.submissionId = submissionId;
      this.intendedNanos = intendedNanos;
    }
  }

  /**
   * Offers {@code rate} mails/s for {@code length}, then waits up to {@code drain} for the mails of
   * the step to conclude. Flavours rotate CEM, NSR, IP (by step and index, so one-mail steps rotate too).
   *
   * @param progress called about once a second with a line of figures so far
   */
  Result run(int step, double rate, Duration length, Duration drain, java.util.function.Consumer<String> progress)
      throws InterruptedException {
    Recorder cop = new Recorder(HIGHEST_MILLIS, 3);
    Recorder rod = new Recorder(HIGHEST_MILLIS, 3);
    Map<String, OpenMail> open = new ConcurrentHashMap<>();
    AtomicLong accepted = new AtomicLong();
    AtomicLong delivered = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicLong polls = new AtomicLong();
    AtomicLong firstSeenNanos = new AtomicLong(Long.MAX_VALUE);
    AtomicLong lastSeenNanos = new AtomicLong(Long.MIN_VALUE);
    long total = Math.max(1, Math.round(rate * length.toNanos() / 1e9));
    long periodNanos = (long) (1e9 / rate);

    ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "bench-load-poller");
      thread.setDaemon(true);
      return thread;
    });
    poller.scheduleWithFixedDelay(() -> {
      long now = System.nanoTime();
      for (OpenMail mail : open.values()) {
        if (now < mail.nextPollNanos || !mail.polling.compareAndSet(false, true)) {
          continue; // not yet, or its previous poll has not come back yet
        }
        long age = now - mail.intendedNanos;
        mail.nextPollNanos = now + Math.min(1_000_000_000L, Math.max(poll.toNanos(), age / 10));
        polls.incrementAndGet();
        http.sendAsync(get(mail), HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
          mail.polling.set(false);
          if (error != null || response.statusCode() != 200) {
            return; // asked again at the next poll
          }
          long seenNanos = System.nanoTime();
          JsonNode status = parse(response.body());
          if (!mail.copSeen && hasCop(status)) {
            mail.copSeen = true;
            cop.recordValue(millis(seenNanos - mail.intendedNanos));
          }
          String state = status.path("status").asText();
          // Two answers about one mail may be handled at once (the next poll goes out while this
          // one is handled): the one that removes the mail counts it.
          if ("DELIVERED".equals(state) && open.remove(mail.submissionId) != null) {
            if (!mail.copSeen) {
              mail.copSeen = true;
              cop.recordValue(millis(seenNanos - mail.intendedNanos));
            }
            rod.recordValue(millis(seenNanos - mail.intendedNanos));
            firstSeenNanos.accumulateAndGet(seenNanos, Math::min);
            lastSeenNanos.accumulateAndGet(seenNanos, Math::max);
            delivered.incrementAndGet();
          } else if (("NOT_DELIVERED".equals(state) || "LOST".equals(state) || "NOT_POSTED".equals(state))
              && open.remove(mail.submissionId) != null) {
            failed.incrementAndGet();
          }
        });
      }
    }, poll.toNanos(), poll.toNanos(), TimeUnit.NANOSECONDS);

    long start = System.nanoTime();
    long nextProgress = start + 1_000_000_000L;
    try {
      for (long i = 0; i < total; i++) {
        long intended = start + i * periodNanos;
        long wait = intended - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        String submissionId = "load-" + runId + "-" + step + "-" + i;
        OpenMail mail = new OpenMail(submissionId, intended);
        http.sendAsync(post(submissionId, FLAVOURS[(int) Math.floorMod(step + i, FLAVOURS.length)]), HttpResponse.BodyHandlers.ofString())
            .whenComplete((response, error) -> {
              if (error == null && response.statusCode() == 202) {
                accepted.incrementAndGet();
                open.put(submissionId, mail);
              } else {
                failed.incrementAndGet();
              }
            });
        long now = System.nanoTime();
        if (now >= nextProgress) {
          nextProgress += 1_000_000_000L;
          progress.accept(String.format(java.util.Locale.ROOT, "  step %d at %.0f mails/s: %d sent, %d delivered, %d open",
              step, rate, i + 1, delivered.get(), open.size()));
        }
      }
      double sendingSeconds = (System.nanoTime() - start) / 1e9;
      long drainEnd = System.nanoTime() + drain.toNanos();
      while ((delivered.get() + failed.get() < total) && System.nanoTime() < drainEnd) {
        Thread.sleep(100);
      }
      long unfinished = total - delivered.get() - failed.get();
      return new Result(rate, verdictRate(delivered.get(), sendingSeconds, (System.nanoTime() - start) / 1e9,
          firstSeenNanos.get(), lastSeenNanos.get(), periodNanos), total, delivered.get(), failed.get(), unfinished,
          polls.get(), cop.getIntervalHistogram(), rod.getIntervalHistogram());
    } finally {
      poller.shutdownNow();
      poller.awaitTermination(5, TimeUnit.SECONDS);
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

  private HttpRequest get(OpenMail mail) {
    return HttpRequest.newBuilder(URI.create(target.apiUri() + "/v1/mailboxes/" + target.sender() + "/outbox/"
            + mail.submissionId))
        .timeout(Duration.ofSeconds(30))
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
