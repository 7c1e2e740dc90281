package net.certmail.crypto;

/** A rejected envelope or evidence item, with the machine-readable reason and a detail for logs. */
public final class VerificationException extends Exception {
  private final VerificationFailure failure;

  public VerificationException(VerificationFailure failure, String detail) {
    super(failure.name() + ": " + detail);
    this.failure = failure;
  }

  public VerificationFailure failure() {
    return failure;
  }
}
