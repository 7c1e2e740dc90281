package net.certmail.node.http;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per mailbox: {@code burst} requests at once, refilled at {@code perSecond}.
 * Keyed by the authenticated mailbox, so one mailbox's client cannot spend another's budget.
 */
final class RateLimiter {
  private final double burst;
  private final double perNano;
  private final LongSupplier nanoTime;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  /** Keys (client addresses, mailboxes) kept before idle ones are forgotten: many addresses must not fill memory. */
  static final int MAX_KEYS = 100_000;
  private final int maxKeys;

  RateLimiter(int burst, double perSecond, LongSupplier nanoTime) {
    this(burst, perSecond, nanoTime, MAX_KEYS);
  }

  RateLimiter(int burst, double perSecond, LongSupplier nanoTime, int maxKeys) {
    if (burst < 1 || perSecond <= 0) {
      throw new IllegalArgumentException("certmail.http.rate-limit needs burst >= 1 and per-second > 0");
    }
    this.burst = burst;
    this.perNano = perSecond / 1e9;
    this.nanoTime = nanoTime;
    this.maxKeys = maxKeys;
  }

  /** Takes one token; false when the mailbox has none left (answer 429). */
  boolean tryAcquire(String mailbox) {
    if (buckets.size() >= maxKeys && !buckets.containsKey(mailbox)) {
      forgetIdle();
    }
    Bucket bucket = buckets.computeIfAbsent(mailbox, key -> new Bucket(burst, nanoTime.getAsLong()));
    synchronized (bucket) {
      long now = nanoTime.getAsLong();
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.updated) * perNano);
      bucket.updated = now;
      if (bucket.tokens < 1) {
        return false;
      }
      bucket.tokens -= 1;
      return true;
    }
  }

  /** Whether the key has a token left, without taking it (an address that failed too often to authenticate). */
  boolean hasBudget(String key) {
    Bucket bucket = buckets.get(key);
    if (bucket == null) {
      return true;
    }
    synchronized (bucket) {
      return Math.min(burst, bucket.tokens + (nanoTime.getAsLong() - bucket.updated) * perNano) >= 1;
    }
  }

  /** Forgets the keys whose bucket has refilled: they would start full anyway. */
  private void forgetIdle() {
    long now = nanoTime.getAsLong();
    buckets.entrySet().removeIf(entry -> {
      synchronized (entry.getValue()) {
        return entry.getValue().tokens + (now - entry.getValue().updated) * perNano >= burst;
      }
    });
  }

  int keys() {
    return buckets.size();
  }

  /** Seconds until the next token, for the Retry-After header. */
  long retryAfterSeconds() {
    return Math.max(1, (long) Math.ceil(1 / (perNano * 1e9)));
  }

  private static final class Bucket {
    double tokens;
    long updated;

    Bucket(double tokens, long updated) {
      this.tokens = tokens;
      this.updated = updated;
    }
  }
}
