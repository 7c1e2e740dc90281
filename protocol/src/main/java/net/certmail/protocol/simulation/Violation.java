package net.certmail.protocol.simulation;

/** An invariant broken in one schedule: which, about which label (may be empty), and what was seen. */
public record Violation(Invariant invariant, String label, String detail) {

  public String describe() {
    return invariant + " (" + invariant.rule() + ")" + (label.isEmpty() ? "" : " for " + label) + ": " + detail;
  }
}
