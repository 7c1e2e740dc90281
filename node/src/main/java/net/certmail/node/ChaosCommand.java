package net.certmail.node;

import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import net.certmail.node.chaos.ChaosRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code certmail chaos}: a real cluster under faults, a history, and a checker over it and the journal. */
@Command(name = "chaos", mixinStandardHelpOptions = true,
    description = {
        "Run a real cluster under faults and check that no certified mail is lost.",
        "",
        "Runs a real cluster of five node JVMs (alpha.example x2, relay.example x1, beta.example x2) from this jar on"
            + " free ports, send certified mails through the HTTP API for the given duration (CEM, NSR and IP; routes"
            + " of one and three servers; recipients that accept, hold then decide, refuse or never answer; deadlines"
            + " from the minimum up), and let a nemesis drawn from the seed inject faults meanwhile: kill -9 of the"
            + " node hosting entities of mails in flight, SIGSTOP past the failure detector, partitions both ways and"
            + " one way, the journal stopped and started, envelopes dropped, duplicated, delayed and reordered, and"
            + " clock skew within the stated bound.",
        "",
        "Every client operation goes to a history (invoke, ok, fail, info, with times). When every deadline has"
            + " passed, the nodes stop, the journal is audited, and a checker reads history and audit: every"
            + " submission ends with exactly one verdict in time, A's verdict is the origin's, every ROD has the"
            + " recipient's COD, no content before the COD in NSR and IP and every COD holder obtained M, no label"
            + " twice, nothing acknowledged lost, every evidence item verifies, the audit passes. It prints progress,"
            + " writes a text and a JSON report (mails by flavour and outcome, each fault with its times and the"
            + " recovery after it, violations with label and trace) and the history beside them, and exits 1 on any"
            + " violation. The last line is 'chaos: <N> mails, <F> faults (<kinds>), violations <V>'.",
        "",
        "The Cassandra journal is the one on 127.0.0.1:--cassandra-port (CASSANDRA_CQL_PORT or 9042); when none"
            + " answers there, the run starts one with scripts/cassandra.sh and stops it afterwards. The nemesis stops"
            + " and starts only a Cassandra that is the run's own: one it started, or one --cassandra-faults declares"
            + " its alone, and then only when scripts/cassandra.sh, with this environment, reports it as its own. A"
            + " Cassandra that others use (the shared one on 9042) is never stopped: give chaos work a second"
            + " instance with its own CASSANDRA_DIR and ports."},
    footer = {"%nExamples:",
        "  certmail chaos --duration 3m --seed 11",
        "  export CASSANDRA_DIR=var/cassandra-chaos CASSANDRA_CQL_PORT=19042",
        "  export CASSANDRA_STORAGE_PORT=17000 CASSANDRA_JMX_PORT=17199",
        "  scripts/cassandra.sh start",
        "  certmail chaos --duration 45m --seed 7 --rate 4 --cassandra-port 19042 \\",
        "    --cassandra-faults --report var/chaos-long.txt"})
final class ChaosCommand implements Callable<Integer> {
  @Option(names = "--duration", required = true, paramLabel = "D",
      description = "How long mails are sent and faults injected: 90s, 3m, 1h. The run then waits until every"
          + " deadline plus grace has passed (a few minutes more).")
  String duration;

  @Option(names = "--seed", required = true, paramLabel = "S", description = "Seed of the workload and the nemesis.")
  long seed;

  @Option(names = "--journal", defaultValue = "cassandra", paramLabel = "cassandra|embedded",
      description = "The nodes' journal (default: ${DEFAULT-VALUE}). embedded: one H2 file the nodes share; no"
          + " journal faults then.")
  String journal;

  @Option(names = "--report", paramLabel = "FILE",
      description = "The text report; the JSON report goes beside it (same name, .json). Default: report.txt in --dir.")
  Path report;

  @Option(names = "--dir", paramLabel = "DIR",
      description = "Where keys, node files and logs, the history and the audit go (default: var/chaos/<time>-seed<S>).")
  Path dir;

  @Option(names = "--rate", defaultValue = "1.0", paramLabel = "MAILS/S",
      description = "Mails submitted per second (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(names = "--cassandra-port", paramLabel = "PORT",
      description = "CQL port of the Cassandra journal (default: CASSANDRA_CQL_PORT, else 9042).")
  Integer cassandraPort;

  @Option(names = "--cassandra-script", defaultValue = "scripts/cassandra.sh", paramLabel = "FILE",
      description = "The script that starts, stops and reports the journal (default: ${DEFAULT-VALUE}).")
  Path cassandraScript;

  @Option(names = "--cassandra-faults",
      description = "The Cassandra on --cassandra-port is this run's alone: the nemesis may stop and start it (only"
          + " when scripts/cassandra.sh, with this environment, reports it as its own). Without it, only a Cassandra"
          + " the run started itself is stopped; one that answered already is used as it is.")
  boolean cassandraFaults;

  @Option(names = "--node-heap", defaultValue = "320m", paramLabel = "SIZE",
      description = "Heap of each node JVM (default: ${DEFAULT-VALUE}).")
  String nodeHeap;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Duration length = parseDuration(duration);
    if (!journal.equals("cassandra") && !journal.equals("embedded")) {
      throw new UserInputException("--journal is cassandra or embedded, not " + journal);
    }
    if (!(rate > 0 && rate <= 50)) {
      throw new UserInputException("--rate is a number of mails per second above 0 and at most 50");
    }
    int port = cassandraPort != null ? cassandraPort
        : System.getenv("CASSANDRA_CQL_PORT") != null ? Integer.parseInt(System.getenv("CASSANDRA_CQL_PORT")) : 9042;
    Path where = dir != null ? dir : Path.of("var", "chaos",
        LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-seed" + seed);
    var out = spec.commandLine().getOut();
    ChaosRun.Result result = new ChaosRun(new ChaosRun.Options(length, seed, journal, where, report, rate, port,
        cassandraScript, cassandraFaults, List.of("-Xmx" + nodeHeap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")), line -> {
          out.println(line);
          out.flush();
        }).run();
    return result.violations() == 0 ? CertmailCli.OK : CertmailCli.INVALID;
  }

  /** 90s, 3m, 1h, or ISO-8601 (PT3M). */
  static Duration parseDuration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.startsWith("pt")) {
        return positive(Duration.parse(text.trim().toUpperCase(Locale.ROOT)), text);
      }
      long amount = Long.parseLong(t.substring(0, t.length() - 1));
      return positive(switch (t.charAt(t.length() - 1)) {
        case 's' -> Duration.ofSeconds(amount);
        case 'm' -> Duration.ofMinutes(amount);
        case 'h' -> Duration.ofHours(amount);
        default -> throw new NumberFormatException();
      }, text);
    } catch (RuntimeException e) {
      throw new UserInputException("--duration " + text + " is not a duration: write 90s, 3m or 1h", e);
    }
  }

  private static Duration positive(Duration d, String text) {
    if (d.isNegative() || d.isZero() || d.compareTo(Duration.ofHours(24)) > 0) {
      throw new UserInputException("--duration " + text + " must lie between 1 s and 24 h");
    }
    return d;
  }
}
