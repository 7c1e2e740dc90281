package net.certmail.crypto;

/**
 * How many signatures this JVM has made and checked since it started (envelopes and evidence
 * alike; certificate chains are checked once per certificate and not counted). Signing and
 * verifying are most of the CPU a mail costs, so these counts per mail give the crypto-bound
 * throughput that {@code certmail bench load} compares the network against.
 */
public final class SignatureCounts {
  private SignatureCounts() {}

  public static long made() {
    return Signatures.MADE.sum();
  }

  public static long checked() {
    return Signatures.CHECKED.sum();
  }
}
