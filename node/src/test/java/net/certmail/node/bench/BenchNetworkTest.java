package net.certmail.node.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import net.certmail.node.cluster.LocalCluster;
import org.junit.jupiter.api.Test;

/** The node JVMs of a benchmark: a heap fixed from the start, and a GC log of each. */
class BenchNetworkTest {

  @Test
  void theHeapIsFixedFromTheStartAndEachNodeLogsItsCollections() {
    Path nodes = Path.of("var", "bench", "run", "nodes");
    List<String> options = BenchNetwork.jvmOptions("2g", nodes);
    assertEquals(List.of("-Xms2g", "-Xmx2g"), options.subList(0, 2), options.toString());
    String gcLog = options.get(2); // LocalCluster puts each node's name in place of NODE_NAME
    assertTrue(gcLog.startsWith("-Xlog:gc:file=" + nodes.toAbsolutePath().resolve(LocalCluster.NODE_NAME + "-gc-%p.log")),
        gcLog);
  }
}
