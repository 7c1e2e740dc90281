package net.certmail.crypto;

/** Why an envelope or an evidence item was not accepted. Each says what a user can check next. */
public enum VerificationFailure {
  UNKNOWN_SIGNER("the signer has no certificate in this trust store; import the signer's certificate"),
  CERTIFICATE_EXPIRED("the signer's certificate had expired at the time of signing"),
  CERTIFICATE_NOT_YET_VALID("the signer's certificate was not yet valid at the time of signing"),
  FOREIGN_CA("the signer's certificate was not issued by this network's CA"),
  WRONG_KEY("the key id or algorithm does not belong to the named signer"),
  BAD_SIGNATURE("the signature does not match the signed bytes: they were altered or signed by another key"),
  WRONG_RECIPIENT("the envelope is addressed to another principal"),
  WRONG_KIND("the evidence is of another kind than expected"),
  REPLAYED("the envelope was seen before (replay)"),
  STALE("the envelope's send time lies outside the accepted freshness window"),
  MALFORMED("the input is not a well-formed certmail object");

  private final String explanation;

  VerificationFailure(String explanation) {
    this.explanation = explanation;
  }

  public String explanation() {
    return explanation;
  }
}
