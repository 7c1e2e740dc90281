package net.certmail.protocol;

/**
 * An authentic message the role does not act on, and why: counted by reason and logged by the
 * shell, never a state change. Reasons are a small fixed vocabulary (e.g. WRONG_PARTY,
 * EVIDENCE_MISMATCH, NOT_ENTITLED, TOO_LATE) so that metrics stay bounded.
 */
public record Ignored(String reason, String detail) {}
