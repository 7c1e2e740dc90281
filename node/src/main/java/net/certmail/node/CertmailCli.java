package net.certmail.node;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code certmail}: the top-level command. Each subcommand is its own class; new ones are added
 * to {@code subcommands} below.
 */
@Command(name = "certmail",
    mixinStandardHelpOptions = true,
    versionProvider = CertmailCli.Version.class,
    description = "Certified electronic mail (Zhou & Gollmann CEM, CEM-nsr, CEM-ip): the network, its keys, evidence and verification.",
    subcommands = {DemoCommand.class, NodeCommand.class, ClientCommands.Send.class,
        ClientCommands.Status.class, ClientCommands.Inbox.class, ClientCommands.Accept.class, ClientCommands.Refuse.class,
        ClientCommands.Fetch.class, KeysCommand.class, VerifyCommand.class, EvidenceCommand.class, BenchCommand.class,
        AuditCommand.class, SimulateCommand.class, FuzzCommand.class, ChaosCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:success (verify: every item VALID against the CA given with --ca)",
        "1:verify: at least one item is INVALID; audit, simulate, chaos: at least one violation; fuzz: at least one crash",
        "2:usage error, or the input is unreadable or not a bundle",
        "3:an operation failed (see the message for what to do)",
        "4:send: the origin server rejected the mail (a signed rejection, its reason printed); verify: SELF-CONSISTENT only, no trusted CA given (pass --ca)"})
public final class CertmailCli implements Runnable {
  /** Exit codes shared by the subcommands, as documented in --help. */
  public static final int OK = 0;
  public static final int INVALID = 1;
  public static final int BAD_INPUT = 2;
  public static final int FAILED = 3;
  /** send: the origin server answered with a signed rejection instead of a COP. */
  public static final int REJECTED = 4;
  /** verify: every item checks out, but against the bundle's own CA only (no trusted CA given). */
  public static final int SELF_CONSISTENT = 4;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    giveAsyncCallbacksAPool();
    System.exit(commandLine().execute(args));
  }

  /**
   * On a machine with 2 cores the JDK gives the common ForkJoinPool a parallelism of 1, and then
   * runs every async CompletableFuture callback on a NEW THREAD (ThreadPerTaskExecutor). Scala's
   * CompletionStage adapter, which Pekko's asks and pekko-http's Java API return, turns even
   * thenApply into thenApplyAsync: a node created a thread per HTTP request and per ask (21 per
   * second at 10 mails/s in a JFR recording of bench load). Two workers stop that. Set before
   * anything touches the common pool; an explicit -D setting wins.
   */
  static void giveAsyncCallbacksAPool() {
    String property = "java.util.concurrent.ForkJoinPool.common.parallelism";
    if (System.getProperty(property) == null && Runtime.getRuntime().availableProcessors() <= 2) {
      System.setProperty(property, "2");
    }
  }

  /** The configured command line, also used by tests to run commands in-process. */
  public static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new CertmailCli());
    commandLine.setExitCodeExceptionMapper(CertmailCli::exitCodeOf);
    commandLine.setExecutionExceptionHandler(CertmailCli::report);
    commandLine.getCommandSpec().exitCodeOnInvalidInput(BAD_INPUT);
    // Use the terminal's width when there is one (80 columns otherwise); descriptions are whole
    // paragraphs that picocli wraps, so nothing is cut mid-sentence at any width.
    commandLine.setUsageHelpAutoWidth(true);
    return commandLine;
  }

  @Override
  public void run() {
    // No subcommand: show what there is.
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static int exitCodeOf(Throwable error) {
    return error instanceof UserInputException ? BAD_INPUT : FAILED;
  }

  /** Errors as one clear line (no stack trace): the exceptions' messages say what to do next. */
  private static int report(Exception error, CommandLine commandLine, CommandLine.ParseResult parseResult) {
    String message = error.getMessage() == null ? error.toString() : error.getMessage();
    commandLine.getErr().println("certmail " + commandLine.getCommandName() + ": " + message);
    return exitCodeOf(error);
  }

  /** The version from the jar manifest, or "development" when run from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = CertmailCli.class.getPackage().getImplementationVersion();
      return new String[] {"certmail " + (version == null ? "0.1.0-SNAPSHOT (development build)" : version)};
    }
  }
}
