package net.certmail.node.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import net.certmail.node.CertmailCli;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
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
    return audit(journal, new String[0]);
  }

  Audit audit(TamperableJournal journal, String... scope) throws Exception {
    Path path = ((H2JournalCopy) journal).path();
    Path report = Path.of(path + "-audit-" + scope.length + ".json");
    List<String> args = new java.util.ArrayList<>(List.of("audit", "--journal", "embedded", "--journal-path",
        path.toString(), "--keys", dir.resolve("bench/keys").toString(), "--report", report.toString()));
    args.addAll(List.of(scope));
    CertmailCliRun audit = CertmailCliRun.of(args.toArray(String[]::new));
    return new Audit(audit.exitCode(), findingsOf(report), audit.out() + audit.err());
  }

  @Test
  void labelsAndSinceAuditPartOfTheJournal() throws Exception {
    String tampered = labels.get(12);
    TamperableJournal journal = copy("scoped");
    String inbox = BOB + "|" + tampered;
    journal.delete(inbox, 1);

    Audit others = audit(journal, "--labels", labels.get(0) + "," + labels.get(1));
    assertEquals(0, others.exitCode(), others.output());
    assertTrue(others.output().contains("2 labels (11 outside --since/--labels)"), others.output());

    Audit it = audit(journal, "--labels", tampered);
    assertEquals(1, it.exitCode(), it.output());
    expect(it, tampered, "implied-stream-present", BOB, inbox, 1, "(missing) inbox.v1/receipt_signed");

    Audit future = audit(journal, "--since", "2999-01-01T00:00:00Z");
    assertEquals(0, future.exitCode(), future.output());
    assertTrue(future.output().contains("(13 outside --since/--labels)"), future.output());
    Audit all = audit(journal, "--since", "2000-01-01T00:00:00Z");
    assertEquals(1, all.exitCode(), all.output());
    expect(all, tampered, "implied-stream-present", BOB, inbox, 1, "(missing) inbox.v1/receipt_signed");
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
