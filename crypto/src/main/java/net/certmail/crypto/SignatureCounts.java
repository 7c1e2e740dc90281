package net.certmail.crypto;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * How many signatures this JVM has made and checked since it started, by what they are for, and
 * how many certificate chains it validated (PKIX, once per certificate: see {@link TrustStore}).
 * Signing and verifying are most of the CPU a mail costs, so these counts per mail give the
 * crypto-bound throughput that {@code certmail bench load} compares the network against, and say
 * which kind of signature a change saved.
 */
public final class SignatureCounts {
  /** What a signature is for. */
  public enum Use {
    /** A message between principals: sealed by its sender, opened by its addressee. */
    ENVELOPE,
    /** An evidence item (COP, ACK, COD, ROD_n, ROD, NDN, ...). */
    EVIDENCE,
    /** A private key checked against its certificate when it is loaded. */
    KEY_CHECK;

    /** The label value in metrics. */
    public String tag() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  private static final Map<Use, LongAdder> MADE = counters();
  private static final Map<Use, LongAdder> CHECKED = counters();
  private static final Map<Use, LongAdder> REMEMBERED = counters();
  private static final LongAdder PATHS_VALIDATED = new LongAdder();

  private SignatureCounts() {}

  public static long made() {
    return MADE.values().stream().mapToLong(LongAdder::sum).sum();
  }

  public static long checked() {
    return CHECKED.values().stream().mapToLong(LongAdder::sum).sum();
  }

  public static long made(Use use) {
    return MADE.get(use).sum();
  }

  public static long checked(Use use) {
    return CHECKED.get(use).sum();
  }

  /**
   * Checks (counted in {@link #checked}) answered from {@link RememberedSignatures}: the same
   * signature and bytes this JVM signed or verified a moment ago, no curve arithmetic.
   */
  public static long remembered(Use use) {
    return REMEMBERED.get(use).sum();
  }

  public static long remembered() {
    return REMEMBERED.values().stream().mapToLong(LongAdder::sum).sum();
  }

  /** Certificate chains validated against the CA with PKIX (cache misses of the trust stores). */
  public static long pathsValidated() {
    return PATHS_VALIDATED.sum();
  }

  static void countMade(Use use) {
    MADE.get(use).increment();
  }

  static void countChecked(Use use) {
    CHECKED.get(use).increment();
  }

  static void countRemembered(Use use) {
    REMEMBERED.get(use).increment();
  }

  static void countPathValidated() {
    PATHS_VALIDATED.increment();
  }

  private static Map<Use, LongAdder> counters() {
    Map<Use, LongAdder> counters = new EnumMap<>(Use.class);
    for (Use use : Use.values()) {
      counters.put(use, new LongAdder());
    }
    return java.util.Collections.unmodifiableMap(counters);
  }
}
