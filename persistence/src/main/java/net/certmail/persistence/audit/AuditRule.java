package net.certmail.persistence.audit;

/**
 * The invariants the journal audit checks (docs/architecture.md, "The audit"). The id is what a report and a
 * violation name; the description says what must hold.
 */
public enum AuditRule {
  CONTIGUOUS_SEQUENCE_NUMBERS("contiguous-sequence-numbers",
      "every persistence id holds events 1..n without a gap (a gap is a deleted event)"),
  READABLE_EVENT("readable-event",
      "every event decodes as a certmail event of the kind its persistence id holds"),
  EVIDENCE_VERIFIES("evidence-verifies",
      "every evidence item's signature and the signer's certificate verify against the network's trust store"),
  EVIDENCE_MATCHES_LABEL("evidence-matches-label",
      "evidence stored under a label is about that label"),
  LABEL_ISSUED_ONCE("label-issued-once",
      "one COP per label, and the COP names the submission that holds it"),
  ONE_VERDICT_PER_LABEL("one-verdict-per-label",
      "the origin server reaches exactly one verdict (delivery certified or non-delivery) per label"),
  SENDER_VERDICT_MATCHES_ORIGIN("sender-verdict-matches-origin",
      "the sender's verdict is the origin server's verdict, with the same evidence"),
  ROD_NEEDS_VALID_COD("rod-needs-valid-cod",
      "a ROD comes only with a valid COD from the recipient, over the label and the flavour's hash"),
  EVIDENCE_ENTITLED("evidence-entitled",
      "every non-delivery notice is issued by a server on the COP's route, for a reason that fits its place"),
  NDN_BEFORE_DEADLINE("ndn-before-deadline",
      "every non-delivery notice is issued before the deadline T"),
  CONTENT_AFTER_COD("content-after-cod",
      "in NSR and IP the content is released to the recipient only after its COD"),
  COP_ACCOUNTED_FOR("cop-accounted-for",
      "every COP ends in a verdict (or a LOST claim), unless its deadline T has not passed yet");

  private final String id;
  private final String description;

  AuditRule(String id, String description) {
    this.id = id;
    this.description = description;
  }

  public String id() {
    return id;
  }

  public String description() {
    return description;
  }
}
