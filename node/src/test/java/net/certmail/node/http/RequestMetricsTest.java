package net.certmail.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The resource tag of the HTTP metric comes from a fixed set, whatever path a client sends. */
class RequestMetricsTest {
  @Test
  void pathsMapToTheirResource() {
    assertEquals("outbox", RequestMetrics.resource("/v1/mailboxes/alice@alpha.example/outbox"));
    assertEquals("outbox", RequestMetrics.resource("/v1/mailboxes/alice@alpha.example/outbox/s-1/bundle"));
    assertEquals("inbox", RequestMetrics.resource("/v1/mailboxes/bob@beta.example/inbox/beta.example/01X/accept"));
    assertEquals("directory", RequestMetrics.resource("/v1/directory/alpha.example/01X"));
    assertEquals("openapi", RequestMetrics.resource("/v1/openapi.yaml"));
    assertEquals("docs", RequestMetrics.resource("/v1/docs/index.html"));
    assertEquals("ui", RequestMetrics.resource("/ui/outbox.html"));
  }

  @Test
  void anythingElseIsOtherNeverThePathItself() {
    assertEquals("mailbox", RequestMetrics.resource("/v1/mailboxes/alice@alpha.example"));
    assertEquals("mailbox", RequestMetrics.resource("/v1/mailboxes/alice@alpha.example/secret-path"));
    assertEquals("other", RequestMetrics.resource("/v1/attacker-chosen-name"));
    assertEquals("other", RequestMetrics.resource("/"));
    assertEquals("other", RequestMetrics.resource(""));
    assertEquals("other", RequestMetrics.resource("/v2/mailboxes/x/outbox"));
  }
}
