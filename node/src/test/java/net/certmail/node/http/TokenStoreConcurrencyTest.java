package net.certmail.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `keys token` issuing and revoking at once, from threads and from another process: no issued
 * token is lost, no revoked token comes back, and every file stays owner-only.
 */
class TokenStoreConcurrencyTest {
  static final String MAILBOX = "alice@alpha.example";

  @TempDir
  Path keys;

  @Test
  void issuesAndRevocationsFromManyThreadsLoseNothingAndReviveNothing() throws Exception {
    ConcurrentLinkedQueue<String> kept = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> revoked = new ConcurrentLinkedQueue<>();
    ExecutorService threads = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      done.add(threads.submit(() -> {
        start.await();
        for (int i = 0; i < 25; i++) {
          String token = TokenStore.issue(keys, MAILBOX);
          if (i % 2 == 0) {
            assertEquals(1, TokenStore.revoke(keys, MAILBOX, Optional.of(token)));
            revoked.add(token);
          } else {
            kept.add(token);
          }
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> future : done) {
      future.get(60, TimeUnit.SECONDS);
    }
    threads.shutdown();
    assertHolds(kept, revoked);
  }

  /** The OS file lock orders processes: here a second JVM issues while this one issues and revokes. */
  @Test
  void aSecondProcessIssuingMeanwhileLosesNoToken() throws Exception {
    Process other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), IssueTokens.class.getName(), keys.toString(), "60")
        .redirectErrorStream(true).start();
    List<String> kept = new ArrayList<>();
    List<String> revoked = new ArrayList<>();
    while (other.isAlive() || kept.size() < 40) {
      String token = TokenStore.issue(keys, MAILBOX);
      if (TokenStore.revoke(keys, MAILBOX, Optional.of(token)) == 1) {
        revoked.add(token);
      }
      kept.add(TokenStore.issue(keys, MAILBOX));
    }
    assertTrue(other.waitFor(60, TimeUnit.SECONDS));
    List<String> output = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    assertEquals(0, other.exitValue(), String.join("\n", output));
    assertEquals(60, output.size(), "the other process issued 60 tokens: " + output);
    kept.addAll(output);
    assertHolds(kept, revoked);
  }

  private void assertHolds(java.util.Collection<String> kept, java.util.Collection<String> revoked) throws Exception {
    TokenStore store = TokenStore.open(keys);
    for (String token : kept) {
      assertEquals(Optional.of(MAILBOX), store.mailboxOf(token), "an issued token was lost");
    }
    for (String token : revoked) {
      assertFalse(store.mailboxOf(token).isPresent(), "a revoked token came back");
    }
    Path directory = keys.resolve(TokenStore.DIRECTORY);
    assertEquals(kept.size(), Files.readAllLines(directory.resolve(MAILBOX)).size());
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(directory)));
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.toList()) {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), file.toString());
        assertFalse(file.getFileName().toString().contains("revoking"), "a revocation's temporary file was left");
      }
    }
  }

  /** The other process: issues N tokens for alice, one per line. */
  public static final class IssueTokens {
    public static void main(String[] args) throws Exception {
      for (int i = 0; i < Integer.parseInt(args[1]); i++) {
        System.out.println(TokenStore.issue(Path.of(args[0]), MAILBOX));
      }
    }
  }
}
