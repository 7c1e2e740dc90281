package net.certmail.node.fuzz;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A mutation fuzzer over several targets, round-robin: each target starts from its seeds, and an
 * input that produced an outcome the target had not shown before joins its pool (so inputs that
 * get past the parser into the verifier are mutated further). Deterministic for a given seed.
 */
public final class Fuzzer {
  /** Time each target runs before the next one's turn. */
  private static final long SLICE_NANOS = 50_000_000L;
  private static final int POOL_LIMIT = 512;
  private static final int MAX_INPUT = 64 * 1024;

  /** A crash: the target, what escaped, and the input (base64) that reproduces it. */
  public record Finding(String target, String problem, String inputBase64) {}

  /**
   * @param crashes inputs that crashed a target
   * @param findings the distinct crashes (target, exception type, where it was thrown), each with its first input
   */
  public record Result(long inputs, Map<String, Long> inputsByTarget, long crashes, List<Finding> findings) {}

  /** Progress while running: inputs so far, crashes so far. */
  public interface Progress {
    void report(long inputs, long crashes, Map<String, Long> inputsByTarget);
  }

  private final List<FuzzTarget> targets;
  private final long seed;

  public Fuzzer(List<FuzzTarget> targets, long seed) {
    this.targets = List.copyOf(targets);
    this.seed = seed;
  }

  /** Runs until {@code duration} has passed or {@code maxInputs} inputs ran (0: no limit). */
  public Result run(Duration duration, long maxInputs, Progress progress, Duration progressEvery) {
    Random random = new Random(seed);
    Mutator mutator = new Mutator(random, MAX_INPUT);
    Map<String, Long> counts = new LinkedHashMap<>();
    List<List<byte[]>> pools = new ArrayList<>();
    List<Set<String>> outcomes = new ArrayList<>();
    List<Finding> findings = new ArrayList<>();
    Set<String> reported = new HashSet<>();
    long[] crashes = {0};
    long inputs = 0;
    for (FuzzTarget target : targets) {
      counts.put(target.name(), 0L);
      pools.add(new ArrayList<>(target.seeds()));
      outcomes.add(new HashSet<>());
      for (byte[] seedInput : target.seeds()) { // the seeds themselves must pass
        inputs++;
        counts.merge(target.name(), 1L, Long::sum);
        execute(target, seedInput, outcomes.get(outcomes.size() - 1), null, findings, reported, crashes);
      }
    }
    long start = System.nanoTime();
    long end = start + duration.toNanos();
    long nextProgress = start + progressEvery.toNanos();
    while (System.nanoTime() < end && (maxInputs <= 0 || inputs < maxInputs)) {
      for (int t = 0; t < targets.size(); t++) {
        FuzzTarget target = targets.get(t);
        List<byte[]> pool = pools.get(t);
        // Each target gets the same time, not the same count: a parser runs thousands of inputs
        // while a bundle's certificate chains are validated once.
        long sliceEnd = Math.min(end, System.nanoTime() + SLICE_NANOS);
        for (int i = 0; (i % 16 != 0 || System.nanoTime() < sliceEnd) && (maxInputs <= 0 || inputs < maxInputs); i++) {
          byte[] input = mutator.mutate(pool.get(random.nextInt(pool.size())), pool);
          inputs++;
          counts.merge(target.name(), 1L, Long::sum);
          execute(target, input, outcomes.get(t), pool, findings, reported, crashes);
        }
      }
      if (progress != null && System.nanoTime() >= nextProgress) {
        progress.report(inputs, crashes[0], counts);
        nextProgress = System.nanoTime() + progressEvery.toNanos();
      }
    }
    return new Result(inputs, java.util.Collections.unmodifiableMap(new LinkedHashMap<>(counts)), crashes[0], List.copyOf(findings));
  }

  private static void execute(FuzzTarget target, byte[] input, Set<String> outcomes, List<byte[]> pool,
                              List<Finding> findings, Set<String> reported, long[] crashes) {
    try {
      String outcome = target.run(input);
      if (outcomes.add(outcome) && pool != null && pool.size() < POOL_LIMIT) {
        pool.add(input);
      }
    } catch (StackOverflowError | Exception | AssertionError | OutOfMemoryError e) {
      crashes[0]++;
      // The same crash (target, type, first frame) is reported once, with its first input.
      StackTraceElement[] trace = e.getStackTrace();
      String key = target.name() + "|" + e.getClass().getName() + "|" + (trace.length > 0 ? trace[0] : "");
      if (reported.add(key)) {
        String problem = e.getClass().getName() + ": " + e.getMessage() + (trace.length > 0 ? " at " + trace[0] : "");
        findings.add(new Finding(target.name(), problem, Base64.getEncoder().encodeToString(input)));
      }
    }
  }
}
