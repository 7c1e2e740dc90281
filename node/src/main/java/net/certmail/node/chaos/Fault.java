package net.certmail.node.chaos;

/**
 * One fault the nemesis injected: its kind, where, what it did, when it began and ended (the
 * checker's clock, epoch millis), and when the cluster was whole again (every node up and ready,
 * the journal answering). The report adds the first verdict after it.
 */
final class Fault {
  final String kind;
  final String target;
  final long startedAt;
  volatile String detail = "";
  volatile long endedAt;
  volatile long wholeAt;

  Fault(String kind, String target, long startedAt) {
    this.kind = kind;
    this.target = target;
    this.startedAt = startedAt;
  }
}
