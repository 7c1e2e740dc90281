package net.certmail.node.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import net.certmail.crypto.Sha256;

/**
 * Bearer tokens of the mailboxes a node hosts. Only the SHA-256 of a token is stored, one hex line
 * per token in {@code <key-directory>/tokens/<mailbox>} (directory 700, files 600): a copy of the
 * key directory's tokens does not let anyone act as the mailbox. A token is 256 random bits, so a
 * plain hash (no salt, no slow KDF) is enough: there is nothing to guess.
 */
public final class TokenStore {
  public static final String DIRECTORY = "tokens";
  private static final SecureRandom RANDOM = new SecureRandom();
  private final Path directory;
  private volatile Map<String, String> mailboxByHash;
  /** Size and modification time of every token file when last read: a new token changes them. */
  private volatile Map<Path, String> loadedFiles = Map.of();

  private TokenStore(Path directory) {
    this.directory = directory;
  }

  /** The tokens of a node's key directory (none yet is fine: every request then answers 401). */
  public static TokenStore open(Path keyDirectory) throws IOException {
    TokenStore store = new TokenStore(keyDirectory.resolve(DIRECTORY));
    store.reload();
    return store;
  }

  /**
   * Issues a new token for a mailbox and stores its hash; the token itself is returned once and
   * kept nowhere. A running node picks it up on first use.
   */
  public static String issue(Path keyDirectory, String mailbox) throws IOException {
    if (!mailbox.matches("[a-z0-9._+-]+@[a-z0-9.-]+")) {
      throw new IllegalArgumentException("not a mailbox id: \"" + mailbox + "\" (expected e.g. alice@alpha.example)");
    }
    Path directory = keyDirectory.resolve(DIRECTORY);
    if (!Files.isDirectory(directory)) {
      Files.createDirectories(directory);
      setPermissions(directory, "rwx------");
    }
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    String token = "cm_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    Path file = directory.resolve(mailbox);
    boolean created = !Files.exists(file);
    Files.writeString(file, hash(token) + "\n", StandardCharsets.US_ASCII,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    if (created) {
      setPermissions(file, "rw-------");
    }
    return token;
  }

  /** The mailbox a presented token belongs to, if any. */
  public Optional<String> mailboxOf(String token) {
    String hash = hash(token);
    String mailbox = mailboxByHash.get(hash);
    if (mailbox == null) {
      // A token issued since the last read (certmail keys token while the node runs). Comparing
      // file sizes and times costs a directory listing, no file reads, for an unknown token.
      try {
        if (!fileStamps().equals(loadedFiles)) {
          reload();
          mailbox = mailboxByHash.get(hash);
        }
      } catch (IOException e) {
        return Optional.empty();
      }
    }
    return Optional.ofNullable(mailbox);
  }

  private Map<Path, String> fileStamps() throws IOException {
    Map<Path, String> stamps = new HashMap<>();
    if (Files.isDirectory(directory)) {
      try (Stream<Path> files = Files.list(directory)) {
        for (Path file : files.filter(Files::isRegularFile).toList()) {
          stamps.put(file, Files.size(file) + "@" + Files.getLastModifiedTime(file).toMillis());
        }
      }
    }
    return stamps;
  }

  private synchronized void reload() throws IOException {
    Map<Path, String> stamps = fileStamps();
    Map<String, String> loaded = new HashMap<>();
    if (Files.isDirectory(directory)) {
      try (Stream<Path> files = Files.list(directory)) {
        for (Path file : files.filter(Files::isRegularFile).toList()) {
          String mailbox = file.getFileName().toString();
          for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
            if (!line.isBlank()) {
              loaded.put(line.trim(), mailbox);
            }
          }
        }
      }
    }
    mailboxByHash = loaded;
    loadedFiles = stamps;
  }

  static String hash(String token) {
    return Sha256.hex(Sha256.hash(token.getBytes(StandardCharsets.UTF_8)));
  }

  private static void setPermissions(Path path, String permissions) throws IOException {
    try {
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system (Windows): the directory's ACLs apply.
    }
  }
}
