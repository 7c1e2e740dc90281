package net.certmail.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyDirectoryTest {
  private static final String NETWORK = """
      certmail.network {
        ca-name = "test CA"
        organisations = [
          { name = "alpha.example", nodes = ["alpha-1"], servers = ["alpha.example"], mailboxes = [{ id = "alice@alpha.example" }] }
          { name = "beta.example", nodes = ["beta-1", "beta-2"], servers = ["beta.example"],
            mailboxes = [{ id = "bob@beta.example", key-algorithm = "ecdsa-p256" }] }
        ]
      }
      """;

  @TempDir
  Path out;

  private KeyDirectory.InitResult init() throws Exception {
    return KeyDirectory.initNetwork(NetworkDescription.parse(NETWORK), out,
        new KeyDirectory.InitOptions(KeyAlgorithm.ED25519, Duration.ofDays(30), TestCa.CLOCK, false, line -> {}));
  }

  @Test
  void eachNodeHoldsEveryCertificateButOnlyItsOrganisationsKeys() throws Exception {
    init();
    assertEquals(Set.of("alpha.example.key.pem", "alice@alpha.example.key.pem"), names(out.resolve("alpha-1/private")));
    assertEquals(Set.of("beta.example.key.pem", "bob@beta.example.key.pem"), names(out.resolve("beta-2/private")));
    assertEquals(4, names(out.resolve("alpha-1/certs")).size());
    assertFalse(Files.exists(out.resolve("alpha-1/ca.key.pem")), "the CA key stays in out/ca");
    try (Stream<Path> all = Files.walk(out)) {
      assertEquals(1, all.filter(path -> path.getFileName().toString().equals("ca.key.pem")).count());
    }
  }

  @Test
  void privateFilesAreOwnerOnly() throws Exception {
    init();
    for (String dir : List.of("ca", "alpha-1", "alpha-1/private", "beta-1/private")) {
      assertEquals("rwx------", mode(out.resolve(dir)), dir);
    }
    assertEquals("rw-------", mode(out.resolve("ca/ca.key.pem")));
    assertEquals("rw-------", mode(out.resolve("alpha-1/private/alice@alpha.example.key.pem")));
    assertEquals("rw-r--r--", mode(out.resolve("alpha-1/certs/bob@beta.example.pem")));
  }

  @Test
  void loadReturnsTrustAndHostedKeysThatSign() throws Exception {
    init();
    KeyDirectory.Loaded beta = KeyDirectory.load(out.resolve("beta-1"));
    assertEquals(Set.of("beta.example", "bob@beta.example"), beta.keys().keySet());
    assertEquals(KeyAlgorithm.ECDSA_P256, beta.keys().get("bob@beta.example").algorithm());
    assertEquals(4, beta.trustStore().certificates().size());
    // Keys from one node's directory verify with the trust store of another node.
    KeyDirectory.Loaded alpha = KeyDirectory.load(out.resolve("alpha-1"));
    var cod = new EvidenceSigner(beta.keys().get("bob@beta.example")).sign(EvidenceStatements.cod("bob@beta.example",
        "beta.example", "alpha.example/01X", "alice@alpha.example", net.certmail.proto.v1.Flavour.NSR, new byte[0],
        TestCa.NOW.toEpochMilli()));
    new EvidenceVerifier(alpha.trustStore()).verify(cod);
  }

  @Test
  void aKeyFileReadableByOthersIsRefusedWithTheChmodToRun() throws Exception {
    init();
    Path key = out.resolve("alpha-1/private/alice@alpha.example.key.pem");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> KeyDirectory.load(out.resolve("alpha-1")));
    assertTrue(e.getMessage().contains("chmod 600 " + key), e.getMessage());
  }

  @Test
  void aKeyThatDoesNotMatchItsCertificateIsRefused() throws Exception {
    init();
    Files.delete(out.resolve("beta-1/private/beta.example.key.pem"));
    Files.copy(out.resolve("alpha-1/private/alpha.example.key.pem"), out.resolve("beta-1/private/beta.example.key.pem"));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> KeyDirectory.load(out.resolve("beta-1")));
    assertTrue(e.getMessage().contains("does not match"), e.getMessage());
  }

  @Test
  void initRefusesToOverwriteUnlessAskedTo() throws Exception {
    init();
    assertThrows(java.nio.file.FileAlreadyExistsException.class, this::init);
    KeyDirectory.initNetwork(NetworkDescription.parse(NETWORK), out,
        new KeyDirectory.InitOptions(KeyAlgorithm.ED25519, Duration.ofDays(30), TestCa.CLOCK, true, line -> {}));
    KeyDirectory.load(out.resolve("alpha-1"));
  }

  @Test
  void theCaCanBeReloadedToIssueMore() throws Exception {
    init();
    NetworkCa ca = KeyDirectory.loadCa(out, TestCa.CLOCK);
    PrincipalKeys dave = ca.issue("dave@alpha.example", "alpha.example", KeyAlgorithm.ED25519, Duration.ofDays(1));
    KeyDirectory.load(out.resolve("alpha-1")).trustStore().checkValidAt(dave.certificate(), TestCa.NOW);
  }

  @Test
  void invalidDescriptionsAreRejectedWithTheReason() {
    IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> NetworkDescription.parse("""
        certmail.network { ca-name = x, organisations = [
          { name = a, nodes = [n1], servers = ["a.example"] }, { name = b, nodes = [n2], servers = ["a.example"] } ] }"""));
    assertTrue(twice.getMessage().contains("listed twice"), twice.getMessage());
    IllegalArgumentException upper = assertThrows(IllegalArgumentException.class, () -> NetworkDescription.parse("""
        certmail.network { ca-name = x, organisations = [ { name = a, nodes = [n1], servers = ["A/../x"] } ] }"""));
    assertTrue(upper.getMessage().contains("not a valid principal id"), upper.getMessage());
  }

  private static Set<String> names(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(path -> path.getFileName().toString()).collect(Collectors.toSet());
    }
  }

  private static String mode(Path path) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }
}
