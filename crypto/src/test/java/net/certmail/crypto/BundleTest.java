package net.certmail.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import net.certmail.proto.v1.EvidenceBundle;
import net.certmail.proto.v1.EvidenceKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleTest {
  private final TestCa network = new TestCa();
  private final EvidenceBundle sample = SampleEvidence.bundle(network.keys, network.trustStore, TestCa.CLOCK);

  @Test
  void theSampleChainVerifiesAndSaysWhatEachItemProves() {
    BundleVerifier.Report report = BundleVerifier.verify(sample);
    assertTrue(report.allValid(), report.toString());
    assertEquals(List.of(EvidenceKind.COP, EvidenceKind.RELAY_ACK, EvidenceKind.COD, EvidenceKind.ROD_N, EvidenceKind.ROD),
        report.items().stream().map(BundleVerifier.ItemReport::kind).toList());
    assertTrue(report.items().get(3).proves().startsWith("beta.example reports that mail " + sample.getLabel()
        + " from alice@alpha.example was delivered to bob@beta.example"), report.items().get(3).proves());
    assertTrue(report.items().get(2).proves().startsWith("bob@beta.example certifies receipt of label " + sample.getLabel()
        + " from beta.example, content hash "), report.items().get(2).proves());
  }

  /**
   * Flips one bit at a time across the file: every byte of the header and the first item, then
   * every fifth byte (all of them take ~30 s on a shared 2-core machine; the sample covers every
   * field of every item and certificate).
   */
  @Test
  void everySingleChangedByteOfTheFileIsRejected() {
    byte[] file = EvidenceBundles.toBytes(sample);
    List<Integer> accepted = new ArrayList<>();
    for (int i = 0; i < file.length; i = i < 400 ? i + 1 : i + 5) {
      byte[] changed = file.clone();
      changed[i] ^= 0x01;
      if (acceptedAsValid(changed)) {
        accepted.add(i);
      }
    }
    // Every byte is covered by a signature (items, certificates) or a check (magic, version, label).
    assertEquals(List.of(), accepted, "positions whose change went unnoticed");
  }

  private static boolean acceptedAsValid(byte[] file) {
    try {
      return BundleVerifier.verify(EvidenceBundles.parse(file, "test")).allValid();
    } catch (NotABundleException e) {
      return false;
    }
  }

  /** Anyone can make a CA of the network's name: a bundle under it is consistent, never VALID. */
  @Test
  void aBundleUnderASelfMadeCaOfTheSameNameIsOnlySelfConsistent() {
    TestCa forger = new TestCa();
    assertEquals(network.ca.certificate().getSubjectX500Principal(), forger.ca.certificate().getSubjectX500Principal());
    EvidenceBundle forged = SampleEvidence.bundle(forger.keys, forger.trustStore, TestCa.CLOCK);

    BundleVerifier.Report unpinned = BundleVerifier.verify(forged);
    assertEquals(BundleVerifier.Verdict.SELF_CONSISTENT, unpinned.verdict());
    assertFalse(unpinned.caTrusted());
    assertEquals(BundleVerifier.fingerprint(forger.ca.certificate()), unpinned.caFingerprint());

    BundleVerifier.Report pinned = BundleVerifier.verify(forged, Optional.of(network.ca.certificate()));
    assertEquals(BundleVerifier.Verdict.INVALID, pinned.verdict());
    assertTrue(pinned.items().stream().allMatch(item -> item.failure().orElseThrow() == VerificationFailure.FOREIGN_CA));
    assertEquals(BundleVerifier.Verdict.VALID, BundleVerifier.verify(sample, Optional.of(network.ca.certificate())).verdict());
  }

  /**
   * Path traversal and shell injection through a bundle: the signer's name is not signed (the
   * statement's issuer is) and becomes a file name and a line of verify.sh in the OpenSSL export.
   */
  @Test
  void aBundleCannotMakeTheOpenSslExportWriteOutsideItsDirectoryOrRunCommands(@TempDir Path dir) throws IOException {
    EvidenceBundle hostile = sample.toBuilder()
        .setItems(0, sample.getItems(0).toBuilder().setSigner("../../escaped"))
        .setItems(1, sample.getItems(1).toBuilder().setSigner("x'; touch pwned; echo '"))
        .build();
    Path out = dir.resolve("a").resolve("b").resolve("openssl");
    OpenSslExport.Result result = OpenSslExport.export(hostile, out);
    assertEquals(2, result.skipped().size(), result.skipped().toString());
    assertTrue(result.skipped().get(0).contains("is not a principal id"), result.skipped().get(0));
    assertFalse(Files.exists(dir.resolve("a").resolve("escaped.pub.pem")));
    try (var files = Files.walk(dir)) {
      assertTrue(files.filter(Files::isRegularFile).allMatch(file -> file.startsWith(out)), "a file outside " + out);
    }
    String script = Files.readString(result.script());
    assertFalse(script.contains("touch") || script.contains("escaped"), script);
    assertEquals(3, result.items().size(), "the other items are exported");
  }

  @Test
  void aCallerGivenCaMustHaveIssuedEverything() {
    TestCa other = new TestCa();
    assertTrue(BundleVerifier.verify(sample, Optional.of(network.ca.certificate())).allValid());
    BundleVerifier.Report foreign = BundleVerifier.verify(sample, Optional.of(other.ca.certificate()));
    assertFalse(foreign.allValid());
    assertTrue(foreign.items().stream().allMatch(item -> item.failure().orElseThrow() == VerificationFailure.FOREIGN_CA));
  }

  @Test
  void aBundleWhoseCaCertificateDoesNotParseHasNoCaRatherThanItsNextCertificate() {
    EvidenceBundle broken = sample.toBuilder()
        .setCertificates(0, com.google.protobuf.ByteString.copyFromUtf8("not a certificate")).build();
    BundleVerifier.Report own = BundleVerifier.verify(broken);
    assertEquals(BundleVerifier.Verdict.INVALID, own.verdict());
    assertTrue(own.items().isEmpty(), "no item may be checked against a signer's certificate taken for the CA");
    assertTrue(own.bundleProblems().stream().anyMatch(p -> p.contains("CA certificate (its first) does not parse")),
        own.bundleProblems().toString());

    BundleVerifier.Report given = BundleVerifier.verify(broken, Optional.of(network.ca.certificate()));
    assertTrue(given.items().stream().allMatch(BundleVerifier.ItemReport::valid), "the given CA still checks the items");
    assertEquals(1, given.bundleProblems().size(), "only the unparsable certificate: " + given.bundleProblems());
  }

  @Test
  void anItemOfAnotherLabelIsInvalidInTheBundle() {
    EvidenceBundle mixed = sample.toBuilder().setLabel("alpha.example/01OTHER").build();
    BundleVerifier.Report report = BundleVerifier.verify(mixed);
    assertFalse(report.allValid());
    assertTrue(report.items().get(0).detail().contains("label"), report.items().get(0).detail());
  }

  @Test
  void aFileThatIsNotABundleSaysWhatItIsNot(@TempDir Path dir) throws IOException {
    Path pem = dir.resolve("ca.pem");
    Files.writeString(pem, Pem.certificate(network.ca.certificate()));
    NotABundleException e = assertThrows(NotABundleException.class, () -> EvidenceBundles.read(pem));
    assertTrue(e.getMessage().contains("is not a certmail evidence bundle") && e.getMessage().contains("PEM"), e.getMessage());
    Path truncated = dir.resolve("t.cmb");
    byte[] bytes = EvidenceBundles.toBytes(sample);
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 7));
    NotABundleException damaged = assertThrows(NotABundleException.class, () -> EvidenceBundles.read(truncated));
    assertTrue(damaged.getMessage().contains("damaged or truncated"), damaged.getMessage());
    assertThrows(NotABundleException.class, () -> EvidenceBundles.parse("CMBN".getBytes(StandardCharsets.US_ASCII), "x"));
  }

  @Test
  void openSslVerifiesTheExportedSignaturesAndRejectsAChangedByte(@TempDir Path dir) throws Exception {
    Path openssl = Path.of("/usr/bin/openssl");
    assumeTrue(Files.isExecutable(openssl), "no /usr/bin/openssl on this machine");
    OpenSslExport.Result result = OpenSslExport.export(sample, dir);
    assertEquals(5, result.items().size());
    for (OpenSslExport.Exported item : result.items()) {
      Run run = openssl(dir, item);
      assertEquals(0, run.exitCode, run.output);
      assertTrue(run.output.contains("Signature Verified Successfully"), run.output);
    }
    OpenSslExport.Exported cod = result.items().get(2);
    byte[] data = Files.readAllBytes(cod.data());
    data[data.length - 5] ^= 1;
    Files.write(cod.data(), data);
    Run run = openssl(dir, cod);
    assertFalse(run.exitCode == 0 || run.output.contains("Signature Verified Successfully"), run.output);
    assertTrue(run.output.contains("Signature Verification Failure"), run.output);
  }

  private record Run(int exitCode, String output) {}

  private static Run openssl(Path dir, OpenSslExport.Exported item) throws Exception {
    Process process = new ProcessBuilder("/usr/bin/openssl", "pkeyutl", "-verify", "-rawin", "-pubin",
        "-inkey", item.publicKey().toString(), "-in", item.data().toString(), "-sigfile", item.signature().toString())
        .directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Run(process.waitFor(), output);
  }
}
