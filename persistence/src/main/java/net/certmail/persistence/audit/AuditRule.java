package net.certmail.persistence.audit;

/**
 * The invariants the journal audit checks (docs/architecture.md, "The audit"). The id is what a
 * report and a violation name; the description says what must hold. Per stream: sequence
 * numbers, decoding, the hash chain, the role's machine. Per label: every stored fact against the signed evidence, and what the
 * evidence held by one principal implies about the streams of the others.
 */
public enum AuditRule {
  CONTIGUOUS_SEQUENCE_NUMBERS("contiguous-sequence-numbers",
      "every persistence id holds events 1..n without a gap (a gap is a deleted event)"),
  READABLE_EVENT("readable-event",
      "every event decodes as a certmail event of the kind its persistence id holds"),
  HASH_CHAIN_INTACT("hash-chain-intact",
      "every chained event carries the chain hash of the event before it in its stream (the persistence id's"
          + " genesis for the first): no event before the last was edited, removed, reordered or inserted"),
  STREAM_FOLLOWS_MACHINE("stream-follows-machine",
      "replayed through its role's pure machine (SenderMachine, ServerMachine, RecipientMachine), every event is"
          + " one the machine persists at that point of the stream"),
  EVIDENCE_VERIFIES("evidence-verifies",
      "every evidence item's signature and the signer's certificate verify against the network's trust store"),
  EVIDENCE_MATCHES_LABEL("evidence-matches-label",
      "evidence stored under a label is about that label"),
  CONTENT_MATCHES_COP("content-matches-cop",
      "every stored copy of the content M hashes to the COP's H(M), and the recipient's expected hash is the"
          + " flavour's (H(M) in CEM, H(L,M) in IP)"),
  EVENT_MATCHES_EVIDENCE("event-matches-evidence",
      "every event's own fields (label, parties, deadline, flavour, hops, submission id) are those of the signed"
          + " COP, and the evidence it carries comes from whom the event says"),
  LABEL_ISSUED_ONCE("label-issued-once",
      "one COP per label, and the COP names the submission that holds it"),
  ONE_VERDICT_PER_LABEL("one-verdict-per-label",
      "the origin server reaches exactly one verdict (delivery certified or non-delivery) per label"),
  SENDER_VERDICT_MATCHES_ORIGIN("sender-verdict-matches-origin",
      "the sender's verdict is the origin server's verdict, with the same evidence"),
  ROD_NEEDS_VALID_COD("rod-needs-valid-cod",
      "a ROD comes only with a valid COD from the recipient, over the label and the flavour's hash"),
  EVIDENCE_ENTITLED("evidence-entitled",
      "every evidence item comes from the party entitled to it (Entitlements): ACKs from the next hop, CODs from the"
          + " recipient, ROD_n and content handovers from the destination, RODs from the origin, NDNs from a server on"
          + " the route for a reason that fits its place"),
  EVIDENCE_BEFORE_DEADLINE("evidence-before-deadline",
      "every COD, ROD_n, ROD, content handover and non-delivery notice is issued before the deadline T"),
  CONTENT_AFTER_COD("content-after-cod",
      "in NSR and IP the content is released to the recipient only after its COD"),
  IMPLIED_STREAM_PRESENT("implied-stream-present",
      "evidence one principal holds implies what another recorded (a COP: A's submission and P1's acceptance; an"
          + " ACK: the next hop's acceptance; a COD: B's receipt; a ROD_n: Pn's acceptance of the COD; A's verdict:"
          + " P1's verdict; an NDN: its issuer's notice; a notification: Pn's carriage); a missing or shortened"
          + " stream of an organisation this journal holds is named with who must have it"),
  WITNESSED_HEAD_MATCHES("witnessed-head-matches",
      "every signed stream head a peer holds (issuer_head in the evidence it received) is in the issuer's stream:"
          + " the stream reaches that sequence number and its chain hash there is the witnessed one, so a tail"
          + " truncated or a stream rewritten after a head was witnessed is caught without trusting the operator"),
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
