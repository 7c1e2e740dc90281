package net.certmail.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * {@code certmail audit} as a user runs it: over the journal that {@code certmail bench journal}
 * leaves behind (real mails through the engine), then over the same journal with an event deleted.
 */
class AuditCommandTest {
  @TempDir
  static Path dir;

  record Result(int exitCode, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = CertmailCli.commandLine();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    return new Result(commandLine.execute(args), out.toString(), err.toString());
  }

  @BeforeAll
  static void journalOfRealMails() {
    Result bench = run("bench", "journal", "--journal", "embedded", "--mails", "6", "--dir", dir.toString());
    assertEquals(0, bench.exitCode(), bench.out() + bench.err());
    assertTrue(bench.out().contains("events per mail, NSR"), bench.out());
  }

  @Test
  void auditPassesWritesAJsonReportAndExitsZero() throws Exception {
    Path report = dir.resolve("audit.json");
    Result audit = run("audit", "--journal", "embedded", "--journal-path", dir.resolve("journal").toString(),
        "--keys", dir.resolve("keys").toString(), "--report", report.toString());
    assertEquals(0, audit.exitCode(), audit.out() + audit.err());
    assertTrue(audit.out().contains("PASSED"), audit.out());
    assertTrue(audit.out().contains("DELIVERED=7"), audit.out()); // 6 mails and the warm-up mail
    String json = Files.readString(report);
    assertTrue(json.contains("\"passed\" : true") && json.contains("\"one-verdict-per-label\""), json);
  }

  @Test
  void deletedEventFailsTheAuditWithExitOneAndNamesIt() throws Exception {
    Path copy = dir.resolve("tampered");
    Files.createDirectories(copy);
    Files.copy(dir.resolve("journal.mv.db"), copy.resolve("journal.mv.db"));
    // The journal opens only with its password, which travels with it.
    Files.copy(dir.resolve("journal.password"), copy.resolve("journal.password"));
    String url = "jdbc:h2:file:" + copy.resolve("journal") + ";WRITE_DELAY=0";
    String persistenceId;
    try (Connection connection = DriverManager.getConnection(url, "sa",
        Files.readString(copy.resolve("journal.password")).strip());
        var select = connection.createStatement();
        var rows = select.executeQuery("SELECT \"persistence_id\" FROM \"event_journal\""
            + " WHERE \"event_ser_manifest\" LIKE '%server.v1/delivery_certified' LIMIT 1")) {
      rows.next();
      persistenceId = rows.getString(1);
      try (PreparedStatement delete = connection.prepareStatement("DELETE FROM \"event_journal\""
          + " WHERE \"persistence_id\" = ? AND \"sequence_number\" = 1")) {
        delete.setString(1, persistenceId);
        assertEquals(1, delete.executeUpdate());
      }
    }
    Result audit = run("audit", "--journal", "embedded", "--journal-path", copy.resolve("journal").toString(),
        "--keys", dir.resolve("keys").toString());
    assertEquals(CertmailCli.INVALID, audit.exitCode(), audit.out() + audit.err());
    assertTrue(audit.out().contains("contiguous-sequence-numbers: label ") && audit.out().contains(persistenceId
        + " #1 (missing)"), audit.out());
  }

  /**
   * The local nodes open their shared journal with auto-server, a lone node without: either way
   * the audit must say at once that a node holds the file and what to do, not time out.
   */
  @ParameterizedTest
  @ValueSource(strings = {"AUTO_SERVER=TRUE", "AUTO_SERVER=FALSE"})
  void auditOfAJournalARunningNodeHoldsSaysSoAtOnce(String mode) throws Exception {
    Path copy = dir.resolve("held-" + mode.hashCode());
    Files.createDirectories(copy);
    Files.copy(dir.resolve("journal.mv.db"), copy.resolve("journal.mv.db"));
    // The journal's password travels with it (owner-only, beside it): the node and the audit both need it.
    Files.copy(dir.resolve("journal.password"), copy.resolve("journal.password"));
    Process node = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), HoldJournalOpen.class.getName(),
        "jdbc:h2:file:" + copy.resolve("journal") + ";WRITE_DELAY=0;" + mode,
        Files.readString(copy.resolve("journal.password")).trim())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      String line = new java.io.BufferedReader(new java.io.InputStreamReader(node.getInputStream())).readLine();
      assertEquals("open", line, "the stand-in node did not open the journal");
      long started = System.nanoTime();
      Result audit = run("audit", "--journal", "embedded", "--journal-path", copy.resolve("journal").toString(),
          "--keys", dir.resolve("keys").toString());
      long seconds = (System.nanoTime() - started) / 1_000_000_000L;
      assertEquals(CertmailCli.FAILED, audit.exitCode(), audit.out() + audit.err());
      assertTrue(audit.err().contains("is open in a running certmail node")
          && audit.err().contains("Stop the nodes that use it"), audit.err());
      assertTrue(seconds < 5, "the audit took " + seconds + " s to notice the lock");
      assertTrue(!Files.exists(copy.resolve("journal.trace.db")), "the probe left an H2 trace file beside the journal");
    } finally {
      node.getOutputStream().close();
      if (!node.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        node.destroyForcibly();
      }
    }
  }

  @Test
  void missingJournalOrKeysSayWhatToGive() {
    Result noJournal = run("audit", "--journal", "embedded", "--journal-path", dir.resolve("nothing").toString(),
        "--keys", dir.resolve("keys").toString());
    assertEquals(CertmailCli.BAD_INPUT, noJournal.exitCode());
    assertTrue(noJournal.err().contains("no embedded journal at") && noJournal.err().contains("--journal-path"),
        noJournal.err());

    Result badBackend = run("audit", "--journal", "postgres", "--keys", dir.resolve("keys").toString());
    assertEquals(CertmailCli.BAD_INPUT, badBackend.exitCode());
    assertTrue(badBackend.err().contains("\"embedded\" or \"cassandra\""), badBackend.err());

    Result badNow = run("audit", "--journal", "embedded", "--journal-path", dir.resolve("journal").toString(),
        "--keys", dir.resolve("keys").toString(), "--now", "tomorrow");
    assertEquals(CertmailCli.BAD_INPUT, badNow.exitCode());
    assertTrue(badNow.err().contains("ISO instant"), badNow.err());
  }
}
