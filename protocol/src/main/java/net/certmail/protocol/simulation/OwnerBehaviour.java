package net.certmail.protocol.simulation;

/** What a recipient's owner does when a mail is announced to them, drawn per mailbox and schedule. */
public enum OwnerBehaviour {
  /** The mailbox's policy accepts at once. */
  AUTO_ACCEPT,
  /** The owner looks later (sometimes after the deadline they were told) and accepts. */
  HOLD_THEN_ACCEPT,
  /** The owner looks later (sometimes after the deadline they were told) and refuses. */
  HOLD_THEN_REFUSE,
  /** The owner refuses at once. */
  REFUSE,
  /** The owner never answers. */
  NEVER_ANSWER
}
