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

  private static Set<String> names(Path directory) throws Exception {
    try (Stream<Path> files = Files.list(directory)) {
      return files.map(path -> path.getFileName().toString()).collect(Collectors.toSet());
    }
  }
}
