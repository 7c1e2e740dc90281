package net.certmail.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import org.junit.jupiter.api.Test;

/** {@code certmail simulate} run in-process, as the launcher would. */
class SimulateCommandTest {
  private static final Pattern VERDICT = Pattern.compile("simulate: (\\d+) schedules, (\\d+) mails, violations (\\d+)");

  record Result(int exitCode, List<String> out, String err) {
    String last() {
      return out.get(out.size() - 1);
    }
  }

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = CertmailCli.commandLine();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int exitCode = commandLine.execute(args);
    return new Result(exitCode, out.toString().lines().toList(), err.toString());
  }

  @Test
  void endsWithTheVerdictLineAndExitsOneExactlyWhenItFoundViolations() {
    Result result = run("simulate", "--schedules", "40", "--seed", "3");
    Matcher verdict = VERDICT.matcher(result.last());
    assertTrue(verdict.matches(), result.last());
    assertEquals("40", verdict.group(1));
    assertTrue(Long.parseLong(verdict.group(2)) >= 40, "every schedule posts at least one mail");
    assertEquals(Long.parseLong(verdict.group(3)) == 0 ? 0 : 1, result.exitCode(), String.join("\n", result.out()));
  }

  @Test
  void theResultDoesNotDependOnTheNumberOfThreads() {
    Result one = run("simulate", "--schedules", "1200", "--seed", "9", "--threads", "1");
    Result three = run("simulate", "--schedules", "1200", "--seed", "9", "--threads", "3");
    assertEquals(withoutTimings(one.out()), withoutTimings(three.out()));
    assertEquals(one.exitCode(), three.exitCode());
  }

  private static List<String> withoutTimings(List<String> lines) {
    return lines.stream().filter(line -> !line.contains("schedules/s")).toList();
  }

  @Test
  void replayPrintsEveryStepOfOneSchedule() {
    Result result = run("simulate", "--seed", "3", "--replay", "5");
    assertTrue(result.out().get(0).startsWith("schedule 5 of seed 3: "), result.out().get(0));
    assertTrue(result.out().stream().anyMatch(line -> line.contains("owner submits")), "the steps are shown");
    assertTrue(VERDICT.matcher(result.last()).matches(), result.last());
    assertEquals("1", matcher(result.last()).group(1));
  }

  @Test
  void unknownCryptoIsAUsageError() {
    Result result = run("simulate", "--schedules", "1", "--crypto", "rot13");
    assertEquals(CertmailCli.BAD_INPUT, result.exitCode());
    assertTrue(result.err().contains("--crypto must be \"fast\" or \"real\""), result.err());
  }

  @Test
  void realCryptoRunsTheSameProtocol() {
    Result fast = run("simulate", "--schedules", "15", "--seed", "4", "--crypto", "fast", "--threads", "1");
    Result real = run("simulate", "--schedules", "15", "--seed", "4", "--crypto", "real", "--threads", "1");
    // signatures differ (fresh keys), decisions do not: the same mails, steps and outcomes
    assertEquals(fast.out().get(0), real.out().get(0));
    assertEquals(fast.out().get(1), real.out().get(1));
    assertEquals(fast.last(), real.last());
  }

  private static Matcher matcher(String line) {
    Matcher matcher = VERDICT.matcher(line);
    assertTrue(matcher.matches(), line);
    return matcher;
  }
}
