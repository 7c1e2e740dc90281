package net.certmail.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import net.certmail.persistence.testing.JournalScenario;
import net.certmail.persistence.testing.TestJournals;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded journal holds mail in plain text: its files are the owner's alone and its database
 * answers only the processes that hold its password, over loopback only.
 */
class EmbeddedJournalFilesTest {
  @TempDir
  Path dir;

  private Config journal(Path database, boolean autoServer) {
    return JournalBackend.EMBEDDED.config(ConfigFactory.empty()
        .withValue("certmail.journal.embedded.path", ConfigValueFactory.fromAnyRef(database.toString()))
        .withValue("certmail.journal.embedded.auto-server", ConfigValueFactory.fromAnyRef(autoServer))
        .withFallback(TestJournals.testSettings()));
  }

  @Test
  void everyFileAJournalCreatesIsOwnerOnly() throws Exception {
    Path database = dir.resolve("var").resolve("journal").resolve("certmail");
    ActorTestKit kit = ActorTestKit.create("journal-files", journal(database, true));
    try {
      EmbeddedJournalSchema.ensureCreated(kit.system());
      JournalScenario.append(kit, "alice@alpha.example|mail-1", List.of("the mail's content"));
      assertEquals("rwx------", mode(database.getParent()));
      List<String> files = new ArrayList<>();
      try (Stream<Path> listed = Files.list(database.getParent())) {
        for (Path file : listed.toList()) {
          files.add(file.getFileName().toString());
          assertEquals("rw-------", mode(file), file.toString());
        }
      }
      assertTrue(files.containsAll(List.of("certmail.mv.db", "certmail.lock.db", "certmail.password")), files.toString());
    } finally {
      shutDown(kit, database);
    }
  }

  @Test
  void theAutoServerListensOnLoopbackAndRefusesAConnectionWithoutThePassword() throws Exception {
    Path database = dir.resolve("journal").resolve("certmail");
    Config config = journal(database, true);
    String password = config.getString("pekko-persistence-jdbc.shared-databases.slick.db.password");
    assertTrue(password.length() >= 40, "a random password, not " + password);
    ActorTestKit kit = ActorTestKit.create("journal-auto-server", config);
    try {
      EmbeddedJournalSchema.ensureCreated(kit.system());
      // What another process (or another local user who got hold of the lock file) connects to.
      Properties lock = new Properties();
      try (InputStream in = Files.newInputStream(database.resolveSibling("certmail.lock.db"))) {
        lock.load(in);
      }
      String server = lock.getProperty("server");
      int port = Integer.parseInt(server.substring(server.lastIndexOf(':') + 1));
      String tcp = "jdbc:h2:tcp://127.0.0.1:" + port + "/" + lock.getProperty("id");

      SQLException refused = assertThrows(SQLException.class, () -> DriverManager.getConnection(tcp, "sa", "").close());
      assertEquals(28000, refused.getErrorCode(), refused.getMessage()); // wrong user name or password
      assertThrows(SQLException.class, () -> DriverManager.getConnection(tcp, "sa", "guess").close());
      try (Connection connection = DriverManager.getConnection(tcp, "sa", password)) {
        assertFalse(connection.isClosed(), "the nodes, holding the password, are served");
      }
      List<InetAddress> listening = listeningAddresses(port);
      assertFalse(listening.isEmpty(), "no listening socket on port " + port);
      listening.forEach(address -> assertTrue(address.isLoopbackAddress(), "auto-server listens on " + address));
    } finally {
      shutDown(kit, database);
    }
  }

  @Test
  void aJournalWrittenWithoutPasswordGetsOneAndKeepsItsEvents() throws Exception {
    Path database = dir.resolve("old").resolve("certmail");
    Files.createDirectories(database.getParent());
    String url = "jdbc:h2:file:" + database + ";WRITE_DELAY=0";
    try (Connection connection = DriverManager.getConnection(url, "sa", "")) {
      connection.createStatement().execute("CREATE TABLE kept (x INT)");
    }
    Config config = journal(database, false);
    String password = config.getString("pekko-persistence-jdbc.shared-databases.slick.db.password");
    assertEquals(password, Files.readString(database.resolveSibling("certmail.password")).strip());
    assertThrows(SQLException.class, () -> DriverManager.getConnection(url, "sa", "").close());
    try (Connection connection = DriverManager.getConnection(url, "sa", password)) {
      connection.createStatement().executeQuery("SELECT COUNT(*) FROM kept").close();
    }
    assertEquals("rwx------", mode(database.getParent()), "the old directory was tightened");
  }

  @Test
  void aJournalInASharedDirectoryIsRefused() throws Exception {
    Path shared = dir.resolve("shared");
    Files.createDirectories(shared);
    Files.setAttribute(shared, "unix:mode", 01777);
    IllegalStateException refused = assertThrows(IllegalStateException.class,
        () -> journal(shared.resolve("certmail"), false));
    assertTrue(refused.getMessage().contains("a directory of its own"), refused.getMessage());
  }

  /**
   * H2 closes the database (and deletes its lock file) on a thread of its own after the actor
   * system ended: wait for it, or the temporary directory's removal races it.
   */
  private static void shutDown(ActorTestKit kit, Path database) throws InterruptedException {
    kit.shutdownTestKit();
    Path lock = database.resolveSibling("certmail.lock.db");
    long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (Files.exists(lock) && System.nanoTime() < until) {
      Thread.sleep(100);
    }
  }

  private static String mode(Path path) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }

  /** The local addresses of the sockets listening on a TCP port, from Linux's /proc/net/tcp and tcp6. */
  private static List<InetAddress> listeningAddresses(int port) throws Exception {
    List<InetAddress> addresses = new ArrayList<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      for (String line : Files.readAllLines(Path.of(table))) {
        String[] fields = line.trim().split("\\s+");
        if (fields.length < 4 || !fields[3].equals("0A")) { // 0A: LISTEN
          continue;
        }
        String[] local = fields[1].split(":");
        if (Integer.parseInt(local[1], 16) == port) {
          addresses.add(InetAddress.getByAddress(littleEndianWords(HexFormat.of().parseHex(local[0]))));
        }
      }
    }
    return addresses;
  }

  /** /proc/net prints each 32-bit word of an address in host (little-endian) order. */
  private static byte[] littleEndianWords(byte[] bytes) {
    byte[] address = new byte[bytes.length];
    for (int word = 0; word < bytes.length; word += 4) {
      for (int i = 0; i < 4; i++) {
        address[word + i] = bytes[word + 3 - i];
      }
    }
    return address;
  }
}
