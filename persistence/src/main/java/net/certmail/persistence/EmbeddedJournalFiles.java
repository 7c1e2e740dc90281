package net.certmail.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Base64;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The embedded journal's files are mail content in plain text, so they are the owner's alone:
 * the directory is created 700 before H2 writes anything into it (a file H2 then creates with the
 * process's umask is still unreachable for others), the database file is created 600, and every
 * file of the database is set to 600 once it is open. The database has a password, random per
 * journal and kept beside it in {@code <path>.password} (600): H2's auto-server (the local network's
 * four processes share one file through it) refuses connections without it, and listens on the
 * loopback interface only ({@code h2.bindAddress}, set here before H2 reads it).
 */
public final class EmbeddedJournalFiles {
  /** H2 reads this system property once, when its SysProperties class loads: it must be set before. */
  static final String BIND_ADDRESS_PROPERTY = "h2.bindAddress";
  static final String PASSWORD_FILE_SETTING = "certmail.journal.embedded.password-file";
  static final String DB_CONFIG = "pekko-persistence-jdbc.shared-databases.slick.db";

  private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_DIRECTORY = PosixFilePermissions.fromString("rwx------");
  private static final SecureRandom RANDOM = new SecureRandom();

  static {
    if (System.getProperty(BIND_ADDRESS_PROPERTY) == null) {
      System.setProperty(BIND_ADDRESS_PROPERTY, "127.0.0.1");
    }
  }

  private EmbeddedJournalFiles() {}

