package net.certmail.crypto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Files whose permissions are right from the first byte: created with owner-only POSIX
 * attributes rather than chmod-ed afterwards, so there is no moment in which a private key is
 * readable by others.
 */
final class SecureFiles {
  static final Set<PosixFilePermission> OWNER_DIRECTORY = PosixFilePermissions.fromString("rwx------");
  static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  static final Set<PosixFilePermission> PUBLIC_DIRECTORY = PosixFilePermissions.fromString("rwxr-xr-x");
  static final Set<PosixFilePermission> PUBLIC_FILE = PosixFilePermissions.fromString("rw-r--r--");

  private SecureFiles() {}

  static boolean posix() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }

  static void createDirectory(Path dir, Set<PosixFilePermission> permissions) throws IOException {
    Files.createDirectory(dir, attributes(permissions));
    // The process umask may have cleared bits we asked for (never added any): make the mode exact.
    if (posix() && !Files.getPosixFilePermissions(dir).equals(permissions)) {
      Files.setPosixFilePermissions(dir, permissions);
    }
  }

  /** Writes a new file; fails if it exists, so nothing is silently overwritten. */
  static void writeNew(Path file, String text, Set<PosixFilePermission> permissions) throws IOException {
    writeNew(file, text.getBytes(StandardCharsets.UTF_8), permissions);
  }

  static void writeNew(Path file, byte[] bytes, Set<PosixFilePermission> permissions) throws IOException {
    try (SeekableByteChannel channel = Files.newByteChannel(file,
        EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), attributes(permissions))) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
    }
    if (posix() && !Files.getPosixFilePermissions(file).equals(permissions)) {
      Files.setPosixFilePermissions(file, permissions);
    }
  }

  /** Group or others may read, write or enter it. */
  static boolean accessibleByOthers(Path path) throws IOException {
    if (!posix()) {
      return false;
    }
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
    return permissions.stream().anyMatch(permission -> !permission.name().startsWith("OWNER_"));
  }

  static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  private static FileAttribute<?>[] attributes(Set<PosixFilePermission> permissions) {
    return posix() ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)} : new FileAttribute<?>[0];
  }
}
