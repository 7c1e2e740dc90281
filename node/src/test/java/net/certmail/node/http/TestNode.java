package net.certmail.node.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.NetworkDescription;
import net.certmail.node.runtime.CertmailNode;

/**
 * One real node on the embedded journal in a temporary directory, hosting alpha.example,
 * relay.example and beta.example of the sample local network (offline.example stays down), with
 * its HTTP API and management endpoints on free ports. Short protocol timings, like the demo's.
 */
public final class TestNode implements AutoCloseable {
  static final String TIMINGS = """
      include classpath("certmail-demo-timings.conf")
      pekko.loglevel = "WARNING"
      pekko.log-dead-letters = off
      pekko.remote.artery.canonical.port = 0
      pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
      pekko.coordinated-shutdown.exit-jvm = off
      certmail.http.port = 0
      """;

  public final CertmailNode node;
  public final NodeEndpoints endpoints;
  public final Path keys;
  public final int managementPort;

  private TestNode(CertmailNode node, NodeEndpoints endpoints, Path keys, int managementPort) {
    this.node = node;
    this.endpoints = endpoints;
    this.keys = keys;
    this.managementPort = managementPort;
  }

  public static TestNode start(Path dir) throws IOException {
    return start(dir, "");
  }

  /** @param extraSettings HOCON that overrides the test settings (log levels, limits) */
  public static TestNode start(Path dir, String extraSettings) throws IOException {
    Path keys = keys(dir);
    int managementPort = net.certmail.node.cluster.LocalCluster.freePort();
    CertmailNode node = CertmailNode.start(settings(dir, keys, managementPort, extraSettings), Clock.systemUTC(), null);
    try {
      return new TestNode(node, NodeEndpoints.start(node, Clock.systemUTC()), keys, managementPort);
    } catch (IOException | RuntimeException e) {
      node.close();
      throw e;
    }
  }

  /** The sample network's keys under {@code dir/keys}, and the test node's key directory (returned). */
  public static Path keys(Path dir) throws IOException {
    String description;
    try (InputStream in = TestNode.class.getResourceAsStream("/networks/local-network.conf")) {
      description = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    Path all = dir.resolve("keys");
    KeyDirectory.initNetwork(NetworkDescription.parse(description), all, new KeyDirectory.InitOptions(
        KeyDirectory.InitOptions.defaults().algorithm(), Duration.ofDays(30), Clock.systemUTC(), false, line -> {}));
    // One node for three organisations: its key directory holds the private keys of all three.
    Path keys = all.resolve("test-node");
    copyTree(all.resolve("alpha-1"), keys);
    for (String node : new String[] {"relay-1", "beta-1"}) {
      copyTree(all.resolve(node).resolve(KeyDirectory.PRIVATE), keys.resolve(KeyDirectory.PRIVATE));
    }
    // ... and a TLS certificate that names all three (alpha-1's names alpha.example only).
    KeyDirectory.issueNodeCertificate(all, keys, "test-node", List.of("alpha.example", "relay.example", "beta.example"),
        Duration.ofDays(30), Clock.systemUTC(), true);
    return keys;
  }

  /** The test node's settings: its keys, a journal under {@code dir/journal}, free ports. */
  public static Config settings(Path dir, Path keys, int managementPort, String extraSettings) {
    return ConfigFactory.parseString(extraSettings).withFallback(ConfigFactory.parseString(TIMINGS))
        .withFallback(ConfigFactory.parseString("""
            include classpath("certmail-node")
            include classpath("certmail-local-network")
            certmail.node {
              name = "test-node"
              organisations = ["alpha.example", "relay.example", "beta.example"]
              key-directory = "%s"
            }
            certmail.journal {
              backend = embedded
              embedded.path = "%s"
            }
            pekko.management.http.port = %d
            """.formatted(keys, dir.resolve("journal").resolve("certmail"), managementPort)));
  }

  public String token(String mailbox) throws IOException {
    return TokenStore.issue(keys, mailbox);
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path file : files.toList()) {
        Path target = to.resolve(from.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(target);
        } else {
          // Keep the owner-only mode: the key directory refuses private keys others can read.
          Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  @Override
  public void close() {
    node.close();
  }
}
