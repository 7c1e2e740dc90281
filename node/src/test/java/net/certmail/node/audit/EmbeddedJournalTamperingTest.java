package net.certmail.node.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import net.certmail.node.CertmailCli;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The tamperings on copies of an embedded (H2) journal that real mails wrote. */
class EmbeddedJournalTamperingTest extends TamperingScenarios {
  @TempDir
  static Path dir;
  static List<String> labels;

  @BeforeAll
  static void journalOfRealMails() throws Exception {
    CertmailCliRun bench = CertmailCliRun.of("bench", "journal", "--journal", "embedded", "--mails", "12",
        "--in-flight", "12", "--dir", dir.resolve("bench").toString());
    assertEquals(0, bench.exitCode(), bench.out() + bench.err());
    labels = labelsIn(new H2JournalCopy(dir.resolve("bench/journal"), dir.resolve("ids")).persistenceIds());
    assertEquals(13, labels.size(), "12 mails and the warm-up: " + labels);
  }

  @Override
  TamperableJournal copy(String name) throws Exception {
    return new H2JournalCopy(dir.resolve("bench/journal"), dir.resolve(name));
  }

  @Override
  Audit audit(TamperableJournal journal) throws Exception {
    Path path = ((H2JournalCopy) journal).path();
    Path report = Path.of(path + "-audit.json");
    CertmailCliRun audit = CertmailCliRun.of("audit", "--journal", "embedded", "--journal-path", path.toString(),
        "--keys", dir.resolve("bench/keys").toString(), "--report", report.toString());
    return new Audit(audit.exitCode(), findingsOf(report), audit.out() + audit.err());
  }

  @Override
  List<String> labels() {
    return labels;
  }

  /** {@code certmail ...} in this JVM, as a user runs it. */
  record CertmailCliRun(int exitCode, String out, String err) {
    static CertmailCliRun of(String... args) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CommandLine commandLine = CertmailCli.commandLine();
      commandLine.setOut(new PrintWriter(out, true));
      commandLine.setErr(new PrintWriter(err, true));
      return new CertmailCliRun(commandLine.execute(args), out.toString(), err.toString());
    }
  }
}
