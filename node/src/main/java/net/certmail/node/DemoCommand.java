package net.certmail.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import net.certmail.actors.CertmailEngine;
import net.certmail.actors.MailStatus;
import net.certmail.crypto.BundleVerifier;
import net.certmail.crypto.EvidenceBundles;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.NetworkDescription;
import net.certmail.crypto.VerificationException;
import net.certmail.crypto.VerifiedEvidence;
import net.certmail.node.http.NodeEndpoints;
import net.certmail.node.http.TokenStore;
import net.certmail.node.runtime.CertmailNode;
import net.certmail.persistence.JournalBackend;
import net.certmail.persistence.audit.JournalAudit;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.EvidenceBundle;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import net.certmail.proto.v1.SignedEvidence;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The main job: the sample local network on the embedded journal, with real certified mails in
 * every flavour and every failure case, their evidence, a verified bundle and a summary.
 */
@Command(name = "demo",
    mixinStandardHelpOptions = true,
    description = {
        "The main job: the local network with certified mails in every flavour and failure case.",
        "",
        "Starts the local network (3 nodes in this JVM: alpha-1, relay-1, beta-1) on the embedded journal,"
            + " sends certified mails in every flavour (CEM, NSR, IP) over routes of 1 and 3 servers, and the"
            + " failure cases: a recipient that refuses, one that never answers, an unreachable server and a"
            + " deadline too short. Prints each mail's route, final status and evidence chain, exports and"
            + " verifies one evidence bundle, and audits the whole journal (every signature re-verified, every"
            + " protocol rule checked). Exit code 0 when every mail ends as expected."})
final class DemoCommand implements Callable<Integer> {

  @Option(names = "--dir", description = "Where keys, journal and bundle go (default: var/demo/<time>).")
  Path dir;

  @Option(names = "--serve", description = "Keep the network and its web pages running after the demo, until Ctrl-C:"
      + " sign in as alice or bob with the tokens printed and look at the demo's mails in the browser.")
  boolean serve;

  @Spec
  CommandSpec spec;

  /** One mail of the demo: who to, which flavour, and the outcome the protocol must reach. */
  record Scenario(String name, String recipient, Flavour flavour, Duration lead, DeliveryStatus expectedStatus,
                  ReasonCode expectedReason) {}

  static final String SENDER = "alice@alpha.example";

  /** " (REASON)" after a status that has one. */
  private static String reasonText(MailStatus status) {
    return status.hasReason() ? " (" + status.reason().name() + ")" : "";
  }

  static final List<Scenario> SCENARIOS = List.of(
      new Scenario("CEM to bob, 3 servers", "bob@beta.example", Flavour.CEM, Duration.ofSeconds(60), DeliveryStatus.DELIVERED,
          ReasonCode.REASON_UNSPECIFIED),
      new Scenario("NSR to bob, 3 servers", "bob@beta.example", Flavour.NSR, Duration.ofSeconds(60), DeliveryStatus.DELIVERED,
          ReasonCode.REASON_UNSPECIFIED),
      new Scenario("IP to bob, 3 servers", "bob@beta.example", Flavour.IP, Duration.ofSeconds(60), DeliveryStatus.DELIVERED,
          ReasonCode.REASON_UNSPECIFIED),
      new Scenario("IP to anna, 1 server", "anna@alpha.example", Flavour.IP, Duration.ofSeconds(60), DeliveryStatus.DELIVERED,
          ReasonCode.REASON_UNSPECIFIED),
      new Scenario("CEM to dave, who refuses", "dave@beta.example", Flavour.CEM, Duration.ofSeconds(60),
          DeliveryStatus.NOT_DELIVERED, ReasonCode.RECIPIENT_REFUSED),
      new Scenario("NSR to carol, who never answers", "carol@beta.example", Flavour.NSR, Duration.ofSeconds(60),
          DeliveryStatus.NOT_DELIVERED, ReasonCode.RECIPIENT_DID_NOT_ACKNOWLEDGE),
      new Scenario("CEM to dan, server unreachable", "dan@offline.example", Flavour.CEM, Duration.ofSeconds(60),
          DeliveryStatus.NOT_DELIVERED, ReasonCode.RELAY_UNREACHABLE),
      new Scenario("CEM with a deadline too short", "bob@beta.example", Flavour.CEM, Duration.ofSeconds(5),
          DeliveryStatus.NOT_DELIVERED, ReasonCode.DEADLINE_NOT_ACCEPTABLE));

