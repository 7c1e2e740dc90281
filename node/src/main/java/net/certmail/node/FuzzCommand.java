package net.certmail.node;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import net.certmail.node.fuzz.FuzzTarget;
import net.certmail.node.fuzz.FuzzTargets;
import net.certmail.node.fuzz.Fuzzer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code certmail fuzz --seconds N}: the long run of the fuzz targets the test suite runs briefly. */
@Command(name = "fuzz", mixinStandardHelpOptions = true,
    description = {
        "Fuzz every decoder and verifier that takes outside bytes, for a while.",
        "",
        "Targets: envelope open, protocol message parse, evidence verify, bundle read and verify, journal event"
            + " deserialisation, HTTP JSON bodies. Inputs are mutations of real signed envelopes, evidence, bundles,"
            + " events and bodies; a crash is an exception type the target does not document, or forged content"
            + " that verifies. Prints progress, each distinct crash with the input (base64) that reproduces it,"
            + " and last:",
        "  fuzz: <inputs> inputs, <crashes> crashes"},
    footer = {"%nExample:%n  certmail fuzz --seconds 600"},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:no crash", "1:at least one crash (see the lines above the last)", "2:usage error"})
final class FuzzCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--seconds", paramLabel = "N", defaultValue = "60", description = "How long to run (default ${DEFAULT-VALUE}).")
  long seconds;

  @Option(names = "--seed", paramLabel = "S", description = "Random seed, to repeat a run (default: the current time).")
  Long seed;

  @Option(names = "--target", paramLabel = "NAME", split = ",",
      description = "Only these targets: envelope-open, protocol-message, evidence-verify, bundle-read, journal-event, http-json.")
  List<String> only;

  @Override
  public Integer call() {
    if (seconds < 1) {
      throw new UserInputException("--seconds must be at least 1, not " + seconds);
    }
    PrintWriter out = spec.commandLine().getOut();
    List<FuzzTarget> targets = FuzzTargets.all();
    if (only != null) {
      List<String> names = targets.stream().map(FuzzTarget::name).toList();
      for (String name : only) {
        if (!names.contains(name)) {
          throw new UserInputException("no fuzz target " + name + "; there are: " + String.join(", ", names));
        }
      }
      targets = targets.stream().filter(target -> only.contains(target.name())).toList();
    }
    long runSeed = seed != null ? seed : System.nanoTime();
    out.println("fuzzing " + targets.stream().map(FuzzTarget::name).collect(Collectors.joining(", ")) + " for "
        + seconds + " s (seed " + runSeed + ")");
    out.flush();
    long start = System.nanoTime();
    Fuzzer.Result result = new Fuzzer(targets, runSeed).run(Duration.ofSeconds(seconds), 0,
        (inputs, crashes, byTarget) -> {
          out.printf("fuzz: %d s, %,d inputs, %d crashes (%s)%n", (System.nanoTime() - start) / 1_000_000_000L,
              inputs, crashes, perTarget(byTarget));
          out.flush();
        }, Duration.ofSeconds(5));
    out.println("per target: " + perTarget(result.inputsByTarget()));
    for (Fuzzer.Finding finding : result.findings()) {
      out.println("CRASH in " + finding.target() + ": " + finding.problem());
      out.println("  input (base64): " + finding.inputBase64());
    }
    out.println("fuzz: " + result.inputs() + " inputs, " + result.crashes() + " crashes");
    return result.crashes() == 0 ? CertmailCli.OK : CertmailCli.INVALID;
  }

  private static String perTarget(Map<String, Long> byTarget) {
    return byTarget.entrySet().stream().map(entry -> entry.getKey() + " " + String.format("%,d", entry.getValue()))
        .collect(Collectors.joining(", "));
  }
}
