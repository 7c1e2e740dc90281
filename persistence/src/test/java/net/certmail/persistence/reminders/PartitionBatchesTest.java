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

/** Statements of many callers per partition: one request in flight per partition, the rest together after it. */
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
}
