package net.certmail.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the real command line in-process, as `./certmail` would, on the sample network. */
class CertmailCliTest {
  @TempDir
  static Path dir;
  static Path keys;
  static Path bundle;

  record Result(int exitCode, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = CertmailCli.commandLine();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int exitCode = commandLine.execute(args);
    return new Result(exitCode, out.toString(), err.toString());
  }

  @BeforeAll
  static void keysAndSample() throws IOException {
    // The sample description ships in cluster-config's jar; keys init reads a file.
    Path network = dir.resolve("local-network.conf");
    try (InputStream sample = CertmailCliTest.class.getResourceAsStream("/networks/local-network.conf")) {
      Files.copy(sample, network);
    }
    keys = dir.resolve("keys");
    Result init = run("keys", "init", "--network", network.toString(), "--out", keys.toString());
    assertEquals(0, init.exitCode(), init.err());
    bundle = dir.resolve("sample.cmb");
    Result sample = run("evidence", "sample", "--keys", keys.toString(), "--out", bundle.toString());
    assertEquals(0, sample.exitCode(), sample.err());
  }

  @Test
  void keysInitGivesEachNodeOnlyItsOrganisationsPrivateKeys() throws Exception {
    assertEquals(Set.of("alpha.example.key.pem", "alice@alpha.example.key.pem", "anna@alpha.example.key.pem"), names(keys.resolve("alpha-1/private")));
    assertEquals(Set.of("relay.example.key.pem"), names(keys.resolve("relay-1/private")));
    Set<String> beta = Set.of("beta.example.key.pem", "bob@beta.example.key.pem", "carol@beta.example.key.pem",
        "dave@beta.example.key.pem");
    assertEquals(beta, names(keys.resolve("beta-1/private")));
    assertEquals(beta, names(keys.resolve("beta-2/private")));
    assertEquals(Set.of("offline.example.key.pem", "dan@offline.example.key.pem"),
        names(keys.resolve("offline-1/private")));
    assertEquals(Set.of("ca", "alpha-1", "relay-1", "beta-1", "beta-2", "offline-1"), names(keys));
    for (String node : Set.of("alpha-1", "relay-1", "beta-1", "beta-2", "offline-1")) {
      assertEquals(10, names(keys.resolve(node).resolve("certs")).size(), node);
      assertTrue(Files.isRegularFile(keys.resolve(node).resolve("ca.pem")), node);
    }
  }

