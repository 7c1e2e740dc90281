package net.certmail.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import net.certmail.crypto.KeyDirectory;
import net.certmail.node.http.TestNode;
import net.certmail.node.runtime.CertmailNode;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/** A node's private keys: owner-only or the node does not start, and never in its logs. */
class NodeKeysTest {
  @TempDir
  Path dir;

  @ParameterizedTest(name = "mode {0}")
  @ValueSource(strings = {"rw-r-----", "rw----r--", "rw-rw-rw-"})
  void aNodeRefusesToStartOnAPrivateKeyOthersCanRead(String mode) throws Exception {
    Path keys = TestNode.keys(dir);
    Path key = keys.resolve(KeyDirectory.PRIVATE).resolve("bob@beta.example.key.pem");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString(mode));
    IllegalStateException refused = assertThrows(IllegalStateException.class,
        () -> CertmailNode.start(TestNode.settings(dir, keys, 0, ""), Clock.systemUTC(), null).close());
    assertTrue(refused.getMessage().contains("chmod 600 " + key), refused.getMessage());
    assertFalse(Files.exists(dir.resolve("journal")), "the node refused before it opened its journal");
  }

  @Test
  void keysInitWritesPrivateKeysOwnerOnly() throws Exception {
    Path keys = TestNode.keys(dir);
    try (Stream<Path> files = Files.walk(dir.resolve("keys"))) {
      // test-node/ is the test's own copy; the node directories and ca/ are what keys init wrote.
      for (Path file : files.filter(path -> path.toString().endsWith(".key.pem") && !path.startsWith(keys)).toList()) {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), file.toString());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())),
            file.getParent().toString());
      }
    }
    assertTrue(Files.isDirectory(keys.resolve(KeyDirectory.PRIVATE)));
  }

  /**
   * Everything a node logs at DEBUG, its configuration included, while it starts, carries a mail and
   * stops, searched for key material and the journal's password.
   */
  @Test
  void privateKeysAndTheJournalPasswordNeverAppearInTheLogs() throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    Level level = root.getLevel();
    ListAppender<ILoggingEvent> captured = new ListAppender<>();
    captured.start();
    root.addAppender(captured);
    root.setLevel(Level.DEBUG);
    TestNode network = null;
    try {
      network = TestNode.start(dir, "pekko.loglevel = DEBUG\npekko.log-config-on-start = on\n");
      var engine = network.node.engine();
      MailItem mail = MailItem.newBuilder().setSubject("keys").setBody("hello").build();
      engine.submit("alice@alpha.example", "keys-1", "bob@beta.example", mail,
          Instant.now().plus(Duration.ofMinutes(2)).toEpochMilli(), Flavour.CEM).toCompletableFuture().get();
      long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (engine.status("alice@alpha.example", "keys-1").toCompletableFuture().get().label().isEmpty()
          && System.nanoTime() < until) {
        Thread.sleep(200);
      }
    } finally {
      if (network != null) {
        network.close();
      }
      root.detachAppender(captured);
      root.setLevel(level);
    }

    List<String> secrets = new ArrayList<>();
    try (Stream<Path> files = Files.walk(dir.resolve("keys"))) {
      for (Path file : files.filter(path -> path.toString().endsWith(".key.pem")).toList()) {
        String pem = Files.readString(file);
        String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        secrets.add(base64.substring(0, 24)); // any piece of the PKCS#8 encoding
        pem.lines().filter(line -> !line.startsWith("-----") && line.length() > 16).forEach(secrets::add);
        byte[] der = Base64.getDecoder().decode(base64);
        // The raw 32-byte Ed25519 seed at the end of the PKCS#8 structure, in hex and base64.
        byte[] seed = java.util.Arrays.copyOfRange(der, der.length - 32, der.length);
        secrets.add(java.util.HexFormat.of().formatHex(seed));
        secrets.add(Base64.getEncoder().encodeToString(seed).substring(0, 24));
      }
    }
    // The journal's password, which the node's configuration carries (log-config-on-start is on above).
    String password = Files.readString(dir.resolve("journal").resolve("certmail.password")).trim();
    assertTrue(password.length() >= 20, "the journal's password: " + password.length() + " characters");
    secrets.add(password);
    assertTrue(secrets.size() > 20, "the keys to look for: " + secrets.size());
    assertTrue(captured.list.size() > 100, "only " + captured.list.size() + " log events captured");
    for (ILoggingEvent event : captured.list) {
      String text = event.getFormattedMessage() + " " + event.getMDCPropertyMap()
          + (event.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(event.getThrowableProxy()));
      assertFalse(text.contains("PRIVATE KEY"), () -> "a private key in the log: " + event);
      for (String secret : secrets) {
        assertFalse(text.contains(secret), () -> "private key material in the log: " + event.getLoggerName());
      }
    }
    assertTrue(captured.list.stream().anyMatch(event -> event.getFormattedMessage()
            .startsWith("configuration (secrets redacted)") && event.getFormattedMessage().contains("<redacted>")),
        "log-config-on-start logged the configuration, its password redacted");
  }
}
