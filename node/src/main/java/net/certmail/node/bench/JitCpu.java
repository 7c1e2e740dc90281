package net.certmail.node.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * CPU time a JVM's JIT compiler threads have used, read from Linux's /proc (HotSpot names them
 * "C1 CompilerThreadN" and "C2 CompilerThreadN"). Three node JVMs sharing 2 cores compile for
 * minutes under a steady load: measured 30-50 % of each node's CPU three minutes in, under 5 %
 * after six. A throughput measured before that measures the JIT.
 */
final class JitCpu {
  /** Linux's USER_HZ, the unit of utime and stime in /proc/<pid>/task/<tid>/stat. */
  private static final long TICKS_PER_SECOND = 100;

  private JitCpu() {}

  /** Empty where there is no /proc (not Linux) or the process is gone. */
  static Optional<Duration> of(long pid) {
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    if (!Files.isDirectory(tasks)) {
      return Optional.empty();
    }
    long ticks = 0;
    try (Stream<Path> threads = Files.list(tasks)) {
      for (Path thread : threads.toList()) {
        ticks += compilerTicks(thread);
      }
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
    return Optional.of(Duration.ofMillis(ticks * 1000 / TICKS_PER_SECOND));
  }

  private static long compilerTicks(Path thread) {
    try {
      if (!Files.readString(thread.resolve("comm")).contains("CompilerThre")) {
        return 0;
      }
      // After the command in parentheses: state is field 3, utime 14 and stime 15 of the line.
      String stat = Files.readString(thread.resolve("stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
      return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    } catch (IOException | RuntimeException e) {
      return 0; // the thread ended while we looked
    }
  }
}