  @Test
  void keysNodeIssuesACertificateNamingTheOrganisationsGivenAndReplacesOneOnlyWithForce() throws Exception {
    String[] args = {"keys", "node", "--ca-dir", keys.toString(), "--keys", keys.resolve("relay-1").toString(),
        "--name", "relay-1", "--organisations", "relay.example,beta.example"};
    Result refused = run(args);
    assertEquals(CertmailCli.BAD_INPUT, refused.exitCode(), refused.err());
    assertTrue(refused.err().contains("--force"), refused.err());
    Result issued = run(java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of("--force"))
        .toArray(String[]::new));
    assertEquals(0, issued.exitCode(), issued.err());
    assertTrue(issued.out().contains("node relay-1 may serve beta.example, relay.example"), issued.out());
    assertEquals(Set.of("relay.example", "beta.example"),
        net.certmail.crypto.NodeCertificates.load(keys.resolve("relay-1")).identity().organisations());
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(
        keys.resolve("relay-1/tls/node.key.pem"))));
  }

  @Test
  void keysInitRefusesANonEmptyDirectory() {
    Result again = run("keys", "init", "--network", keys.resolve("../whatever.conf").toString(), "--out", keys.toString());
    assertEquals(2, again.exitCode());
    Result exists = run("keys", "init", "--network", keys.resolve("alpha-1/ca.pem").toString(), "--out", keys.toString());
    assertEquals(2, exists.exitCode(), exists.err());
  }

  @Test
  void verifyAcceptsTheSampleBundleAsValidOnlyAgainstATrustedCa() {
    Result pinned = run("verify", bundle.toString(), "--ca", keys.resolve("relay-1/ca.pem").toString());
    assertEquals(0, pinned.exitCode(), pinned.out());
    assertTrue(pinned.out().contains("All 5 items VALID."), pinned.out());
    assertTrue(pinned.out().contains("ROD_N (ETSI CONTENT_CONSIGNMENT) signed by beta.example"), pinned.out());
    // A node key directory holds the same ca.pem.
    assertEquals(0, run("verify", bundle.toString(), "--ca", keys.resolve("beta-1").toString()).exitCode());

    Result unpinned = run("verify", bundle.toString());
    assertEquals(CertmailCli.SELF_CONSISTENT, unpinned.exitCode(), unpinned.out() + unpinned.err());
    assertTrue(unpinned.out().contains("SELF-CONSISTENT (CA not checked: pass --ca)"), unpinned.out());
    assertFalse(unpinned.out().lines().anyMatch(line -> line.trim().equals("VALID") || line.contains("items VALID")),
        unpinned.out());
  }

  /** A CA of the network's name made by someone else (keys init on the same description makes one). */
  @Test
  void aBundleUnderASelfMadeCaOfTheSameNameIsNeverValid() throws Exception {
    Path forger = dir.resolve("forger-keys");
    Result init = run("keys", "init", "--network", dir.resolve("local-network.conf").toString(), "--out", forger.toString());
    assertEquals(0, init.exitCode(), init.err());
    // Same name, another key: only a trusted copy of the real CA tells them apart.
    assertFalse(Files.readString(forger.resolve("alpha-1/ca.pem")).equals(Files.readString(keys.resolve("alpha-1/ca.pem"))));
    Path forged = dir.resolve("forged.cmb");
    assertEquals(0, run("evidence", "sample", "--keys", forger.toString(), "--out", forged.toString()).exitCode());

    Result unpinned = run("verify", forged.toString());
    assertEquals(CertmailCli.SELF_CONSISTENT, unpinned.exitCode(), unpinned.out());
    assertTrue(unpinned.out().contains("CA NOT CHECKED") && unpinned.out().contains("SELF-CONSISTENT"), unpinned.out());
    assertFalse(unpinned.out().lines().anyMatch(line -> line.trim().equals("VALID") || line.contains("items VALID")),
        unpinned.out());

    Result pinned = run("verify", forged.toString(), "--ca", keys.resolve("alpha-1/ca.pem").toString());
    assertEquals(CertmailCli.INVALID, pinned.exitCode(), pinned.out());
    assertTrue(pinned.out().contains("INVALID: FOREIGN_CA"), pinned.out());
  }

  @Test
  void verifyHelpAndTheExitCodesSayWhatSelfConsistentMeans() {
    Result help = run("verify", "--help");
    assertTrue(help.out().contains("--ca") && help.out().contains("4   SELF-CONSISTENT"), help.out());
  }

  @Test
  void verifyRejectsABundleWithOneFlippedByte() throws Exception {
    byte[] bytes = Files.readAllBytes(bundle);
    bytes[bytes.length - 3] ^= 0x01;  // inside the last signer certificate's signature
    Path flipped = dir.resolve("flipped.cmb");
    Files.write(flipped, bytes);
    Result result = run("verify", flipped.toString(), "--ca", keys.resolve("alpha-1/ca.pem").toString());
    assertEquals(1, result.exitCode(), result.out() + result.err());
    assertTrue(result.out().contains("INVALID") && result.out().contains("check: "), result.out());
  }

  @Test
  void verifySaysClearlyWhenTheFileIsNotABundle() {
    Result result = run("verify", keys.resolve("alpha-1/ca.pem").toString());
    assertEquals(2, result.exitCode());
    assertTrue(result.err().contains("is not a certmail evidence bundle"), result.err());
    assertEquals(2, run("verify", dir.resolve("missing.cmb").toString()).exitCode());
  }

  @Test
  void opensslExportWritesAScriptAndTheCommands() throws Exception {
    Path out = dir.resolve("openssl");
    Result result = run("evidence", "openssl", bundle.toString(), "--out", out.toString());
    assertEquals(0, result.exitCode(), result.err());
    assertTrue(result.out().contains("openssl pkeyutl -verify -rawin -pubin -inkey 03-bob@beta.example.pub.pem"
        + " -in 03-cod.data -sigfile 03-cod.sig"), result.out());
    assertTrue(Files.isExecutable(out.resolve("verify.sh")));
  }

  @Test
  void helpDocumentsTheExitCodes() {
    Result result = run("--help");
    assertEquals(0, result.exitCode());
    assertTrue(result.out().contains("Exit codes:") && result.out().contains("verify"), result.out());
  }

  /**
   * Every description is whole paragraphs that picocli wraps itself (never a sentence cut into
   * array elements, which the command lists show only the first of), table rows and footers fit 80
   * columns, and the top-level list shows each command's complete first sentence.
   */
  @Test
  void helpIsWholeSentencesAndNothingIsCutAt80Columns() {
    CommandLine root = CertmailCli.commandLine();
    List<CommandLine> commands = new ArrayList<>();
    collect(root, commands);
    for (CommandLine command : commands) {
      String name = command.getCommandSpec().qualifiedName();
      String[] description = command.getCommandSpec().usageMessage().description();
      assertTrue(description.length > 0 && description[0].endsWith("."),
          name + ": the first description line is what the command list shows; make it one whole sentence");
      for (String paragraph : description) {
        boolean tableRow = paragraph.startsWith("  ") && paragraph.length() <= 78;
        assertTrue(paragraph.isEmpty() || tableRow || paragraph.endsWith(".") || paragraph.endsWith(":"),
            name + ": \"" + paragraph + "\" ends mid-sentence; give a paragraph as one string");
      }
      StringWriter usage = new StringWriter();
      assertEquals("", picocliWarnings(() -> command.usage(new PrintWriter(usage))),
          name + ": picocli formats descriptions with String.format; write a percent sign as %%");
      for (String footer : command.getCommandSpec().usageMessage().footer()) {
        for (String line : footer.split("%n")) {
          assertTrue(line.length() <= 80 && usage.toString().contains(line),
              name + ": the footer line \"" + line + "\" is wrapped at 80 columns");
        }
      }
    }
    String help = run("--help").out();
    String list = help.substring(help.indexOf("Commands:"), help.indexOf("Exit codes:"));
    for (String row : list.split("\n(?=  \\S)")) {
      if (!row.startsWith("Commands:")) {
        assertTrue(row.strip().endsWith("."), "the command list cuts a description: " + row);
      }
    }
  }

  /** An empty CERTMAIL_NODE (as `export CERTMAIL_NODE=` leaves it) says what to set, in a real process. */
  @Test
  void anEmptyCertmailNodeSaysWhatToSet() throws Exception {
    ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), CertmailCli.class.getName(),
        "status", "x", "--mailbox", "alice@alpha.example", "--token", "cm_x");
    builder.environment().put("CERTMAIL_NODE", "");
    builder.redirectErrorStream(true);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(CertmailCli.BAD_INPUT, process.waitFor(), output);
    assertTrue(output.contains("CERTMAIL_NODE is set but empty") && output.contains("http://127.0.0.1:8081"), output);
    assertTrue(!output.contains("undefined scheme"), output);

    Result noScheme = run("status", "x", "--node", "127.0.0.1:8081", "--mailbox", "alice@alpha.example",
        "--token", "cm_x");
    assertEquals(CertmailCli.BAD_INPUT, noScheme.exitCode());
    assertTrue(noScheme.err().contains("write it like http://127.0.0.1:8081"), noScheme.err());
  }

  /** What picocli's tracer printed to System.err (where it writes) while running the action. */
  private static String picocliWarnings(Runnable action) {
    java.io.PrintStream original = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      action.run();
    } finally {
      System.setErr(original);
    }
    return captured.toString(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static void collect(CommandLine command, List<CommandLine> into) {
    into.add(command);
    command.getSubcommands().values().stream().distinct().forEach(sub -> collect(sub, into));
  }

  private static Set<String> names(Path directory) throws Exception {
    try (Stream<Path> files = Files.list(directory)) {
      return files.map(path -> path.getFileName().toString()).collect(Collectors.toSet());
    }
  }
}
