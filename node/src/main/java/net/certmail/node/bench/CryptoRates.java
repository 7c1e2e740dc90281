package net.certmail.node.bench;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.KeyAlgorithm;
import net.certmail.crypto.NetworkCa;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.crypto.RememberedSignatures;
import net.certmail.crypto.Sha256;
import net.certmail.crypto.TrustStore;
import net.certmail.crypto.VerificationException;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.SignedEvidence;

/** Signatures per second on one core, for the crypto-bound rate of {@code bench load}. */
public record CryptoRates(double signPerSecond, double verifyPerSecond) {
  /** An operation measured by {@link #opsPerSecond}; the argument counts calls. */
  public interface Operation {
    void run(long i) throws VerificationException;
  }

  /**
   * Ed25519 evidence (a COP) signed and verified on this thread: for each, the median rate of
   * {@code periods} periods after a warm-up of at least {@code minWarmup} that goes on until the rate
   * is steady ({@link #warmUp}). The median, because on a shared 2-core machine one period's rate can
   * be a third off the next one's.
   */
  public static CryptoRates measureEd25519(Duration minWarmup, Duration period, int periods)
      throws VerificationException {
    Clock clock = Clock.systemUTC();
    NetworkCa ca = NetworkCa.create("bench CA", KeyAlgorithm.ED25519, Duration.ofDays(1), clock);
    PrincipalKeys server = ca.issue("alpha.example", "alpha.example", KeyAlgorithm.ED25519, Duration.ofDays(1));
    TrustStore trustStore = new TrustStore(ca.certificate(), List.of(server.certificate()));
    EvidenceStatement statement = EvidenceStatements.cop("alpha.example", "alpha.example/01BENCH", "alice@alpha.example",
        "bob@beta.example", Sha256.hash(new byte[1024]), clock.millis() + 86_400_000L, Flavour.CEM, "bench",
        List.of("alpha.example", "beta.example"), clock.millis());
    EvidenceSigner signer = new EvidenceSigner(server);
    SignedEvidence evidence = signer.sign(statement);
    EvidenceVerifier verifier = new EvidenceVerifier(trustStore);
    long[] sink = {0};
    double sign;
    double verify;
    // The arithmetic itself: the same COP checked again would be answered from memory.
    RememberedSignatures.bypassOnThisThread(true);
    try {
      sign = median(opsPerSecond(minWarmup, period, periods,
          i -> sink[0] += signer.sign(statement).getSignature().byteAt(0)));
      verify = median(opsPerSecond(minWarmup, period, periods,
          i -> sink[0] += verifier.verify(evidence).statement().getIssuedAtMillis()));
    } finally {
      RememberedSignatures.bypassOnThisThread(false);
    }
    if (sink[0] == 42) {
      System.out.print(""); // keeps the results alive for the JIT
    }
    return new CryptoRates(sign, verify);
  }

  /** Per operation the faster of two measurements: the machine's speed, where one was taken in a slow moment. */
  public CryptoRates fasterOf(CryptoRates other) {
    return new CryptoRates(Math.max(signPerSecond, other.signPerSecond), Math.max(verifyPerSecond, other.verifyPerSecond));
  }

  /** The mails per second {@code cores} cores could carry doing nothing but a mail's signatures and checks. */
  public double mailsPerSecond(double signaturesPerMail, double checksPerMail, int cores) {
    return cores / (signaturesPerMail / signPerSecond + checksPerMail / verifyPerSecond);
  }

  /** Warms the operation up ({@link #warmUp}), then its calls per second in each of {@code periods} periods, sorted ascending. */
  public static double[] opsPerSecond(Duration minWarmup, Duration period, int periods, Operation operation)
      throws VerificationException {
    long[] counter = {0};
    warmUp(minWarmup, operation, counter);
    double[] rates = new double[periods];
    for (int k = 0; k < periods; k++) {
      rates[k] = opsPerSecond(period, operation, counter);
    }
    java.util.Arrays.sort(rates);
    return rates;
  }

  /** The calls per second of one period of the operation. */
  public static double opsPerSecond(Duration period, Operation operation, long[] counter) throws VerificationException {
    long start = System.nanoTime();
    long done = runFor(period.toNanos(), operation, counter);
    return done / ((System.nanoTime() - start) / 1e9);
  }

  /** The median of rates sorted ascending. */
  public static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** A warm-up round: short enough to see the rate settle, long enough to hold a few hundred calls. */
  static final Duration WARMUP_ROUND = Duration.ofMillis(500);
  /** The rate is steady when this many rounds in a row do not beat the best one before them by more than ... */
  static final int STEADY_ROUNDS = 4;
  /** ... this share. */
  static final double STEADY_GAIN = 0.03;
  /** The warm-up ends here even if the rate still rises (a machine too noisy to settle). */
  static final Duration MAX_WARMUP = Duration.ofSeconds(30);

  /**
   * Runs the operation for at least {@code minWarmup} and then until its rate is steady: the JIT
   * compiles Bouncy Castle's curve arithmetic over several seconds (a verification's rate doubled
   * between the first and the fifth second on this 2-core machine), and a rate measured before
   * that would understate what a warmed-up node can sign and verify. Returns the warm-up's length.
   */
  public static Duration warmUp(Duration minWarmup, Operation operation, long[] counter) throws VerificationException {
    long started = System.nanoTime();
    double best = 0;
    int quietRounds = 0;
    while (true) {
      long roundStart = System.nanoTime();
      long done = runFor(WARMUP_ROUND.toNanos(), operation, counter);
      double rate = done / ((System.nanoTime() - roundStart) / 1e9);
      quietRounds = rate > best * (1 + STEADY_GAIN) ? 0 : quietRounds + 1;
      best = Math.max(best, rate);
      Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
      if (elapsed.compareTo(MAX_WARMUP) >= 0 || (quietRounds >= STEADY_ROUNDS && elapsed.compareTo(minWarmup) >= 0)) {
        return elapsed;
      }
    }
  }

  /** Runs the operation until periodNanos have passed, checking the clock every 16 calls; returns the calls. */
  public static long runFor(long periodNanos, Operation operation, long[] counter) throws VerificationException {
    long deadline = System.nanoTime() + periodNanos;
    long done = 0;
    while (System.nanoTime() < deadline) {
      for (int j = 0; j < 16; j++) {
        operation.run(counter[0]++);
      }
      done += 16;
    }
    return done;
  }
}
