package net.certmail.node.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** What the workload saw of one mail, from the answers it got (the checker reads these with the history). */
final class MailRecord {
  /** One answered status request: when it was sent and received, and what it said. */
  record StatusRead(long invokedAt, long completedAt, String status, String reason, String label) {}

  final MailPlan plan;
  /** T, epoch millis, fixed at the first submission attempt (resends carry the same). */
  volatile long deadline;
  volatile long firstSubmitAt;
  /** A submission answered 202 (the node took it). */
  volatile boolean submitAcknowledged;
  /** A submission answered 4xx: the request itself was refused. */
  volatile String submitRefused;
  volatile String label;
  final List<StatusRead> reads = new ArrayList<>();
  /** The first final status seen, with its evidence. */
  volatile JsonNode finalStatus;
  volatile long finalSeenAt;
  volatile JsonNode directory;
  /** Held mails: when the owner's decision was sent and what the answer said. */
  volatile long decisionInvokedAt;
  volatile String decisionAnswer;
  volatile boolean decisionOk;
  /** The inbox entry as the owner saw it when waiting to decide. */
  volatile String inboxStatusSeen;
  /** NSR and IP before the COD: did a content request get the content? */
  volatile Boolean contentBeforeCod;
  /** The content the recipient obtained (NSR and IP after DELIVERED, CEM with the notification). */
  volatile JsonNode content;
  volatile long contentAt;
  volatile boolean done;

  MailRecord(MailPlan plan) {
    this.plan = plan;
  }

  synchronized void read(StatusRead read) {
    reads.add(read);
  }

  synchronized List<StatusRead> reads() {
    return List.copyOf(reads);
  }

  boolean isFinal() {
    return finalStatus != null;
  }

  boolean inFlight() {
    return label != null && finalStatus == null;
  }
}
