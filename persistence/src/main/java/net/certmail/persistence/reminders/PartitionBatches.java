package net.certmail.persistence.reminders;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.Done;

/**
 * Statements of many callers on the same partition sent together: while a request for a partition
 * is in flight, what is asked for that partition waits, and goes in the next request with
 * everything else that queued meanwhile (at most {@code maxStatements}; one caller's statements
 * are never split). A statement asked for an idle partition goes at once, so nothing waits unless
 * the partition is busy. Each caller's stage completes with its request.
 *
 * <p>Why, for the reminder rows on Cassandra: Cassandra's cost under load is mostly per request
 * (its native transport and CQL layers held three quarters of its samples under {@code bench
 * load}), the rows of a node's organisation fall into one or two minute buckets, and a
 * single-partition unlogged batch is one request, applied atomically and in isolation.
 *
 * @param <K> the partition
 * @param <S> a statement
 */
final class PartitionBatches<K, S> {
  private record Asked<S>(List<S> statements, CompletableFuture<Done> done) {}

  /** A partition with a request in flight, and what waits for the next one. */
  private static final class Busy<S> {
    final ArrayDeque<Asked<S>> waiting = new ArrayDeque<>();
  }

  private final Function<List<S>, CompletionStage<?>> send;
  private final int maxStatements;
  private final Map<K, Busy<S>> busy = new HashMap<>(); // guarded by itself

  /**
   * @param send sends the statements of one partition as one request (a lone statement, or a batch)
   * @param maxStatements statements in one request at most (a single caller asking more goes alone)
   */
  PartitionBatches(Function<List<S>, CompletionStage<?>> send, int maxStatements) {
    if (maxStatements < 1) {
      throw new IllegalArgumentException("maxStatements must be at least 1, was " + maxStatements);
    }
    this.send = send;
    this.maxStatements = maxStatements;
  }

  /** Sends the statements, together with others queued for the partition; completes when their request did. */
  CompletionStage<Done> submit(K partition, List<S> statements) {
    Asked<S> asked = new Asked<>(List.copyOf(statements), new CompletableFuture<>());
    if (statements.isEmpty()) {
      asked.done().complete(Done.getInstance());
      return asked.done();
    }
    synchronized (busy) {
      Busy<S> inFlight = busy.get(partition);
      if (inFlight != null) {
        inFlight.waiting.add(asked);
        return asked.done();
      }
      busy.put(partition, new Busy<>());
    }
    sendAll(partition, List.of(asked));
    return asked.done();
  }

  private void sendAll(K partition, List<Asked<S>> group) {
    List<S> statements = new ArrayList<>();
    group.forEach(asked -> statements.addAll(asked.statements()));
    CompletionStage<?> request;
    try {
      request = send.apply(statements);
    } catch (RuntimeException e) {
      request = CompletableFuture.failedFuture(e);
    }
    request.whenComplete((result, failure) -> {
      Throwable cause = failure instanceof CompletionException wrapped && wrapped.getCause() != null
          ? wrapped.getCause() : failure;
      for (Asked<S> asked : group) {
        if (cause == null) {
          asked.done().complete(Done.getInstance());
        } else {
          asked.done().completeExceptionally(cause);
        }
      }
      List<Asked<S>> next = takeNext(partition);
      if (!next.isEmpty()) {
        sendAll(partition, next);
      }
    });
  }

  /** The next group waiting for the partition (empty, and the partition idle, when none waits). */
  private List<Asked<S>> takeNext(K partition) {
    synchronized (busy) {
      Busy<S> inFlight = busy.get(partition);
      if (inFlight.waiting.isEmpty()) {
        busy.remove(partition);
        return List.of();
      }
      List<Asked<S>> group = new ArrayList<>();
      int count = 0;
      while (!inFlight.waiting.isEmpty()
          && (group.isEmpty() || count + inFlight.waiting.peek().statements().size() <= maxStatements)) {
        Asked<S> asked = inFlight.waiting.poll();
        group.add(asked);
        count += asked.statements().size();
      }
      return group;
    }
  }
}
