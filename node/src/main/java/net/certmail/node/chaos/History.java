package net.certmail.node.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run's history, Jepsen style: every client operation as an {@code invoke} and its
 * completion — {@code ok} (done), {@code fail} (certainly not done: refused, or the node could not
 * be reached) or {@code info} (unknown: a timeout or a 5xx, it may have happened) — and every
 * nemesis action, each with the time on the checker's clock (the machine's, which no fault
 * skews). Written as JSON lines while the run goes; kept in memory for the checker.
 */
public final class History {
  /** One line of the history. {@code time} is milliseconds since the run's start, {@code wall} epoch millis. */
  public record Op(long index, String process, String type, String f, String mail, long time, long wall,
                   Map<String, Object> value) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private final long startNanos = System.nanoTime();
  private final long startWall = System.currentTimeMillis();
  private final List<Op> ops = new ArrayList<>();
  private final BufferedWriter out;
  private boolean closed;

  public History(Path file) throws IOException {
    this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
  }

  /** The checker's clock: epoch millis, monotonic within the run. */
  public long now() {
    return startWall + (System.nanoTime() - startNanos) / 1_000_000;
  }

  public long startWall() {
    return startWall;
  }

  public synchronized Op add(String process, String type, String f, String mail, Map<String, Object> value) {
    long wall = now();
    Op op = new Op(ops.size(), process, type, f, mail, wall - startWall, wall, value);
    ops.add(op);
    if (closed) {
      return op; // a background thread ending after the run: kept in memory, the file is complete
    }
    try {
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("index", op.index());
      line.put("time", op.time());
      line.put("process", process);
      line.put("type", type);
      line.put("f", f);
      if (mail != null) {
        line.put("mail", mail);
      }
      if (value != null && !value.isEmpty()) {
        line.put("value", value);
      }
      out.write(JSON.writeValueAsString(line));
      out.newLine();
      out.flush(); // a run that is interrupted keeps its history up to the last operation
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the history", e);
    }
    return op;
  }

  public synchronized List<Op> ops() {
    return List.copyOf(ops);
  }

  public synchronized void close() throws IOException {
    closed = true;
    out.close();
  }
}
