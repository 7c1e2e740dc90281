package net.certmail.protocol.simulation;

/**
 * What must hold for every schedule. Safety invariants hold in every schedule; liveness
 * invariants ({@link #livenessOnly}) only when the faults stay within the stated bounds.
 */
public enum Invariant {
  NO_EXCEPTION("no machine throws, on any input or replay", false),
  SCHEDULE_ENDS("a schedule comes to rest: no principal steps without end", false),
  ONE_VERDICT("at most one verdict per label at P1", false),
  LABEL_ISSUED_ONCE("no label is issued twice, and every COP anyone keeps is the one its origin issued", false),
  VERDICT_AGREES("A's verdict (DELIVERED / NOT_DELIVERED) equals P1's", false),
  VERDICT_IN_TIME("every verdict is issued before T and accepted by A before T + grace", false),
  LOST_WITH_CLAIM("LOST only with a claim that verifies and is issued at or after T + grace", false),
  ANSWER_MATCHES("A accepts a COP or a refusal only about its own submission (sender, id, recipient, content,"
      + " deadline, flavour)", false),
  EVERY_MAIL_ENDS("every submission ends with exactly one outcome", false),
  NO_CONTENT_BEFORE_COD("in NSR and IP no content reaches B before B signed its COD; content goes to B alone", false),
  RIGHT_CONTENT("the content B ends with is the one the COP certifies", false),
  ONLY_HOME_SERVER_NOTIFIES("only B's home server notifies B (the label lock)", false),
  EVIDENCE_ENTITLED("every evidence item an honest principal keeps verifies and is its issuer's to issue", false),
  QUIESCENCE("no stage without an end: by T + grace + a few handshakes nothing is due", false),
  VALID_MAIL_POSTED("within bounds, a valid submission (to a mailbox that exists, lead time over the minimum by a handshake)"
      + " gets its COP", true),
  P1_DECIDES("within bounds, P1 reaches a verdict for every COP it issued", true),
  VERDICT_REACHES_SENDER("within bounds, A ends with P1's verdict: never LOST or NOT_POSTED", true),
  COD_MEANS_CONTENT("within bounds, a COD accepted by Pn means B ends with M and P1 certifies delivery", true);

  private final String rule;
  private final boolean livenessOnly;

  Invariant(String rule, boolean livenessOnly) {
    this.rule = rule;
    this.livenessOnly = livenessOnly;
  }

  public String rule() {
    return rule;
  }

  public boolean livenessOnly() {
    return livenessOnly;
  }
}
