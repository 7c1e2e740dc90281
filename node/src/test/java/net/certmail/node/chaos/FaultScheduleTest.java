package net.certmail.node.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FaultScheduleTest {
  private static final List<String> WITHOUT_CASSANDRA = FaultSchedule.KINDS.stream()
      .filter(kind -> !kind.equals("cassandra")).toList();

  @Test
  void everyRoundInjectsEveryKindOnceInASeededOrder() {
    for (long seed = 0; seed < 50; seed++) {
      FaultSchedule schedule = new FaultSchedule(FaultSchedule.KINDS, new Random(seed));
      for (int round = 0; round < 3; round++) {
        List<String> drawn = new ArrayList<>();
        for (int i = 0; i < FaultSchedule.KINDS.size(); i++) {
          drawn.add(schedule.next(kind -> true));
        }
        assertEquals(new HashSet<>(FaultSchedule.KINDS), new HashSet<>(drawn), "seed " + seed + " round " + round);
        assertEquals(FaultSchedule.KINDS.size(), drawn.size());
        if (round == 0) {
          // While the cluster is still whole: the one-way cut first, the journal (slowest) last.
          assertEquals("partition-one-way", drawn.get(0), "seed " + seed);
          assertEquals("cassandra", drawn.get(drawn.size() - 1), "seed " + seed);
        }
      }
    }
  }

  @Test
  void theSameSeedGivesTheSameOrderAndSeedsDiffer() {
    Set<List<String>> orders = new HashSet<>();
    for (long seed = 0; seed < 20; seed++) {
      assertEquals(firstRounds(seed), firstRounds(seed));
      orders.add(firstRounds(seed));
    }
    assertEquals(true, orders.size() > 5, "seeds draw different orders: " + orders.size());
  }

  @Test
  void aKindTheClusterCannotTakeYetWaitsWhileTheOthersGoFirst() {
    FaultSchedule schedule = new FaultSchedule(WITHOUT_CASSANDRA, new Random(11));
    // One node is still coming back: kinds that need the whole cluster wait, the rest go on.
    int notReady = 1;
    List<String> drawn = new ArrayList<>();
    String kind;
    while ((kind = schedule.next(k -> notReady <= FaultSchedule.notReadyAllowed(k))) != null) {
      drawn.add(kind);
    }
    assertEquals(Set.of("kill", "pause", "partition", "envelopes", "clock-skew"), new HashSet<>(drawn));
    assertEquals(List.of("partition-one-way"), schedule.pending());
    // Whole again: the one that waited comes before the next round.
    assertEquals("partition-one-way", schedule.next(k -> true));
    // A kind that found no target after all comes first again.
    String first = schedule.next(k -> true);
    schedule.again(first);
    assertEquals(first, schedule.next(k -> true));
    assertNull(new FaultSchedule(List.of("cassandra"), new Random(1)).next(k -> false));
  }

  @Test
  void spacingSpreadsTheFirstRoundOverTheRunButNeverBelowTheLongestHold() {
    // 3 minutes less the 25 s at both ends, six kinds (no journal faults).
    assertEquals(25_833, FaultSchedule.spacingMillis(155_000, 6, 22_000));
    assertEquals(22_000, FaultSchedule.spacingMillis(60_000, 6, 22_000));
    assertEquals(257_142, FaultSchedule.spacingMillis(1_800_000, 7, 22_000));
  }

  @Test
  void unknownKindsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new FaultSchedule(List.of("kill", "meteor"), new Random(1)));
    assertThrows(IllegalArgumentException.class, () -> new FaultSchedule(List.of(), new Random(1)));
  }

  private static List<String> firstRounds(long seed) {
    FaultSchedule schedule = new FaultSchedule(WITHOUT_CASSANDRA, new Random(seed));
    List<String> drawn = new ArrayList<>();
    for (int i = 0; i < 2 * WITHOUT_CASSANDRA.size(); i++) {
      drawn.add(schedule.next(kind -> true));
    }
    return drawn;
  }
}
