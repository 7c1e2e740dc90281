package net.certmail.node.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A bounded fuzz run of every decoder and verifier that takes outside bytes (a few seconds each;
 * {@code ./certmail fuzz --seconds N} runs them longer). A fixed seed: a failure repeats.
 */
class FuzzTest {
  static List<FuzzTarget> targets;

  @BeforeAll
  static void targets() {
    targets = FuzzTargets.all();
  }

  static Stream<String> names() {
    return Stream.of("envelope-open", "protocol-message", "evidence-verify", "bundle-read", "journal-event", "http-json");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("names")
  void noInputCrashesOrForgesItsWayThrough(String name) {
    FuzzTarget target = targets.stream().filter(candidate -> candidate.name().equals(name)).findFirst().orElseThrow();
    Fuzzer.Result result = new Fuzzer(List.of(target), 20_261_128L).run(Duration.ofSeconds(3), 20_000, null,
        Duration.ofDays(1));
    assertTrue(result.inputs() > 100, name + " ran only " + result.inputs() + " inputs");
    assertEquals(0, result.crashes(), () -> result.findings().stream()
        .map(finding -> finding.problem() + "\n  input: " + finding.inputBase64()).collect(Collectors.joining("\n")));
  }

  /**
   * Inputs the long runs reported, kept as regressions. A 600 s run flagged an unknown field named
   * "recipol@beta.Seconds": the client's own text, quoted, not a class name of ours.
   */
  @ParameterizedTest
  @MethodSource("reported")
  void inputsFoundByLongRunsStayHandled(String target, String base64) throws Exception {
    FuzzTarget found = targets.stream().filter(candidate -> candidate.name().equals(target)).findFirst().orElseThrow();
    assertTrue(found.run(Base64.getDecoder().decode(base64)).startsWith("refused:"));
  }

  static Stream<org.junit.jupiter.params.provider.Arguments> reported() {
    return Stream.of(org.junit.jupiter.params.provider.Arguments.of("http-json",
        "AHsicmVjaXBvbEBiZXRhLlNlY29uZHMiOiAzNjAwLCAiZmxhdn1vdXIiOiAiTlNSIn0="));
  }

  /** The harness itself: a target that mishandles some input is caught, with the input that shows it. */
  @Test
  void aCrashIsCaughtAndReportedWithItsInput() {
    FuzzTarget fragile = FuzzTargets.target("fragile", List.of(new byte[] {1, 2, 3, 4}), input -> {
      if (input.length > 4 && input[4] == 0x7f) {
        throw new IllegalStateException("mishandled a fifth byte 0x7f");
      }
      return "fine";
    });
    Fuzzer.Result result = new Fuzzer(List.of(fragile), 1L).run(Duration.ofSeconds(5), 200_000, null, Duration.ofDays(1));
    assertTrue(result.crashes() > 0, "the planted crash was not found in " + result.inputs() + " inputs");
    Fuzzer.Finding finding = result.findings().get(0);
    assertTrue(finding.problem().startsWith("java.lang.IllegalStateException: mishandled"), finding.problem());
    byte[] input = Base64.getDecoder().decode(finding.inputBase64());
    assertEquals(0x7f, input[4]);
  }

  /** A verifier that accepted a forged envelope would be a crash too, not a pass. */
  @Test
  void aForgedEnvelopeThatOpensIsACrash() throws Exception {
    FuzzTargets.Network network = new FuzzTargets.Network();
    FuzzTarget open = FuzzTargets.envelopeOpen(network);
    // The seeds open (they are what their signers signed) ...
    for (byte[] seed : open.seeds()) {
      assertTrue(open.run(seed).startsWith("opened:"), "a seed did not open");
    }
    // ... and a changed payload is refused by the signature check.
    byte[] changed = open.seeds().get(0).clone();
    changed[changed.length - 70] ^= 1;
    assertTrue(open.run(changed).startsWith("refused:") || open.run(changed).equals("unparsable"));
  }
}