  /** Short protocol timings, so every outcome shows within a minute. */
  static final String DEMO_TIMINGS = """
      include classpath("certmail-demo-timings.conf")
      # Pekko's own warnings (a shard region for the offline organisation, connections closing as
      # the nodes stop) are expected in the demo; certmail's own warnings still show.
      pekko.loglevel = "ERROR"
      pekko.stdout-loglevel = "OFF"
      pekko.log-dead-letters = off
      pekko.log-dead-letters-during-shutdown = off
      pekko.remote.artery.canonical.port = 0
      pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
      pekko.coordinated-shutdown.exit-jvm = off
      """;

  private long startedAt;
  private PrintWriter out;

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    startedAt = System.nanoTime();
    Path home = dir != null ? dir
        : Path.of("var", "demo", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    Files.createDirectories(home);
    home = home.toAbsolutePath();

    step("1/6", "creating the network CA and every principal's keys in " + home.resolve("keys"));
    NetworkDescription network = NetworkDescription.parse(resource("networks/local-network.conf"));
    KeyDirectory.initNetwork(network, home.resolve("keys"), new KeyDirectory.InitOptions(
        KeyDirectory.InitOptions.defaults().algorithm(), Duration.ofDays(365), Clock.systemUTC(), false,
        line -> out.println("      " + line)));

    step("2/6", "starting alpha-1 (alpha.example), relay-1 (relay.example), beta-1 (beta.example)"
        + " on the embedded journal " + home.resolve("journal"));
    List<CertmailNode> nodes = new ArrayList<>();
    try {
      CertmailNode alpha = CertmailNode.start(nodeSettings(home, "alpha-1", "alpha.example"), Clock.systemUTC(), null);
      nodes.add(alpha);
      out.println("      alpha-1 up at " + alpha.address());
      for (String[] node : new String[][] {{"relay-1", "relay.example"}, {"beta-1", "beta.example"}}) {
        CertmailNode started = CertmailNode.start(nodeSettings(home, node[0], node[1]), Clock.systemUTC(),
            alpha.address());
        nodes.add(started);
        out.println("      " + node[0] + " up at " + started.address());
      }
      webPages(home, alpha, nodes.get(2));
      int result = run(alpha, home);
      if (serve) {
        out.println();
        out.println("Serving the network and its web pages (above) until Ctrl-C.");
        out.flush();
        alpha.stopped().toCompletableFuture().join();
      }
      return result;
    } finally {
      step("--", "stopping the nodes");
      for (int i = nodes.size() - 1; i >= 0; i--) {
        nodes.get(i).close();
      }
    }
  }

