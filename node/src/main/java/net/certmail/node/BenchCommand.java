package net.certmail.node;

import com.google.protobuf.ByteString;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import net.certmail.crypto.EnvelopeOpener;
import net.certmail.crypto.EnvelopeSealer;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.KeyAlgorithm;
import net.certmail.crypto.NetworkCa;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.crypto.ReplayGuard;
import net.certmail.crypto.Sha256;
import net.certmail.crypto.TrustStore;
import net.certmail.crypto.VerificationException;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.SignedEnvelope;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.Submission;
import net.certmail.node.bench.CryptoRates;
import net.certmail.node.bench.LoadBenchCommand;
import net.certmail.node.bench.WaitingBenchCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code certmail bench ...}: measurements, not tests. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Measure certmail's building blocks on this machine.",
    subcommands = {BenchCommand.Crypto.class, JournalBenchCommand.class, AuditBenchCommand.class,
        LoadBenchCommand.class, WaitingBenchCommand.class})
final class BenchCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "crypto", mixinStandardHelpOptions = true,
      description = {
          "Measure single-threaded envelope sealing and opening, evidence signing and verifying, and SHA-256.",
          "",
          "Envelope seal and open include the signature, the certificate lookup with cached PKIX, the replay"
              + " guard and the payload parse; signing and verifying are measured for Ed25519 and ECDSA P-256 in"
              + " ops/s, SHA-256 in MB/s. Each operation is warmed up for at least one period and until its"
              + " rate is steady (the JIT compiles the curve arithmetic over several seconds; 30 s at most),"
              + " then measured over several periods; the median and the range are printed. Run it on an"
              + " otherwise idle machine."})
  static final class Crypto implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--seconds", paramLabel = "N", defaultValue = "1",
        description = "Length of one measurement period in seconds (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "5",
        description = "Measured periods per operation (default ${DEFAULT-VALUE}).")
    int iterations;

    /** Results folded in here and printed, so the JIT cannot drop the measured work. */
    private long sink;

    @Override
    public Integer call() throws VerificationException {
      if (seconds <= 0 || iterations < 1) {
        throw new UserInputException("--seconds must be > 0 and --iterations >= 1");
      }
      PrintWriter out = spec.commandLine().getOut();
      out.printf(Locale.ROOT, "certmail bench crypto: %d x %.1f s per operation after a warm-up of at least %.1f s"
          + " until the rate is steady, one thread, %s%n",
          iterations, seconds, seconds, Runtime.version());
      List<String> results = new ArrayList<>();
      // The arithmetic itself: the same signature checked again would be answered from memory.
      net.certmail.crypto.RememberedSignatures.bypassOnThisThread(true);
      try {
        for (KeyAlgorithm algorithm : KeyAlgorithm.values()) {
          results.addAll(benchAlgorithm(algorithm, out));
        }
      } finally {
        net.certmail.crypto.RememberedSignatures.bypassOnThisThread(false);
      }
      byte[] block = new byte[1 << 20];
      Arrays.fill(block, (byte) 7);
      double[] hashes = measure("SHA-256 1 MiB", out, i -> sink += Sha256.hash(block)[0]);
      results.add(String.format(Locale.ROOT, "%-34s %10.0f MB/s (min %.0f, max %.0f)", "SHA-256 (JDK)",
          CryptoRates.median(hashes) * block.length / 1e6, hashes[0] * block.length / 1e6, hashes[hashes.length - 1] * block.length / 1e6));
      out.println();
      out.println("Results (median of " + iterations + " periods; range in brackets):");
      results.forEach(line -> out.println("  " + line));
      out.println("(checksum " + Long.toHexString(sink) + ")");
      return CertmailCli.OK;
    }

    private List<String> benchAlgorithm(KeyAlgorithm algorithm, PrintWriter out) throws VerificationException {
      Clock clock = Clock.systemUTC();
      NetworkCa ca = NetworkCa.create("bench CA", algorithm, Duration.ofDays(1), clock);
      PrincipalKeys sender = ca.issue("alpha.example", "alpha.example", algorithm, Duration.ofDays(1));
      PrincipalKeys receiver = ca.issue("beta.example", "beta.example", algorithm, Duration.ofDays(1));
      TrustStore trustStore = new TrustStore(ca.certificate(), List.of(sender.certificate(), receiver.certificate()));

      // A 1 KiB submission: the size of a short mail inside its envelope.
      ProtocolMessage message = ProtocolMessage.newBuilder().setSubmission(Submission.newBuilder()
          .setSubmissionId("bench").setSender("alice@alpha.example").setRecipient("bob@beta.example")
          .setContent(ByteString.copyFrom(new byte[1024])).setDeadlineMillis(clock.millis() + 86_400_000L)
          .setFlavour(Flavour.CEM)).build();
      EnvelopeSealer sealer = new EnvelopeSealer(sender, clock);
      // Opening needs a distinct envelope per call (the replay guard), so a pool is sealed up front
      // and the guard renewed each time the pool wraps around.
      SignedEnvelope[] pool = new SignedEnvelope[2048];
      for (int i = 0; i < pool.length; i++) {
        pool[i] = sealer.seal("beta.example", message);
      }
      EnvelopeOpener[] opener = {null};
      EvidenceSigner signer = new EvidenceSigner(sender);
      EvidenceStatement statement = EvidenceStatements.cop("alpha.example", "alpha.example/01BENCH", "alice@alpha.example",
          "bob@beta.example", Sha256.hash(new byte[1024]), clock.millis() + 86_400_000L, Flavour.CEM, "bench",
          List.of("alpha.example", "beta.example"), clock.millis());
      SignedEvidence evidence = signer.sign(statement);
      EvidenceVerifier verifier = new EvidenceVerifier(trustStore);
      String name = algorithm == KeyAlgorithm.ED25519 ? "Ed25519" : "ECDSA P-256";

      List<String> lines = new ArrayList<>();
      lines.add(line("envelope seal " + name, measure("envelope seal " + name, out,
          i -> sink += sealer.seal("beta.example", message).getSignature().byteAt(0))));
      lines.add(line("envelope open " + name, measure("envelope open " + name, out, i -> {
        int slot = (int) (i % pool.length);
        if (slot == 0) {
          opener[0] = new EnvelopeOpener(trustStore, new ReplayGuard(clock, Duration.ofMinutes(10)));
        }
        sink += opener[0].open(pool[slot], "beta.example").sentAtMillis();
      })));
      lines.add(line("evidence sign " + name, measure("evidence sign " + name, out,
          i -> sink += signer.sign(statement).getSignature().byteAt(0))));
      lines.add(line("evidence verify " + name, measure("evidence verify " + name, out,
          i -> sink += verifier.verify(evidence).statement().getIssuedAtMillis())));
      return lines;
    }

    /** Ops/s per measured period, sorted ascending. */
    private double[] measure(String name, PrintWriter out, CryptoRates.Operation operation) throws VerificationException {
      long period = (long) (seconds * 1e9);
      long[] counter = {0};
      Duration warmup = CryptoRates.warmUp(Duration.ofNanos(period), operation, counter);
      out.printf(Locale.ROOT, "  %-30s warmed up for %.1f s%n", name, warmup.toMillis() / 1e3);
      double[] rates = new double[iterations];
      for (int k = 0; k < iterations; k++) {
        rates[k] = CryptoRates.opsPerSecond(Duration.ofNanos(period), operation, counter);
        out.printf(Locale.ROOT, "  %-30s period %d/%d: %10.0f ops/s%n", name, k + 1, iterations, rates[k]);
        out.flush();
      }
      Arrays.sort(rates);
      return rates;
    }

    private static String line(String name, double[] rates) {
      return String.format(Locale.ROOT, "%-34s %10.0f ops/s (min %.0f, max %.0f)", name, CryptoRates.median(rates), rates[0],
          rates[rates.length - 1]);
    }
  }
}
