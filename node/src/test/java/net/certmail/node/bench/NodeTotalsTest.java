package net.certmail.node.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What bench load reads from the nodes' /metrics around a step: signatures, and the collectors' pauses. */
class NodeTotalsTest {

  private static String metrics(double signed, double verified, double minorPauses, double majorPauses) {
    return """
        # HELP certmail_signatures_total Signatures made and checked
        certmail_signatures_total{operation="sign",use="envelope",} %s
        certmail_signatures_total{operation="verify",use="evidence",} %s
        jvm_gc_pause_seconds_count{action="end of minor GC",cause="Allocation Failure",gc="PS Scavenge",} 12.0
        jvm_gc_pause_seconds_sum{action="end of minor GC",cause="Allocation Failure",gc="PS Scavenge",} %s
        jvm_gc_pause_seconds_sum{action="end of major GC",cause="Ergonomics",gc="PS MarkSweep",} %s
        jvm_gc_pause_seconds_max{action="end of major GC",cause="Ergonomics",gc="PS MarkSweep",} 9.0
        """.formatted(signed, verified, minorPauses, majorPauses);
  }

  @Test
  void signaturesAreSummedOverTheNodesAndPausesKeptPerNode() {
    Map<String, String> before = new LinkedHashMap<>();
    before.put("alpha-1", metrics(100, 200, 1.0, 0.5));
    before.put("beta-1", metrics(10, 20, 0.25, 0));
    Map<String, String> after = new LinkedHashMap<>();
    after.put("alpha-1", metrics(150, 260, 1.8, 1.0));
    after.put("beta-1", metrics(20, 40, 0.35, 0));

    LoadBenchCommand.NodeTotals first = LoadBenchCommand.NodeTotals.of(before);
    LoadBenchCommand.NodeTotals second = LoadBenchCommand.NodeTotals.of(after);

    assertEquals(110, first.made(), 1e-9);
    assertEquals(220, first.checked(), 1e-9);
    assertEquals(1.5, first.gcPauseSeconds().get("alpha-1"), 1e-9, "minor and major pauses, not the max");
    Map<String, Double> percent = second.gcPausePercent(first, 10);
    assertEquals(13.0, percent.get("alpha-1"), 1e-9); // 1.3 s of 10
    assertEquals(1.0, percent.get("beta-1"), 1e-9);
  }
}
