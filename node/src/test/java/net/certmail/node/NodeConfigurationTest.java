package net.certmail.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import net.certmail.node.runtime.CertmailNode;
import net.certmail.node.trust.NodeTlsEngineProvider;
import net.certmail.node.trust.NodeTrust;
import net.certmail.persistence.JournalBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every node configuration the project ships resolves, the way `certmail node` loads it, to a node
 * that can carry a mail of max-content-size between nodes and admit one over HTTP: the local
 * network's files, the production template, and what the demo and the tests include.
 */
class NodeConfigurationTest {
  static final long KIB = 1024;
  /** Measured: envelope, evidence and wrappers around the largest content in one frame are 1,000 bytes. */
  static final long FRAME_HEADROOM = 64 * KIB;

  static Stream<Path> nodeConfigurations() throws IOException {
    Path repository = Path.of("..").toAbsolutePath().normalize();
    List<Path> files = new ArrayList<>();
    try (Stream<Path> local = Files.list(repository.resolve("cluster-config/local"))) {
      local.filter(file -> file.toString().endsWith(".conf")).sorted().forEach(files::add);
    }
    files.add(repository.resolve("cluster-config/production/node.conf.template"));
    assertTrue(files.size() >= 5, files.toString());
    return files.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("nodeConfigurations")
  void shippedFilesCarryAndAdmitMailsOfMaxContentSize(Path file) {
    check(CertmailNode.parse(file));
  }

  /** Who may join: every shipped node talks mutual TLS with certmail's engine provider, loopback included. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("nodeConfigurations")
  void shippedFilesRunArteryOverCertmailsMutualTls(Path file) {
    Config config = CertmailNode.parse(file).withFallback(ConfigFactory.defaultReference()).resolve();
    assertTrue(NodeTrust.tlsEnabled(config), file + ": " + config.getString(NodeTrust.TRANSPORT));
    assertEquals(NodeTlsEngineProvider.class.getName(), config.getString(NodeTrust.ENGINE_PROVIDER));
  }

  /**
   * A node that was downed while frozen and then stops quarantines the others on its way out, a
   * quarantine Pekko itself marks harmless. Told of it, each of them would down itself
   * (DownSelfQuarantinedByRemote): a chaos run saw one paused node take a five-node cluster down.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("nodeConfigurations")
  void shippedFilesDoNotLetAStoppingDownedNodeTakeTheOthersDown(Path file) {
    Config config = CertmailNode.parse(file).withFallback(ConfigFactory.defaultReference()).resolve();
    assertEquals(false, config.getBoolean("pekko.remote.artery.propagate-harmless-quarantine-events"), file.toString());
  }

  /** The demo (DemoCommand.nodeSettings) and the node tests' TestNode start from the same includes. */
  @Test
  void demoAndTestNodesCarryAndAdmitMailsOfMaxContentSize() {
    check(ConfigFactory.parseString("""
        include classpath("certmail-node")
        include classpath("certmail-local-network")
        certmail.node { name = "demo", organisations = ["alpha.example"], key-directory = "keys" }
        certmail.journal.backend = embedded
        """));
  }

  private static void check(Config settings) {
    // The node's own chain: settings, then the journal backend's file, then reference.conf.
    Config config = JournalBackend.fromSettings(settings).config(settings).resolve();
    Config artery = config.getConfig("pekko.remote.artery");
    assertTrue(artery.getStringList("large-message-destinations").containsAll(List.of("/system/sharding/**", "/temp/*")),
        "large-message-destinations: " + artery.getStringList("large-message-destinations"));
    long maxContent = config.getBytes("certmail.engine.max-content-size");
    long maxRequest = config.getBytes("certmail.http.max-request-size");
    long largeFrame = artery.getBytes("advanced.maximum-large-frame-size");
    assertEquals(1024 * KIB, maxContent, "certmail.engine.max-content-size");
    assertTrue(maxRequest >= 2 * maxContent, "max-request-size " + maxRequest
        + " must admit a max-content-size mail with JSON escaping (2x)");
    assertTrue(largeFrame >= maxRequest + FRAME_HEADROOM, "maximum-large-frame-size " + largeFrame
        + " must carry whatever the HTTP API admits (" + maxRequest + " bytes) to the origin server");
    assertEquals(256 * KIB, artery.getBytes("advanced.maximum-frame-size"),
        "the ordinary channel keeps Pekko's frame (see certmail-artery.conf)");
  }
}
