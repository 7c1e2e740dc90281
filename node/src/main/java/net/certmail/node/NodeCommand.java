package net.certmail.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import net.certmail.node.http.NodeEndpoints;
import net.certmail.node.runtime.CertmailNode;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import sun.misc.Signal;

/** {@code certmail node --config FILE}: one node of a network, until SIGTERM or Ctrl-C. */
@Command(name = "node", mixinStandardHelpOptions = true,
    description = {
        "Start one certmail node of a network and run it until SIGTERM or Ctrl-C.",
        "",
        "The node joins the cluster (its seed nodes), runs the entities of its organisations, serves the HTTP"
            + " API for its mailboxes, and serves /alive, /ready and /metrics (Prometheus) on its management"
            + " port. On SIGTERM or Ctrl-C it leaves the cluster gracefully (its entities move to the"
            + " organisation's other nodes) and exits 0. Logs go to stderr at INFO (CERTMAIL_LOG_LEVEL"
            + " overrides)."},
    footer = {"%nExample (the local network, keys first):",
        "  certmail keys init --out var/local/keys \\",
        "      --network cluster-config/src/main/resources/networks/local-network.conf",
        "  certmail node --config cluster-config/local/alpha-1.conf"})
final class NodeCommand implements Callable<Integer> {
  /** Why coordinated shutdown ran when the operator asked for the stop: the exit code is then 0. */
  private static final CoordinatedShutdown.Reason SIGNALLED = new CoordinatedShutdown.Reason() {
    @Override
    public String toString() {
      return "SIGTERM or Ctrl-C";
    }
  };

  @Option(names = "--config", required = true, paramLabel = "FILE",
      description = "The node's configuration, e.g. cluster-config/local/alpha-1.conf.")
  Path config;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (System.getenv("CERTMAIL_LOG_LEVEL") == null) {
      // logback.xml keeps the other commands quiet (WARN); a server's operator wants INFO.
      ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).setLevel(Level.INFO);
    }
    Config settings;
    try {
      settings = CertmailNode.parse(config);
    } catch (IllegalArgumentException e) {
      throw new UserInputException(e.getMessage(), e);
    }
    // The node stops by coordinated shutdown, then this command returns its exit code: the
    // JVM must not be halted from inside the shutdown.
    settings = settings.withValue("pekko.coordinated-shutdown.exit-jvm", ConfigValueFactory.fromAnyRef(false));
    CertmailNode node;
    try {
      node = CertmailNode.start(settings, Clock.systemUTC(), null);
    } catch (IllegalArgumentException e) {
      // A missing key directory or organisation: the configuration must change, not the network.
      throw new UserInputException(e.getMessage() + " (in " + config + ")", e);
    }
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(Adapter.toClassic(node.system()));
    // A handler of our own rather than the JVM's shutdown hook: in a hook the exit code is 143,
    // and this way SIGTERM runs the same graceful leave and the command exits 0.
    for (String signal : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(signal), received -> shutdown.runAll(SIGNALLED));
    }
    NodeEndpoints endpoints;
    try {
      endpoints = NodeEndpoints.start(node, node.clock());
    } catch (Exception e) {
      node.close();
      throw e;
    }
    LoggerFactory.getLogger(NodeCommand.class).info("node {} ({}) is up at {}: HTTP API {}, health {}/ready;"
            + " mailboxes {}", node.name(), String.join(", ", node.organisations()), node.address(),
        endpoints.apiUri(), endpoints.managementUri(), node.hostedMailboxes());
    node.stopped().toCompletableFuture().join(); // not whenTerminated: see CertmailNode.whenStopped
    boolean asked = shutdown.getShutdownReason().map(reason -> reason == SIGNALLED).orElse(false);
    if (!asked) {
      spec.commandLine().getErr().println("certmail node: the node stopped by itself ("
          + shutdown.getShutdownReason().map(Object::toString).orElse("unknown reason")
          + "), e.g. downed by the split brain resolver; see the log above and restart it");
      return CertmailCli.FAILED;
    }
    return CertmailCli.OK;
  }
}
