package net.certmail.persistence.reminders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.junit.jupiter.api.Test;

/**
 * Statements of many callers per partition: one request in flight per partition, the rest together
 * after it; with a window, what is asked for an idle partition within it goes as one request.
 */
class PartitionBatchesTest {
  /** Requests as sent, each completed by the test. */
  private final List<List<String>> sent = new ArrayList<>();
  private final List<CompletableFuture<Object>> replies = new ArrayList<>();
  private final PartitionBatches<String, String> batches = new PartitionBatches<>(this::send, 4);

  private CompletionStage<?> send(List<String> statements) {
    sent.add(List.copyOf(statements));
    CompletableFuture<Object> reply = new CompletableFuture<>();
    replies.add(reply);
    return reply;
  }

  @Test
  void aStatementForAnIdlePartitionGoesAtOnce() {
    CompletionStage<Done> done = batches.submit("p", List.of("a"));
    assertEquals(List.of(List.of("a")), sent);
    assertFalse(done.toCompletableFuture().isDone(), "completes with its request, not before");
    replies.get(0).complete("ok");
    assertTrue(done.toCompletableFuture().isDone());
  }

  @Test
  void whatIsAskedWhileARequestIsInFlightGoesTogetherInTheNextOne() {
    CompletionStage<Done> first = batches.submit("p", List.of("a"));
    CompletionStage<Done> second = batches.submit("p", List.of("b"));
    CompletionStage<Done> third = batches.submit("p", List.of("c", "d"));
    CompletionStage<Done> elsewhere = batches.submit("q", List.of("x"));
    assertEquals(List.of(List.of("a"), List.of("x")), sent, "another partition does not wait");
    replies.get(0).complete("ok");
    assertTrue(first.toCompletableFuture().isDone());
    assertEquals(List.of("b", "c", "d"), sent.get(2));
    assertFalse(second.toCompletableFuture().isDone());
    replies.get(2).complete("ok");
    assertTrue(second.toCompletableFuture().isDone() && third.toCompletableFuture().isDone());
    assertFalse(elsewhere.toCompletableFuture().isDone());
    batches.submit("p", List.of("e"));
    assertEquals(List.of("e"), sent.get(3), "idle again: at once");
  }

  @Test
  void aRequestHoldsAtMostTheLimitAndNeverSplitsACaller() {
    batches.submit("p", List.of("a"));
    batches.submit("p", List.of("b", "c"));
    batches.submit("p", List.of("d", "e", "f"));
    batches.submit("p", List.of("g", "h", "i", "j", "k"));
    replies.get(0).complete("ok");
    assertEquals(List.of("b", "c"), sent.get(1), "b, c and d, e, f would be 5 > 4");
    replies.get(1).complete("ok");
    assertEquals(List.of("d", "e", "f"), sent.get(2));
    replies.get(2).complete("ok");
    assertEquals(List.of("g", "h", "i", "j", "k"), sent.get(3), "more than the limit alone: sent alone, whole");
  }

  @Test
  void aFailedRequestFailsItsCallersOnlyAndTheNextOneStillGoes() {
    CompletionStage<Done> first = batches.submit("p", List.of("a"));
    CompletionStage<Done> second = batches.submit("p", List.of("b"));
    replies.get(0).completeExceptionally(new IllegalStateException("timed out"));
    assertTrue(first.toCompletableFuture().isCompletedExceptionally());
    assertEquals(List.of("b"), sent.get(1));
    replies.get(1).complete("ok");
    assertTrue(second.toCompletableFuture().isDone() && !second.toCompletableFuture().isCompletedExceptionally());
  }

  @Test
  void aSendThatThrowsFailsItsCallersAndFreesThePartition() {
    PartitionBatches<String, String> throwing = new PartitionBatches<>(statements -> {
      throw new IllegalStateException("session closed");
    }, 4);
    assertTrue(throwing.submit("p", List.of("a")).toCompletableFuture().isCompletedExceptionally());
    assertTrue(throwing.submit("p", List.of("b")).toCompletableFuture().isCompletedExceptionally(),
        "not stuck behind the first");
  }

  /** Windows ended when the test says so. */
  private final List<Runnable> windows = new ArrayList<>();
  private final PartitionBatches<String, String> windowed = new PartitionBatches<>(this::send, 4, true, windows::add);

  @Test
  void withAWindowWhatIsAskedForAnIdlePartitionWithinItGoesAsOneRequest() {
    CompletionStage<Done> first = windowed.submit("p", List.of("a"));
    CompletionStage<Done> second = windowed.submit("p", List.of("b"));
    CompletionStage<Done> elsewhere = windowed.submit("q", List.of("x"));
    assertEquals(List.of(), sent, "nothing goes before its window ends");
    assertEquals(2, windows.size(), "one window per partition, not per caller");
    windows.get(0).run();
    assertEquals(List.of(List.of("a", "b")), sent);
    replies.get(0).complete("ok");
    assertTrue(first.toCompletableFuture().isDone() && second.toCompletableFuture().isDone());
    assertFalse(elsewhere.toCompletableFuture().isDone());
    windows.get(1).run();
    assertEquals(List.of("x"), sent.get(1));
  }

  @Test
  void withAWindowWhatIsAskedWhileARequestIsOutGoesWhenItIsBackWithoutAnotherWindow() {
    windowed.submit("p", List.of("a"));
    windows.get(0).run();
    CompletionStage<Done> later = windowed.submit("p", List.of("b"));
    assertEquals(1, windows.size(), "a request is out: no window");
    replies.get(0).complete("ok");
    assertEquals(List.of("b"), sent.get(1), "sent as soon as the request before it is back");
    replies.get(1).complete("ok");
    assertTrue(later.toCompletableFuture().isDone());
    windowed.submit("p", List.of("c"));
    assertEquals(2, windows.size(), "idle again: a new window");
    assertEquals(2, sent.size());
  }

  @Test
  void aWindowThatFillsUpGoesBeforeItsEndAndItsEndSendsNothingTwice() {
    windowed.submit("p", List.of("a", "b"));
    windowed.submit("p", List.of("c", "d"));
    assertEquals(List.of(List.of("a", "b", "c", "d")), sent, "the limit reached: at once");
    CompletionStage<Done> fifth = windowed.submit("p", List.of("e"));
    windows.get(0).run();
    assertEquals(1, sent.size(), "the window's end while the request is out sends nothing");
    replies.get(0).complete("ok");
    assertEquals(List.of("e"), sent.get(1));
    replies.get(1).complete("ok");
    assertTrue(fifth.toCompletableFuture().isDone());
  }

  @Test
  void aRequestBackBeforeItsWindowEndedLeavesThePartitionReadyForTheNext() {
    windowed.submit("p", List.of("a"));
    windowed.submit("p", List.of("b", "c", "d"));
    replies.get(0).complete("ok"); // the filled-up window went, and is back before the window's end
    windows.get(0).run();
    assertEquals(1, sent.size(), "nothing waited: nothing more sent");
    CompletionStage<Done> next = windowed.submit("p", List.of("e"));
    assertEquals(2, windows.size(), "idle: a new window");
    windows.get(1).run();
    assertEquals(List.of("e"), sent.get(1));
    replies.get(1).complete("ok");
    assertTrue(next.toCompletableFuture().isDone());
  }

  @Test
  void aCallerAskingTheLimitOrMoreGoesAtOnceEvenWithAWindow() {
    windowed.submit("p", List.of("a", "b", "c", "d", "e"));
    assertEquals(List.of(List.of("a", "b", "c", "d", "e")), sent);
    assertEquals(0, windows.size());
  }
}