  /**
   * Prepares the journal's directory, database file and password (creating them owner-only when
   * missing), and returns the configuration with the password the database is opened with.
   *
   * @throws IllegalStateException when the directory is shared with others and cannot be made
   *     owner-only, or auto-server would listen beyond loopback; the message says what to change
   */
  public static Config secure(Config config) {
    requireLoopbackAutoServer(config.getString("certmail.journal.embedded.url"));
    Path database = Path.of(config.getString("certmail.journal.embedded.path")).toAbsolutePath().normalize();
    Path directory = database.getParent();
    try {
      ownerOnlyDirectory(directory);
      Path dataFile = dataFile(database);
      if (!Files.exists(dataFile, LinkOption.NOFOLLOW_LINKS)) {
        createOwnerOnly(dataFile); // H2 takes an empty file as a new database
      }
      tighten(database);
      Path passwordFile = Path.of(config.getString(PASSWORD_FILE_SETTING)).toAbsolutePath().normalize();
      String password = password(passwordFile, config, dataFile);
      return config.withValue(DB_CONFIG + ".password",
          ConfigValueFactory.fromAnyRef(password, "the embedded journal's password file " + passwordFile));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the embedded journal in " + directory + ": " + e.getMessage()
          + "; check that the directory is yours and writable", e);
    }
  }

  /** Sets every file of the database (data, lock, trace) to 600: H2 creates them with the umask. */
  public static void tighten(Path database) throws IOException {
    Path directory = database.toAbsolutePath().normalize().getParent();
    String prefix = database.getFileName().toString() + ".";
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.filter(file -> file.getFileName().toString().startsWith(prefix)).toList()) {
        if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
          setPermissions(file, OWNER_FILE);
        }
      }
    }
  }

  static Path dataFile(Path database) {
    return database.resolveSibling(database.getFileName() + ".mv.db");
  }

  /**
   * The journal's directory, 700. A directory that others may enter is tightened when it is ours;
   * a shared one (sticky, like /tmp, or another user's) is refused: the journal needs its own.
   */
  static void ownerOnlyDirectory(Path directory) throws IOException {
    if (!Files.exists(directory)) {
      Files.createDirectories(directory, attribute(OWNER_DIRECTORY));
      setPermissions(directory, OWNER_DIRECTORY); // createDirectories applies the umask
      return;
    }
    if (!posix(directory)) {
      return;
    }
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(directory);
    if (permissions.equals(OWNER_DIRECTORY)) {
      return;
    }
    boolean sticky = Boolean.TRUE.equals(stickyBit(directory));
    boolean ours = Files.getOwner(directory).getName().equals(System.getProperty("user.name"));
    if (sticky || !ours) {
      throw new IllegalStateException("the embedded journal's directory " + directory + " is shared with other users"
          + (sticky ? " (sticky, like /tmp)" : " (it belongs to " + Files.getOwner(directory).getName() + ")")
          + ": give certmail.journal.embedded.path a directory of its own, e.g. ./var/journal/certmail");
    }
    setPermissions(directory, OWNER_DIRECTORY);
  }

  private static Boolean stickyBit(Path directory) {
    try {
      Object mode = Files.getAttribute(directory, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      return mode instanceof Integer bits && (bits & 01000) != 0;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * The password in {@code passwordFile}, made when missing. A database written before passwords
   * (an empty one, or the configured one) gets the new password set before the file appears.
   */
  private static String password(Path passwordFile, Config config, Path dataFile) throws IOException {
    if (Files.exists(passwordFile)) {
      return readPassword(passwordFile);
    }
    String password = Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes());
    Path temporary = passwordFile.resolveSibling(passwordFile.getFileName() + "." + Long.toHexString(RANDOM.nextLong()));
    createOwnerOnly(temporary);
    try {
      Files.writeString(temporary, password + "\n", StandardCharsets.US_ASCII);
      if (Files.size(dataFile) > 0) {
        setPassword(config, dataFile, password);
      }
      try {
        // A hard link appears whole or not at all: a second process starting now reads either none or this one.
        Files.createLink(passwordFile, temporary);
      } catch (FileAlreadyExistsException e) {
        return readPassword(passwordFile); // another process made it first
      }
      return password;
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  private static String readPassword(Path passwordFile) throws IOException {
    if (posix(passwordFile) && !Files.getPosixFilePermissions(passwordFile).equals(OWNER_FILE)) {
      setPermissions(passwordFile, OWNER_FILE);
    }
    String password = Files.readString(passwordFile, StandardCharsets.US_ASCII).strip();
    if (password.isEmpty()) {
      throw new IllegalStateException(passwordFile + " is empty: it holds the embedded journal's password."
          + " Restore it from a backup of the journal's directory");
    }
    return password;
  }

  /** Sets the password of a database made before this version (which had the configured one, by default none). */
  private static void setPassword(Config config, Path dataFile, String password) throws IOException {
    String url = config.getString(DB_CONFIG + ".url");
    String user = config.getString(DB_CONFIG + ".user");
    String old = config.hasPath(DB_CONFIG + ".password") ? config.getString(DB_CONFIG + ".password") : "";
    try (Connection connection = DriverManager.getConnection(url, user, old);
        Statement statement = connection.createStatement()) {
      statement.execute("ALTER USER \"" + user.toUpperCase(Locale.ROOT).replace("\"", "\"\"") + "\" SET PASSWORD '"
          + password + "'");
    } catch (SQLException e) {
      throw new IllegalStateException("the embedded journal " + dataFile + " has no password file yet and does not"
          + " open with the configured password, so its new password cannot be set (" + e.getMessage() + ")", e);
    }
  }

  /** H2's auto-server must listen on loopback only: a remote connection would bypass the file permissions. */
  static void requireLoopbackAutoServer(String url) {
    if (!url.toUpperCase(Locale.ROOT).contains("AUTO_SERVER=TRUE")) {
      return;
    }
    String bind = org.h2.engine.SysProperties.BIND_ADDRESS;
    try {
      if (bind != null && !bind.isBlank() && InetAddress.getByName(bind).isLoopbackAddress()) {
        return;
      }
    } catch (UnknownHostException e) {
      // not loopback: refused below
    }
    throw new IllegalStateException("the embedded journal's auto-server would listen on " + (bind == null || bind.isBlank()
        ? "every interface" : bind) + ": start the JVM with -D" + BIND_ADDRESS_PROPERTY + "=127.0.0.1, or set"
        + " certmail.journal.embedded.auto-server = false when only one process uses the journal");
  }

  private static byte[] randomBytes() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return bytes;
  }

  private static void createOwnerOnly(Path file) throws IOException {
    if (posix(file.getParent())) {
      Files.createFile(file, attribute(OWNER_FILE));
      setPermissions(file, OWNER_FILE);
    } else {
      Files.createFile(file);
    }
  }

  private static boolean posix(Path path) {
    return path.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  private static FileAttribute<?>[] attribute(Set<PosixFilePermission> permissions) {
    return FileSystemsPosix.SUPPORTED ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)}
        : new FileAttribute<?>[0];
  }

  private static void setPermissions(Path path, Set<PosixFilePermission> permissions) throws IOException {
    if (posix(path)) {
      Files.setPosixFilePermissions(path, permissions);
    }
  }

  private static final class FileSystemsPosix {
    static final boolean SUPPORTED = java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }
}
