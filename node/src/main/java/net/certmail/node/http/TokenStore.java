package net.certmail.node.http;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import net.certmail.crypto.Sha256;

/**
 * Bearer tokens of the mailboxes a node hosts. Only the SHA-256 of a token is stored, one hex line
 * per token in {@code <key-directory>/tokens/<mailbox>} (directory 700, files 600): a copy of the
 * key directory's tokens does not let anyone act as the mailbox. A token is 256 random bits, so a
 * plain hash (no salt, no slow KDF) is enough: there is nothing to guess.
 *
 * <p>A running node sees changes at once: a token is accepted only after the file that holds its
 * hash was found unchanged (one stat per request: size, modification time, inode) or re-read, so
 * a revoked token ({@link #revoke}) is refused from the next request on; an unknown token makes
 * the node look for token files that are new or changed since it last read them.
 */
public final class TokenStore {
  public static final String DIRECTORY = "tokens";
  private static final Pattern MAILBOX = Pattern.compile("[a-z0-9._+-]+@[a-z0-9.-]+");
  private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Held by whoever changes a token file ({@link #issue}, {@link #revoke}); never read by the node. */
  static final String LOCK_FILE = ".lock";
  private final Path directory;
  /** What each token file held when last read, by mailbox. */
  private volatile Map<String, TokenFile> files = Map.of();
  private volatile Map<String, String> mailboxByHash = Map.of();

  /** A token file as read: its stamp (null: no such file) and the hashes in it. */
  private record TokenFile(Stamp stamp, Set<String> hashes) {}

  /** Size, modification time (ns) and inode: a rewrite, append or replacement changes one of them. */
  private record Stamp(long size, long modifiedNanos, Object fileKey) {}

  private TokenStore(Path directory) {
    this.directory = directory;
  }

  /** The tokens of a node's key directory (none yet is fine: every request then answers 401). */
  public static TokenStore open(Path keyDirectory) throws IOException {
    TokenStore store = new TokenStore(keyDirectory.resolve(DIRECTORY));
    store.rescan();
    return store;
  }

  /**
   * Issues a new token for a mailbox and stores its hash; the token itself is returned once and
   * kept nowhere. A running node accepts it from its next request.
   */
  public static String issue(Path keyDirectory, String mailbox) throws IOException {
    requireMailbox(mailbox);
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    String token = "cm_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    Path directory = keyDirectory.resolve(DIRECTORY);
    return locked(directory, () -> {
      Path file = directory.resolve(mailbox);
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        createOwnerOnly(file);
      }
      Files.writeString(file, hash(token) + "\n", StandardCharsets.US_ASCII, StandardOpenOption.APPEND);
      return token;
    });
  }

  /**
   * Revokes one token of a mailbox ({@code token} given) or all of them (empty): their hashes leave
   * the mailbox's file, which is replaced whole (a new inode), so a running node refuses them from
   * its next request on.
   *
   * @return how many tokens were revoked (0: the token was not one of the mailbox's)
   */
  public static int revoke(Path keyDirectory, String mailbox, Optional<String> token) throws IOException {
    requireMailbox(mailbox);
    Path directory = keyDirectory.resolve(DIRECTORY);
    if (!Files.isDirectory(directory)) {
      return 0;
    }
    return locked(directory, () -> {
      Path file = directory.resolve(mailbox);
      List<String> hashes;
      try {
        hashes = Files.readAllLines(file, StandardCharsets.US_ASCII).stream().map(String::trim)
            .filter(line -> !line.isEmpty()).toList();
      } catch (NoSuchFileException e) {
        return 0;
      }
      List<String> kept = new ArrayList<>();
      if (token.isPresent()) {
        String revoked = hash(token.get().trim());
        hashes.stream().filter(hash -> !hash.equals(revoked)).forEach(kept::add);
      }
      int removed = hashes.size() - kept.size();
      if (removed == 0) {
        return 0;
      }
      Path temporary = file.resolveSibling("." + mailbox + ".revoking-" + Long.toHexString(RANDOM.nextLong()));
      createOwnerOnly(temporary);
      try {
        Files.write(temporary, kept, StandardCharsets.US_ASCII);
        try {
          Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(temporary);
      }
      return removed;
    });
  }

  /** What runs while the token directory is locked. */
  private interface LockedAction<T> {
    T run() throws IOException;
  }

  /** In-process writers queue here: the file lock below is per process (the JVM refuses to take it twice). */
  private static final Object WRITERS = new Object();

  /**
   * Runs a read-modify-write of a token file with {@code tokens/.lock} held: an issue appending
   * while a revocation rewrites the file would otherwise be lost, and two revocations racing could
   * each put back the token the other removed. The lock is an OS file lock, so it also orders
   * several {@code certmail keys token} processes; the node only reads and needs none.
   */
  private static <T> T locked(Path directory, LockedAction<T> action) throws IOException {
    synchronized (WRITERS) {
      if (!Files.isDirectory(directory)) {
        try {
          Files.createDirectories(directory.getParent());
          Files.createDirectory(directory, ownerOnly("rwx------"));
        } catch (java.nio.file.FileAlreadyExistsException e) {
          // made by another process meanwhile
        }
      }
      try (FileChannel channel = FileChannel.open(directory.resolve(LOCK_FILE),
               Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE), ownerOnly("rw-------"));
           FileLock lock = channel.lock()) {
        return action.run();
      }
    }
  }

  private static void createOwnerOnly(Path file) throws IOException {
    Files.createFile(file, ownerOnly("rw-------"));
    setPermissions(file, "rw-------"); // exact, whatever the umask took away
  }

  private static FileAttribute<?>[] ownerOnly(String permissions) {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions))}
        : new FileAttribute<?>[0];
  }

  /** The mailbox a presented token belongs to, if any, as the token files say now. */
  public Optional<String> mailboxOf(String token) {
    String hash = hash(token);
    try {
      String mailbox = mailboxByHash.get(hash);
      if (mailbox != null) {
        // Known: valid only while its file still holds it (revocation is effective at once).
        return refresh(mailbox).hashes().contains(hash) ? Optional.of(mailbox) : Optional.empty();
      }
      // Unknown: a token issued since the last read, or no token at all.
      rescan();
      return Optional.ofNullable(mailboxByHash.get(hash));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The mailbox's file as it is now: re-read when its stamp changed. */
  private TokenFile refresh(String mailbox) throws IOException {
    Path file = directory.resolve(mailbox);
    Stamp now = stamp(file);
    TokenFile known = files.get(mailbox);
    if (known != null && Objects.equals(known.stamp(), now)) {
      return known;
    }
    synchronized (this) {
      TokenFile read = read(file, now);
      Map<String, TokenFile> updated = new HashMap<>(files);
      updated.put(mailbox, read);
      install(updated);
      return read;
    }
  }

  /** Re-reads every token file that is new or changed since it was last read, and forgets removed ones. */
  private synchronized void rescan() throws IOException {
    Map<String, TokenFile> updated = new HashMap<>();
    if (Files.isDirectory(directory)) {
      try (Stream<Path> listed = Files.list(directory)) {
        for (Path file : listed.toList()) {
          String mailbox = file.getFileName().toString();
          if (!MAILBOX.matcher(mailbox).matches()) {
            continue; // a revocation's temporary file, or something else that is not a mailbox's tokens
          }
          Stamp stamp = stamp(file);
          TokenFile known = files.get(mailbox);
          updated.put(mailbox, known != null && Objects.equals(known.stamp(), stamp) ? known : read(file, stamp));
        }
      }
    }
    install(updated);
  }

  private void install(Map<String, TokenFile> updated) {
    Map<String, String> index = new HashMap<>();
    updated.forEach((mailbox, file) -> file.hashes().forEach(hash -> index.put(hash, mailbox)));
    files = Map.copyOf(updated);
    mailboxByHash = Map.copyOf(index);
  }

  private static TokenFile read(Path file, Stamp stamp) throws IOException {
    if (stamp == null) {
      return new TokenFile(null, Set.of());
    }
    Set<String> hashes = new LinkedHashSet<>();
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
        String trimmed = line.trim();
        if (HASH.matcher(trimmed).matches()) {
          hashes.add(trimmed);
        }
      }
    } catch (NoSuchFileException e) {
      return new TokenFile(null, Set.of());
    }
    // Stamp again: a change while reading shows on the next request, never as a stale "unchanged".
    return new TokenFile(Objects.equals(stamp(file), stamp) ? stamp : null, Set.copyOf(hashes));
  }

  private static Stamp stamp(Path file) throws IOException {
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (!attributes.isRegularFile()) {
        return null;
      }
      return new Stamp(attributes.size(), attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS), attributes.fileKey());
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  static String hash(String token) {
    return Sha256.hex(Sha256.hash(token.getBytes(StandardCharsets.UTF_8)));
  }

  private static void requireMailbox(String mailbox) {
    if (!MAILBOX.matcher(mailbox).matches()) {
      throw new IllegalArgumentException("not a mailbox id: \"" + mailbox + "\" (expected e.g. alice@alpha.example)");
    }
  }

  private static void setPermissions(Path path, String permissions) throws IOException {
    try {
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system (Windows): the directory's ACLs apply.
    }
  }
}
