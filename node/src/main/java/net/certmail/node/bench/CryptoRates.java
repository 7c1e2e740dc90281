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

  /** Ed25519 evidence (a COP) signed and verified on this thread, each for {@code period} after {@code warmup}. */
  public static CryptoRates measureEd25519(Duration warmup, Duration period) throws VerificationException {
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
      sign = opsPerSecond(warmup, period, i -> sink[0] += signer.sign(statement).getSignature().byteAt(0));
      verify = opsPerSecond(warmup, period, i -> sink[0] += verifier.verify(evidence).statement().getIssuedAtMillis());
    } finally {
      RememberedSignatures.bypassOnThisThread(false);
    }
    if (sink[0] == 42) {
      System.out.print(""); // keeps the results alive for the JIT
    }
    return new CryptoRates(sign, verify);
  }

  /** Runs the operation for warmup, then counts the calls it completes in period. */
  public static double opsPerSecond(Duration warmup, Duration period, Operation operation) throws VerificationException {
    long[] counter = {0};
    runFor(warmup.toNanos(), operation, counter);
    long start = System.nanoTime();
    long done = runFor(period.toNanos(), operation, counter);
    return done / ((System.nanoTime() - start) / 1e9);
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
