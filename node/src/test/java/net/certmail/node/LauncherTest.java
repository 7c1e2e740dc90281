package net.certmail.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher script {@code ./certmail}, run by bash on a small project laid out like this one,
 * with a stand-in for {@code ./mvnw} that counts builds and a stand-in for {@code java}: it builds
 * when the project's own sources changed, and never for an operator's files.
 */
class LauncherTest {
  @TempDir
  Path root;

  @BeforeEach
  void project() throws IOException {
    Files.copy(launcher(), root.resolve("certmail"), StandardCopyOption.COPY_ATTRIBUTES);
    write("pom.xml", """
        <project>
          <modules>
            <module>crypto</module>
            <module>cluster-config</module>
            <module>node</module>
          </modules>
        </project>
        """);
    write(".mvn/wrapper/maven-wrapper.properties", "distributionUrl=https://example.invalid/maven.zip\n");
    for (String module : new String[] {"crypto", "cluster-config", "node"}) {
      write(module + "/pom.xml", "<project><artifactId>" + module + "</artifactId></project>\n");
    }
    write("crypto/src/main/java/Signer.java", "class Signer {}\n");
    write("crypto/src/test/java/SignerTest.java", "class SignerTest {}\n");
    write("cluster-config/src/main/resources/certmail-node.conf", "certmail.node.name = x\n");
    write("cluster-config/local/alpha-1.conf", "include classpath(\"certmail-node\")\n");
    write("node/src/main/java/Cli.java", "class Cli {}\n");
    // ./mvnw: counts builds, fails when asked to, else writes the jar (cwd: the project root).
    executable("mvnw", """
        #!/bin/sh
        echo build >> builds.log
        [ -f fail-build ] && exit 1
        mkdir -p node/target && echo jar > node/target/certmail.jar
        """);
    executable("jdk/bin/java", "#!/bin/sh\necho \"java $*\"\n");
  }

  @Test
  void buildsWhenTheJarIsMissingThenRunsWithoutBuildingAgain() throws Exception {
    Run first = launch("--version");
    assertEquals(0, first.exitCode, first.err);
    assertEquals(1, builds());
    assertTrue(first.out.contains("-jar " + root.resolve("node/target/certmail.jar") + " --version"), first.out);
    Run second = launch("--version");
    assertEquals(0, second.exitCode, second.err);
    assertEquals(1, builds(), "nothing changed, yet the launcher built again: " + second.err);
  }

  @Test
  void operatorFilesOutsideTheModuleSourcesNeverTriggerABuild() throws Exception {
    launch("--version");
    write("cluster-config/local/my-node.conf", "include classpath(\"certmail-node\")\ncertmail.http.port = 9000\n");
    write("cluster-config/local/alpha-1.conf", "include classpath(\"certmail-node\")\n# edited\n");
    write("my-own-node.conf", "certmail.node.name = mine\n");
    write("var/local/journal/notes.yaml", "x: 1\n");
    write("crypto/src/test/java/SignerTest.java", "class SignerTest { /* edited */ }\n");
    write("README.md", "edited\n");
    launch("--version");
    assertEquals(1, builds());
  }

  @Test
  void aChangedModuleSourceOrPomBuildsOnceThenNoMore() throws Exception {
    launch("--version");
    write("crypto/src/main/java/Signer.java", "class Signer { int changed; }\n");
    launch("--version");
    assertEquals(2, builds(), "a changed source in a module's src/main must rebuild the jar");
    launch("--version");
    assertEquals(2, builds());
    write("node/pom.xml", "<project><artifactId>node</artifactId><!-- changed --></project>\n");
    launch("--version");
    assertEquals(3, builds(), "a changed module pom must rebuild the jar");
    write("cluster-config/src/main/resources/certmail-node.conf", "certmail.node.name = y\n");
    launch("--version");
    assertEquals(4, builds(), "a changed resource of a module must rebuild the jar");
  }

  @Test
  void aSourceTouchedWithoutAChangeDoesNotRebuild() throws Exception {
    launch("--version");
    Path source = root.resolve("crypto/src/main/java/Signer.java");
    Files.setLastModifiedTime(source, FileTime.from(Instant.now().plusSeconds(60)));
    launch("--version");
    launch("--version");
    assertEquals(1, builds(), "git checkout or an editor may touch a file without changing it");
  }

  @Test
  void aFailedBuildExitsOneWithWhatToRunAndBuildsAgainNextTime() throws Exception {
    write("fail-build", "");
    Run failed = launch("--version");
    assertEquals(1, failed.exitCode);
    assertTrue(failed.err.contains("the build failed. Run './mvnw package -DskipTests'"), failed.err);
    Files.delete(root.resolve("fail-build"));
    Run fixed = launch("--version");
    assertEquals(0, fixed.exitCode, fixed.err);
    assertEquals(2, builds());
  }

  @Test
  void aNodeRunsOnTheParallelCollectorUnlessItsOptionsAreGiven() throws Exception {
    Run node = launch("node", "--config", "alpha-1.conf");
    assertTrue(node.out.contains("-XX:+UseParallelGC"), node.out);
    Run g1 = launch(java.util.Map.of("CERTMAIL_NODE_JAVA_OPTS", "-XX:+UseG1GC"), "node", "--config", "alpha-1.conf");
    assertTrue(g1.out.contains("-XX:+UseG1GC") && !g1.out.contains("UseParallelGC"), g1.out);
    Run other = launch("keys", "--help");
    assertFalse(other.out.contains("UseParallelGC") || other.out.contains("UseSerialGC"),
        "only nodes and the audit get a collector: " + other.out);
  }

  private record Run(int exitCode, String out, String err) {}

  private Run launch(String... args) throws Exception {
    return launch(java.util.Map.of(), args);
  }

  private Run launch(java.util.Map<String, String> environment, String... args) throws Exception {
    String[] command = new String[args.length + 2];
    command[0] = "bash";
    command[1] = root.resolve("certmail").toString();
    System.arraycopy(args, 0, command, 2, args.length);
    ProcessBuilder builder = new ProcessBuilder(command).directory(root.toFile());
    builder.environment().put("JAVA_HOME", root.resolve("jdk").toString());
    builder.environment().remove("CERTMAIL_JAVA_OPTS");
    builder.environment().remove("CERTMAIL_NODE_JAVA_OPTS");
    builder.environment().putAll(environment);
    Path out = root.resolve("out.txt");
    Path err = root.resolve("err.txt");
    Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("the launcher did not finish within 30 s");
    }
    return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
  }

  private int builds() throws IOException {
    Path log = root.resolve("builds.log");
    return Files.exists(log) ? (int) Files.readAllLines(log).stream().filter("build"::equals).count() : 0;
  }

  /** Writes a file whose time is clearly after anything written before (file times are coarse on some file systems). */
  private void write(String path, String content) throws IOException {
    Path file = root.resolve(path);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content, StandardCharsets.UTF_8);
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(2)));
  }

  private void executable(String path, String content) throws IOException {
    write(path, content);
    Files.setPosixFilePermissions(root.resolve(path), PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  /** The real launcher: ./certmail at the repository root, above this module. */
  private static Path launcher() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("certmail")) && Files.isRegularFile(dir.resolve("mvnw"))) {
        return dir.resolve("certmail");
      }
    }
    throw new IllegalStateException("no ./certmail launcher above " + Path.of("").toAbsolutePath());
  }
}
