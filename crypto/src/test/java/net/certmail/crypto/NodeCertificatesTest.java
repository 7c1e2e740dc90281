package net.certmail.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Node certificates: what `keys init` and `keys node` issue, what they state, and when a node refuses its own. */
class NodeCertificatesTest {
  private static final String NETWORK = """
      certmail.network {
        ca-name = "test CA"
        organisations = [
          { name = "alpha.example", nodes = ["alpha-1"], servers = ["alpha.example"], mailboxes = [{ id = "alice@alpha.example" }] }
          { name = "beta.example", nodes = ["beta-1"], servers = ["beta.example"], mailboxes = [{ id = "bob@beta.example" }] }
        ]
      }
      """;

  @TempDir
  Path out;

  private void init(Path directory) throws Exception {
    KeyDirectory.initNetwork(NetworkDescription.parse(NETWORK), directory,
        new KeyDirectory.InitOptions(KeyAlgorithm.ED25519, Duration.ofDays(30), TestCa.CLOCK, false, line -> {}));
  }

  @Test
  void keysInitIssuesEachNodeAnOwnerOnlyCertificateNamingItsOrganisation() throws Exception {
    init(out);
    NodeCertificates.NodeKeys alpha = NodeCertificates.load(out.resolve("alpha-1"));
    assertEquals(new NodeCertificates.NodeIdentity("alpha-1", Set.of("alpha.example")), alpha.identity());
    assertEquals(Set.of("beta.example"), NodeCertificates.load(out.resolve("beta-1")).identity().organisations());
    Path tls = out.resolve("alpha-1").resolve(NodeCertificates.DIRECTORY);
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tls)));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
        tls.resolve(NodeCertificates.KEY_FILE))));
    assertEquals(Set.of("beta.example"), alpha.identity().notNamed(List.of("alpha.example", "beta.example")));
  }

  @Test
  void aNodeCertificateNamingSeveralOrganisationsReplacesTheOneKeysInitIssued() throws Exception {
    init(out);
    Path node = out.resolve("alpha-1");
    assertThrows(IllegalStateException.class, () -> KeyDirectory.issueNodeCertificate(out, node, "alpha-1",
        List.of("alpha.example", "beta.example"), Duration.ofDays(30), TestCa.CLOCK, false));
    KeyDirectory.issueNodeCertificate(out, node, "alpha-1", List.of("alpha.example", "beta.example"),
        Duration.ofDays(30), TestCa.CLOCK, true);
    assertEquals(Set.of("alpha.example", "beta.example"), NodeCertificates.load(node).identity().organisations());
  }

  @Test
  void aPrincipalsCertificateIsNoNodeCertificate() throws Exception {
    init(out);
    for (String principal : List.of("alice@alpha.example", "alpha.example")) {
      var certificate = Pem.readCertificate(Files.readString(out.resolve("alpha-1").resolve(KeyDirectory.CERTS)
          .resolve(principal + ".pem")), principal);
      assertEquals(Optional.empty(), NodeCertificates.identityOf(certificate), principal);
    }
    // ... and a node certificate is no principal: its subject names no principal id.
    var node = NodeCertificates.load(out.resolve("alpha-1")).certificate();
    assertTrue(!PrincipalNames.isValid(PrincipalNames.principalOf(node)), PrincipalNames.principalOf(node));
  }

  @Test
  void aNodeRefusesItsTlsKeyWhenOthersCanReadItAndACertificateOfAnotherCa() throws Exception {
    init(out);
    Path node = out.resolve("alpha-1");
    Path key = node.resolve(NodeCertificates.DIRECTORY).resolve(NodeCertificates.KEY_FILE);
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
    IllegalStateException readable = assertThrows(IllegalStateException.class, () -> NodeCertificates.load(node));
    assertTrue(readable.getMessage().contains("chmod 600 " + key), readable.getMessage());
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));

    // The node's tls/ from a network of the same CA name made elsewhere.
    Path foreign = out.resolve("foreign");
    init(foreign);
    Path tls = node.resolve(NodeCertificates.DIRECTORY);
    Files.copy(foreign.resolve("alpha-1").resolve(NodeCertificates.DIRECTORY).resolve(NodeCertificates.CERTIFICATE_FILE),
        tls.resolve(NodeCertificates.CERTIFICATE_FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    IllegalStateException other = assertThrows(IllegalStateException.class, () -> NodeCertificates.load(node));
    assertTrue(other.getMessage().contains("not issued by the network CA"), other.getMessage());
  }
}