  private int run(CertmailNode alpha, Path home) throws Exception {
    CertmailEngine engine = alpha.engine();
    EvidenceVerifier verifier = new EvidenceVerifier(alpha.keys().trustStore());
    step("3/6", "alice@alpha.example sends " + SCENARIOS.size() + " certified mails");
    Map<String, Scenario> submitted = new LinkedHashMap<>();
    String run = Long.toString(System.currentTimeMillis(), 36);
    for (int i = 0; i < SCENARIOS.size(); i++) {
      Scenario scenario = SCENARIOS.get(i);
      String id = "demo-" + run + "-" + (i + 1);
      MailItem item = MailItem.newBuilder().setSubject(scenario.name())
          .setBody("Dear " + scenario.recipient() + ",\nthis is certified mail number " + (i + 1) + ".\n")
          .setContentType("text/plain; charset=utf-8").build();
      long deadline = System.currentTimeMillis() + scenario.lead().toMillis();
      engine.submit(SENDER, id, scenario.recipient(), item, deadline, scenario.flavour())
          .toCompletableFuture().get(15, TimeUnit.SECONDS);
      submitted.put(id, scenario);
      out.printf("      %-34s submitted as %s%n", scenario.name(), id);
    }

    step("4/6", "waiting for every verdict (deliveries, refusals and timeouts; about 20 s)");
    Map<String, MailStatus> finals = awaitVerdicts(engine, submitted);

    int asExpected = 0;
    String bundleLabel = null;
    List<SignedEvidence> bundleItems = List.of();
    for (Map.Entry<String, Scenario> entry : submitted.entrySet()) {
      Scenario scenario = entry.getValue();
      MailStatus status = finals.get(entry.getKey());
      boolean expected = status.status() == scenario.expectedStatus()
          && status.reason() == scenario.expectedReason();
      asExpected += expected ? 1 : 0;
      out.println();
      out.printf("  %s %s%n", expected ? "OK " : "!! ", scenario.name());
      out.printf("      label   %s%n", status.label().isEmpty() ? "(none: no label was issued)" : status.label());
      out.printf("      status  %s%s%s%n", status.status(), reasonText(status),
          expected ? "" : "   expected " + scenario.expectedStatus() + " " + scenario.expectedReason());
      List<SignedEvidence> items = new ArrayList<>();
      for (byte[] bytes : status.evidence()) {
        items.add(SignedEvidence.parseFrom(bytes));
      }
      for (SignedEvidence item : items) {
        out.println("      " + describe(verifier, item));
      }
      if (bundleLabel == null && status.status() == DeliveryStatus.DELIVERED && scenario.flavour() == Flavour.CEM) {
        bundleLabel = status.label();
        bundleItems = items;
      }
    }

    step("5/6", "exporting the evidence bundle of " + bundleLabel + " and verifying it offline");
    Path bundleFile = home.resolve("delivered.cmbundle");
    EvidenceBundle bundle = EvidenceBundles.of(bundleLabel, bundleItems, alpha.keys().trustStore());
    EvidenceBundles.write(bundle, bundleFile);
    // Checked against the network CA this demo made (what a third party passes with --ca), not the bundle's own.
    BundleVerifier.Report report = BundleVerifier.verify(EvidenceBundles.read(bundleFile),
        java.util.Optional.of(alpha.keys().trustStore().caCertificate()));
    for (BundleVerifier.ItemReport item : report.items()) {
      out.printf("      %d. %-10s %s%n", item.number(), item.failure().isPresent() ? "INVALID" : "VALID",
          item.proves());
    }
    out.println("      written to " + bundleFile + "; check it again with: ./certmail verify " + bundleFile
        + " --ca " + home.resolve("keys").resolve("ca").resolve("ca.pem"));

    step("6/6", "auditing the journal: replay every entity, re-verify every signature, check every rule");
    // Every sender holds its verdict, so every origin has persisted its own: the audit's rules hold
    // now. Receipts still in flight between servers add events, not evidence.
    JournalAudit.Report audit = JournalAudit.run(alpha.system(), JournalBackend.EMBEDDED, alpha.keys().trustStore(),
        Instant.now(), progress -> { });
    audit.summary().forEach(line -> out.println("      " + line));
    audit.result().violations().forEach(violation -> out.println("      " + violation.describe()));
    Path auditReport = home.resolve("audit.json");
    audit.writeJson(auditReport);
    out.println("      report written to " + auditReport);

    out.println();
    boolean allGood = asExpected == SCENARIOS.size() && report.verdict() == BundleVerifier.Verdict.VALID && audit.result().passed();
    out.printf("Summary: %d of %d mails reached the expected verdict; bundle %s; audit %s; %.1f s.%n", asExpected,
        SCENARIOS.size(), report.verdict() == BundleVerifier.Verdict.VALID ? "VALID" : "INVALID", audit.result().passed() ? "PASSED" : "FAILED",
        seconds());
    out.println("Keys, journal, bundle and audit report are in " + home);
    return allGood ? CertmailCli.OK : CertmailCli.FAILED;
  }

