package net.certmail.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.TrustStore;
import net.certmail.persistence.JournalBackend;
import net.certmail.persistence.audit.JournalAudit;
import net.certmail.persistence.audit.Violation;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.h2.api.ErrorCode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code certmail audit}: replay a journal and check every label's evidence chain. */
@Command(name = "audit", mixinStandardHelpOptions = true,
    description = {
        "Replay a certmail journal and check every label's evidence chain against the protocol's rules.",
        "",
        "Reads an embedded H2 file (its table, read-only) or Cassandra (its messages table), one"
            + " label at a time, and checks every stream and every label: the hash chain of each stream; each stream replayed"
            + " through its role's machine; every signature and certificate; every stored copy of M against the"
            + " COP's H(M) and every event's fields against the evidence it carries; who may issue what, and"
            + " before T; one verdict per label, the sender's the origin's; the streams that evidence held by"
            + " one principal implies in another's (a missing or shortened stream is named with who must hold"
            + " it); every COP accounted for; no deleted events. Progress goes to stderr."
            + " Exit 0 when every rule holds, 1 on a violation, 3 when the journal cannot be read (an embedded"
            + " journal must not be open in a running node)."})
final class AuditCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  JournalOptions journal;

  @Option(names = "--journal-path", paramLabel = "PATH",
      description = "Embedded: the database file without its .mv.db suffix, as in the node's"
          + " certmail.journal.embedded.path, e.g. ./var/local/journal/certmail for the local network"
          + " (default ${DEFAULT-VALUE}).", defaultValue = "./var/journal/certmail")
  Path journalPath;

  @Option(names = "--keyspace", paramLabel = "NAME",
      description = "Cassandra: the journal keyspace (default certmail).")
  String keyspace;

  @Option(names = "--keys", required = true, paramLabel = "KEYDIR",
      description = "A key directory (ca.pem and certs/) whose certificates are the network's trust store.")
  Path keys;

  @Option(names = "--report", paramLabel = "FILE", description = "Also write the full report as JSON here.")
  Path report;

  @Option(names = "--now", paramLabel = "ISO-INSTANT",
      description = "The audit's time, e.g. 2026-11-28T18:00:00Z (default: now). A COP whose deadline lies before"
          + " it must have a verdict.")
  String now;

  @Option(names = "--since", paramLabel = "ISO-INSTANT",
      description = "Check only the labels with an event written at or after this instant, e.g."
          + " 2026-11-28T00:00:00Z (their streams are still read to tell).")
  String since;

  @Option(names = "--labels", paramLabel = "LABEL[,LABEL...]", split = ",",
      description = "Check only these labels, e.g. alpha.example/3f2a... (the rest of the journal is not read).")
  List<String> labels;

  @Override
  public Integer call() throws IOException {
    JournalBackend backend = backend();
    Instant auditTime = auditTime();
    JournalAudit.Scope scope = new JournalAudit.Scope(since == null ? null : instant("--since", since),
        labels == null ? java.util.Set.of() : java.util.Set.copyOf(labels), java.time.Duration.ofHours(2));
    TrustStore trustStore = trustStore();
    Config config = backend.config(settings(backend));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "certmail-audit", config);
    try {
      JournalAudit.Report result = JournalAudit.run(system, backend, trustStore, auditTime, scope,
          new ProgressPrinter(err));
      result.summary().forEach(out::println);
      for (Violation violation : result.result().violations()) {
        out.println("  " + violation.describe());
      }
      if (report != null) {
        result.writeJson(report);
        out.println("report: " + report.toAbsolutePath());
      }
      return result.result().passed() ? CertmailCli.OK : CertmailCli.INVALID;
    } finally {
      system.terminate();
      try {
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        err.println("certmail audit: the journal connection did not close cleanly: " + e.getMessage());
      }
    }
  }

  private JournalBackend backend() {
    return journal.backend();
  }

  private Instant auditTime() {
    return now == null ? Instant.now() : instant("--now", now);
  }

  private static Instant instant(String option, String value) {
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new UserInputException(option + " \"" + value + "\" is not an ISO instant; write e.g. 2026-11-28T18:00:00Z");
    }
  }

  private TrustStore trustStore() throws IOException {
    if (!Files.isDirectory(keys)) {
      throw new UserInputException("--keys " + keys + " is not a directory; give a node's key directory"
          + " (written by: certmail keys init)");
    }
    try {
      return KeyDirectory.load(keys).trustStore();
    } catch (IllegalArgumentException e) {
      throw new UserInputException(e.getMessage(), e);
    }
  }

  private Config settings(JournalBackend backend) {
    // The audit is a client only: a local ActorSystem that reads the journal and says little.
    Config settings = ConfigFactory.parseString("""
        pekko.loglevel = WARNING
        pekko.stdout-loglevel = WARNING
        pekko.coordinated-shutdown.exit-jvm = off
        """);
    switch (backend) {
      case EMBEDDED -> {
        if (journal.contactPoints().isPresent() || keyspace != null) {
          throw new UserInputException("--contact-points and --keyspace are for --journal cassandra");
        }
        Path path = journalPath.toAbsolutePath().normalize();
        Path file = Path.of(path + ".mv.db");
        if (!Files.isRegularFile(file)) {
          throw new UserInputException("no embedded journal at " + file + "; give --journal-path as the node's"
              + " certmail.journal.embedded.path (the database file without .mv.db)");
        }
        requireNotInUse(path);
        settings = settings.withValue("certmail.journal.embedded.path", ConfigValueFactory.fromAnyRef(path.toString()));
      }
      case CASSANDRA -> {
        if (spec.commandLine().getParseResult().hasMatchedOption("--journal-path")) {
          throw new UserInputException("--journal-path is for --journal embedded; use --contact-points for Cassandra");
        }
        Optional<List<String>> points = journal.contactPoints();
        if (points.isPresent()) {
          settings = settings.withValue("certmail.journal.cassandra.contact-points",
              ConfigValueFactory.fromIterable(points.get()));
        }
        if (keyspace != null) {
          settings = settings.withValue("certmail.journal.cassandra.keyspace", ConfigValueFactory.fromAnyRef(keyspace));
        }
      }
    }
    return settings;
  }

  /**
   * H2 lets one process open a database file; a running node holds its journal (and with
   * auto-server serves it to the other local nodes). Without this probe the audit's connection
   * pool would only give up after its 10 s timeout with "Connection is not available".
   */
  static void requireNotInUse(Path path) {
    // TRACE_LEVEL_FILE=0: a refused probe must not leave an H2 trace file beside the journal.
    // MAX_COMPACT_TIME=0: closing the probe must not compact the file (seconds on a large journal).
    String url = "jdbc:h2:file:" + path + ";IFEXISTS=TRUE;AUTO_SERVER=FALSE;TRACE_LEVEL_FILE=0;MAX_COMPACT_TIME=0";
    try (Connection probe = DriverManager.getConnection(url, "sa", passwordOf(path))) {
      // Free: closed again at once, the audit's own pool opens it next.
    } catch (SQLException e) {
      if (e.getErrorCode() == ErrorCode.DATABASE_ALREADY_OPEN_1) {
        throw new IllegalStateException("the journal " + path + " is open in a running certmail node (H2 allows one"
            + " process per file). Stop the nodes that use it (Ctrl-C or SIGTERM: they leave the cluster"
            + " gracefully), then run the audit again. A journal on Cassandra can be audited while the nodes run.", e);
      }
      throw new IllegalStateException("cannot open the embedded journal " + path + ": " + e.getMessage(), e);
    }
  }

  /** The journal's password, kept owner-only beside it (EmbeddedJournalFiles); none for a journal made without one. */
  private static String passwordOf(Path path) {
    Path file = Path.of(path + ".password");
    try {
      return Files.exists(file) ? Files.readString(file).trim() : "";
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot read the journal's password file " + file + ": " + e.getMessage()
          + " (run the audit as the user that runs the nodes)", e);
    }
  }

  /** Progress on stderr at most once a second, so stdout stays the summary. */
  private static final class ProgressPrinter implements java.util.function.Consumer<JournalAudit.Progress> {
    private final PrintWriter err;
    private long lastPrinted;

    ProgressPrinter(PrintWriter err) {
      this.err = err;
    }

    @Override
    public synchronized void accept(JournalAudit.Progress progress) {
      long now = System.nanoTime();
      if (now - lastPrinted > 1_000_000_000L) {
        lastPrinted = now;
        err.printf(Locale.ROOT, "audit: %d/%d labels, %d events, %d violation(s) so far ...%n", progress.labels(),
            progress.labelsTotal(), progress.events(), progress.violations());
        err.flush();
      }
    }
  }
}
