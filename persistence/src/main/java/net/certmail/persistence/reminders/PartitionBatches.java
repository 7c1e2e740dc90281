package net.certmail.persistence.reminders;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.Done;

/**
 * Statements of many callers on the same partition sent together. What is asked for an idle
 * partition waits for the batch window (zero: goes at once), gathering what else is asked for the
 * partition meanwhile, then goes as one request. While a request for a partition is in flight,
 * what is asked for it waits and goes in the next request, as soon as that one is back. A request
 * holds at most {@code maxStatements} (one caller's statements are never split; a window that fills
 * up goes before its end). Each caller's stage completes with its request.
 *
 * <p>Why, for the reminder rows on Cassandra: Cassandra's cost under load is mostly per request
 * (its native transport threads and event loops used over half its CPU under {@code bench load},
 * the writes themselves a quarter), the rows of a node's organisation fall into one or two minute
 * buckets, and a single-partition unlogged batch is one request, applied atomically and in
 * isolation. Without a window a request went alone unless another was in flight: at ~80 mails/s
 * Cassandra applied ~11 reminder requests per mail for ~11 row changes.
 *
 * @param <K> the partition
 * @param <S> a statement
 */
final class PartitionBatches<K, S> {
  private record Asked<S>(List<S> statements, CompletableFuture<Done> done) {}

  /** A partition with statements waiting, a window open or a request in flight. */
  private static final class Partition<S> {
    final ArrayDeque<Asked<S>> waiting = new ArrayDeque<>();
    int waitingStatements;
    boolean windowOpen;
    boolean inFlight;
  }

  private final Function<List<S>, CompletionStage<?>> send;
  private final int maxStatements;
  private final boolean windowed;
  private final Consumer<Runnable> afterWindow;
  private final Map<K, Partition<S>> partitions = new HashMap<>(); // guarded by itself

  /** Without a window: a statement for an idle partition goes at once. */
  PartitionBatches(Function<List<S>, CompletionStage<?>> send, int maxStatements) {
    this(send, maxStatements, Duration.ZERO);
  }

  /** With a window timed by the JDK's shared delay scheduler. */
  PartitionBatches(Function<List<S>, CompletionStage<?>> send, int maxStatements, Duration window) {
    this(send, maxStatements, !window.isZero(),
        task -> CompletableFuture.delayedExecutor(window.toNanos(), TimeUnit.NANOSECONDS).execute(task));
  }

  /**
   * @param send sends the statements of one partition as one request (a lone statement, or a batch)
   * @param maxStatements statements in one request at most (a single caller asking more goes alone)
   * @param windowed whether an idle partition waits for the window before it sends
   * @param afterWindow runs a task when a window ends (tests run it when they choose)
   */
  PartitionBatches(Function<List<S>, CompletionStage<?>> send, int maxStatements, boolean windowed,
                   Consumer<Runnable> afterWindow) {
    if (maxStatements < 1) {
      throw new IllegalArgumentException("maxStatements must be at least 1, was " + maxStatements);
    }
    this.send = send;
    this.maxStatements = maxStatements;
    this.windowed = windowed;
    this.afterWindow = afterWindow;
  }

  /** Sends the statements, together with others asked for the partition; completes when their request did. */
  CompletionStage<Done> submit(K partition, List<S> statements) {
    Asked<S> asked = new Asked<>(List.copyOf(statements), new CompletableFuture<>());
    if (statements.isEmpty()) {
      asked.done().complete(Done.getInstance());
      return asked.done();
    }
    List<Asked<S>> group;
    boolean openWindow = false;
    synchronized (partitions) {
      Partition<S> state = partitions.computeIfAbsent(partition, key -> new Partition<>());
      state.waiting.add(asked);
      state.waitingStatements += asked.statements().size();
      if (state.inFlight) {
        return asked.done(); // goes when the request in flight is back
      }
      if (windowed && state.waitingStatements < maxStatements) {
        openWindow = !state.windowOpen;
        state.windowOpen = true;
        group = List.of();
      } else {
        group = takeGroup(state);
        state.inFlight = true;
      }
    }
    if (openWindow) {
      afterWindow.accept(() -> windowEnded(partition));
    }
    if (!group.isEmpty()) {
      sendAll(partition, group);
    }
    return asked.done();
  }

  private void windowEnded(K partition) {
    List<Asked<S>> group;
    synchronized (partitions) {
      Partition<S> state = partitions.get(partition);
      state.windowOpen = false;
      if (state.inFlight) {
        return; // the window filled up and went; the rest goes when that request is back
      }
      if (state.waiting.isEmpty()) {
        partitions.remove(partition);
        return;
      }
      group = takeGroup(state);
      state.inFlight = true;
    }
    sendAll(partition, group);
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
      List<Asked<S>> next = requestBack(partition);
      if (!next.isEmpty()) {
        sendAll(partition, next);
      }
    });
  }

  /** The next group for the partition, which stays in flight (empty, and nothing in flight, when none waits). */
  private List<Asked<S>> requestBack(K partition) {
    synchronized (partitions) {
      Partition<S> state = partitions.get(partition);
      if (state.waiting.isEmpty()) {
        state.inFlight = false;
        if (!state.windowOpen) {
          partitions.remove(partition);
        }
        return List.of();
      }
      return takeGroup(state);
    }
  }

  /** Callers from the head of the queue, up to the limit (at least one). Holds the lock. */
  private List<Asked<S>> takeGroup(Partition<S> state) {
    List<Asked<S>> group = new ArrayList<>();
    int count = 0;
    while (!state.waiting.isEmpty()
        && (group.isEmpty() || count + state.waiting.peek().statements().size() <= maxStatements)) {
      Asked<S> asked = state.waiting.poll();
      group.add(asked);
      count += asked.statements().size();
    }
    state.waitingStatements -= count;
    return group;
  }
}