  /**
   * The web pages of alice's node (alpha-1) and bob's (beta-1), on free ports, with a token for
   * each: the demo's mails can be followed in the browser while it runs (and after, with --serve).
   */
  private void webPages(Path home, CertmailNode alpha, CertmailNode beta) throws IOException {
    String alphaUri = NodeEndpoints.start(alpha, Clock.systemUTC()).apiUri();
    String betaUri = NodeEndpoints.start(beta, Clock.systemUTC()).apiUri();
    out.println("      web pages (while the demo runs; --serve keeps them up afterwards):");
    out.println("        alice@alpha.example  " + alphaUri + "/ui/  token "
        + TokenStore.issue(home.resolve("keys").resolve("alpha-1"), SENDER));
    out.println("        bob@beta.example     " + betaUri + "/ui/  token "
        + TokenStore.issue(home.resolve("keys").resolve("beta-1"), "bob@beta.example"));
    out.println("        verify a bundle: " + alphaUri + "/ui/verify   the API: " + alphaUri + "/v1/docs");
    out.println("        other tokens: ./certmail keys token --mailbox <mailbox> --keys " + home.resolve("keys")
        + "/<its node: alpha-1 or beta-1>");
  }

  private Map<String, MailStatus> awaitVerdicts(CertmailEngine engine, Map<String, Scenario> submitted)
      throws Exception {
    Map<String, MailStatus> latest = new LinkedHashMap<>();
    long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (System.nanoTime() < until) {
      boolean allFinal = true;
      for (Map.Entry<String, Scenario> entry : submitted.entrySet()) {
        MailStatus status = engine.status(SENDER, entry.getKey()).toCompletableFuture().get(15, TimeUnit.SECONDS);
        MailStatus before = latest.put(entry.getKey(), status);
        if (before == null || before.status() != status.status()) {
          out.printf("      [%5.1f s] %-34s %s%n", seconds(), entry.getValue().name(),
              status.status() + reasonText(status));
        }
        allFinal &= status.isFinal();
      }
      if (allFinal) {
        return latest;
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("not every mail reached a verdict within 90 s; the journal in --dir keeps"
        + " what happened, and ./certmail demo --help explains the scenarios");
  }

  private static String describe(EvidenceVerifier verifier, SignedEvidence item) {
    try {
      VerifiedEvidence verified = verifier.verify(item);
      EvidenceStatement statement = verified.statement();
      String route = statement.getRouteCount() > 0 ? "  route " + String.join(" -> ", statement.getRouteList()) : "";
      return String.format("%-20s by %-20s %-28s VALID%s", statement.getKind(), statement.getIssuer(),
          statement.getEtsiEvent(), route);
    } catch (VerificationException e) {
      return "INVALID evidence from " + item.getSigner() + ": " + e.getMessage();
    }
  }

  private Config nodeSettings(Path home, String name, String organisation) {
    String settings = """
        include classpath("certmail-node")
        include classpath("certmail-local-network")
        certmail.node {
          name = "%s"
          organisations = ["%s"]
          key-directory = "%s"
        }
        certmail.journal {
          backend = embedded
          embedded.path = "%s"
        }
        # Free ports: the demo must not collide with a local network (8081.., 8558..) running beside it.
        certmail.http.port = 0
        pekko.management.http.port = %d
        """.formatted(name, organisation, home.resolve("keys").resolve(name), home.resolve("journal").resolve("certmail"),
            freePort());
    return ConfigFactory.parseString(DEMO_TIMINGS).withFallback(ConfigFactory.parseString(settings));
  }

  private static int freePort() {
    try {
      return net.certmail.node.cluster.LocalCluster.freePort();
    } catch (IOException e) {
      throw new IllegalStateException("no free TCP port for the health endpoints: " + e.getMessage(), e);
    }
  }

  private void step(String number, String text) {
    out.printf("[%s] %s%n", number, text);
    out.flush();
  }

  private double seconds() {
    return (System.nanoTime() - startedAt) / 1e9;
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = DemoCommand.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("the sample network " + name + " is missing from the jar; rebuild with ./mvnw package");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
