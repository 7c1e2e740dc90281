package net.certmail.node.chaos;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;

/**
 * The nemesis' plan, drawn from the seed: rounds, each a seeded permutation of every fault kind the
 * run may inject, so that each kind comes once per round; fault starts spaced so that the first
 * round fits in the run. A kind the cluster cannot take yet (it needs nodes that are still
 * recovering from an earlier fault) waits for its turn while the next kind that it can take goes
 * first. Pure: no clock, no cluster.
 */
final class FaultSchedule {
  /** Every kind, in the order the report and the help name them. */
  static final List<String> KINDS = List.of("kill", "pause", "partition", "partition-one-way", "cassandra",
      "envelopes", "clock-skew");

  /** What a kind needs before it may begin: how many nodes may be not ready at that moment. */
  static int notReadyAllowed(String kind) {
    return switch (kind) {
      // Each takes one node away: with at most one other still coming back, 3 of 5 stay up, a majority.
      case "kill", "pause", "partition" -> 1;
      // A one-way cut the resolver acted on would down both of its ends (indirectly connected
      // nodes); a stopped journal stalls every node. Both only while the cluster is whole.
      case "partition-one-way", "cassandra" -> 0;
      // Envelope faults and clock skew take no node away.
      default -> Integer.MAX_VALUE;
    };
  }

  private final List<String> kinds;
  private final Random random;
  private final List<String> round = new ArrayList<>();
  private boolean firstRound = true;

  /** @param kinds the kinds this run may inject (without "cassandra" when the run may not stop it) */
  FaultSchedule(List<String> kinds, Random random) {
    if (kinds.isEmpty() || !KINDS.containsAll(kinds)) {
      throw new IllegalArgumentException("fault kinds must be some of " + KINDS + ", not " + kinds);
    }
    this.kinds = List.copyOf(kinds);
    this.random = random;
  }

  /**
   * Time between two fault starts: the first round spread over the window, but never closer than
   * {@code minimumMillis} (a fault's own hold time, when it blocks the nemesis, comes on top).
   */
  static long spacingMillis(long windowMillis, int kinds, long minimumMillis) {
    return Math.max(minimumMillis, windowMillis / Math.max(1, kinds));
  }

  /**
   * The next kind to inject: the first of the current round that {@code canTake} accepts (it is
   * removed from the round), or null when the cluster can take none of them now.
   */
  String next(Predicate<String> canTake) {
    if (round.isEmpty()) {
      newRound();
    }
    for (int i = 0; i < round.size(); i++) {
      if (canTake.test(round.get(i))) {
        return round.remove(i);
      }
    }
    return null;
  }

  /** Puts a kind that could not be injected after all back at the front of the round. */
  void again(String kind) {
    round.add(0, kind);
  }

  /** The kinds still to come in the current round, in order. */
  List<String> pending() {
    return List.copyOf(round);
  }

  private void newRound() {
    round.addAll(kinds);
    Collections.shuffle(round, random);
    if (firstRound) {
      // The kinds that need the whole cluster go first while it still is, in the order drawn;
      // the stopped journal, the slowest to recover from, last, so a short run sees the others.
      List<String> whole = new ArrayList<>(round.stream().filter(k -> notReadyAllowed(k) == 0
          && !k.equals("cassandra")).toList());
      round.removeAll(whole);
      round.addAll(0, whole);
      if (round.remove("cassandra")) {
        round.add("cassandra");
      }
      firstRound = false;
    }
  }
}
