package net.certmail.node.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.NetworkDescription;
import net.certmail.node.runtime.CertmailNode;
import net.certmail.persistence.JournalBackend;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may join, with real nodes in one JVM on loopback with the shipped TLS settings: the network
 * forms over mutual TLS; a node whose certificate is of another CA (one of the network's own name)
 * cannot join; a node that claims an organisation its certificate does not name is refused at
 * start, and when it skips that check (a modified node) the others down it.
 */
class ClusterAdmissionTest {
  @TempDir
  Path dir;

  private final List<AutoCloseable> started = new ArrayList<>();

  @BeforeEach
  void networkKeys() throws Exception {
    keys(dir.resolve("keys"));
  }

  /**
   * Stops every node, and fails when one does not stop: CertmailNode.close() waits for coordinated
   * shutdown, whose phases all have timeouts, and throws when the node has not stopped within their
   * sum (a stop that hangs, not a slow one).
   */
  @AfterEach
  void stop() throws Exception {
    List<String> notStopped = new ArrayList<>();
    for (int i = started.size() - 1; i >= 0; i--) {
      try {
        started.get(i).close();
      } catch (IllegalStateException e) {
        notStopped.add(e.getMessage());
      }
    }
    assertEquals(List.of(), notStopped, "every node stops");
  }

  @Test
  void theNetworkFormsOverMutualTlsAndEachNodeKnowsWhatItsPeersCertificatesName() throws Exception {
    CertmailNode alpha = start("alpha-1", "alpha.example", dir.resolve("keys"), null);
    CertmailNode relay = start("relay-1", "relay.example", dir.resolve("keys"), alpha);

    assertEquals(Set.of(alpha.address(), relay.address()), upMembers(alpha));
    // Both joined over TLS with their certificates: each dialled the other and recorded what it proved.
    awaitIdentity(alpha, relay);
    awaitIdentity(relay, alpha);
    assertEquals(Set.of("relay.example"), PeerIdentities.get(alpha.system()).of(relay.address()).orElseThrow().organisations());
    assertEquals(Set.of("alpha.example"), PeerIdentities.get(relay.system()).of(alpha.address()).orElseThrow().organisations());
  }

  @Test
  void aNodeWithACertificateOfAnotherCaCannotJoin() throws Exception {
    CertmailNode alpha = start("alpha-1", "alpha.example", dir.resolve("keys"), null);
    // Same network description, so a CA of the same name, made by someone else.
    keys(dir.resolve("foreign"));

    IllegalStateException refused = assertThrows(IllegalStateException.class,
        () -> start("relay-1", "relay.example", dir.resolve("foreign"), alpha));
    assertTrue(refused.getMessage().contains("did not join"), refused.getMessage());
    assertEquals(Set.of(alpha.address()), allMembers(alpha), "alpha-1 never admitted the foreign node");

    // The same join with the network's own certificate works: the refusal was the CA's.
    CertmailNode relay = start("relay-1", "relay.example", dir.resolve("keys"), alpha);
    assertEquals(Set.of(alpha.address(), relay.address()), upMembers(alpha));
  }

  @Test
  void aNodeRefusesToStartForAnOrganisationItsCertificateDoesNotName() {
    Config settings = settings("relay-1", List.of("relay.example", "alpha.example"), dir.resolve("keys"));
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> CertmailNode.start(settings, Clock.systemUTC(), null).close());
    assertTrue(refused.getMessage().contains("[alpha.example], which its certificate"), refused.getMessage());
    assertTrue(refused.getMessage().contains("certmail keys node"), refused.getMessage());
  }

  @Test
  void aModifiedNodeClaimingAnOrganisationItsCertificateDoesNotNameIsDowned() throws Exception {
    CertmailNode alpha = start("alpha-1", "alpha.example", dir.resolve("keys"), null);
    CertmailNode beta = start("beta-1", "beta.example", dir.resolve("keys"), alpha);

    // relay-1's genuine certificate names relay.example; this node also claims alpha.example, so
    // alpha.example's shards could land on it. Started without CertmailNode's own check, as a
    // node whose code was changed would be.
    Config rogueSettings = settings("relay-1", List.of("relay.example"), dir.resolve("keys"))
        .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of("relay.example", "alpha.example")));
    ActorSystem<Void> rogue = ActorSystem.create(Behaviors.empty(), "certmail",
        JournalBackend.EMBEDDED.config(rogueSettings));
    var rogueStopped = CertmailNode.whenStopped(rogue).toCompletableFuture();
    started.add(() -> {
      rogue.terminate();
      rogueStopped.get(2, java.util.concurrent.TimeUnit.MINUTES);
    });
    Cluster.get(rogue).manager().tell(Join.create(alpha.address()));

    // Every node downs it; downed, it leaves and stops (run-coordinated-shutdown-when-down).
    rogueStopped.get(2, java.util.concurrent.TimeUnit.MINUTES);
    awaitMembers(alpha, Set.of(alpha.address(), beta.address()));
    assertEquals(Set.of(alpha.address(), beta.address()), upMembers(beta));
  }

  @Test
  void aNodeBeyondLoopbackWithoutTlsRefusesToStartAndSaysWhatToSet() {
    for (String[] hosts : new String[][] {{"10.1.2.3", ""}, {"127.0.0.1", "0.0.0.0"}, {"node1.example.net", ""}}) {
      Config settings = settings("alpha-1", List.of("alpha.example"), dir.resolve("keys"))
          .withValue("pekko.remote.artery.transport", ConfigValueFactory.fromAnyRef("tcp"))
          .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(hosts[0]))
          .withValue("pekko.remote.artery.bind.hostname", ConfigValueFactory.fromAnyRef(hosts[1]));
      IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
          () -> CertmailNode.start(settings, Clock.systemUTC(), null).close(), hosts[0] + " / " + hosts[1]);
      assertTrue(refused.getMessage().contains("beyond loopback, without TLS"), refused.getMessage());
      assertTrue(refused.getMessage().contains("pekko.remote.artery.transport = tls-tcp"), refused.getMessage());
    }
    assertTrue(NodeTrust.isLoopback("127.0.0.1") && NodeTrust.isLoopback("::1") && NodeTrust.isLoopback("localhost"));
  }

  private CertmailNode start(String name, String organisation, Path keys, CertmailNode joining) throws Exception {
    CertmailNode node = CertmailNode.start(settings(name, List.of(organisation), keys), Clock.systemUTC(),
        joining == null ? null : joining.address());
    started.add(node);
    return node;
  }

  private Config settings(String name, List<String> organisations, Path keys) {
    return ConfigFactory.parseString("""
        include classpath("certmail-demo-timings.conf")
        pekko.loglevel = "WARNING"
        pekko.log-dead-letters = off
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
        pekko.coordinated-shutdown.exit-jvm = off
        pekko.cluster.split-brain-resolver.stable-after = 2s
        # Generous: a loaded machine can take more than 10 s to join (seen in a run); a refusal still ends by it.
        certmail.node.join-timeout = 30s
        """).withFallback(ConfigFactory.parseString("""
        include classpath("certmail-node")
        include classpath("certmail-local-network")
        certmail.node { name = "%s", key-directory = "%s" }
        certmail.journal { backend = embedded, embedded.path = "%s" }
        """.formatted(name, keys.resolve(name), dir.resolve("journal").resolve("certmail"))))
        .withValue("certmail.node.organisations", ConfigValueFactory.fromIterable(organisations));
  }

  private static void keys(Path out) throws Exception {
    try (InputStream in = ClusterAdmissionTest.class.getResourceAsStream("/networks/local-network.conf")) {
      KeyDirectory.initNetwork(NetworkDescription.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)), out,
          new KeyDirectory.InitOptions(KeyDirectory.InitOptions.defaults().algorithm(), Duration.ofDays(30),
              Clock.systemUTC(), false, line -> { }));
    }
  }

  private static Set<org.apache.pekko.actor.Address> upMembers(CertmailNode node) {
    return StreamSupport.stream(Cluster.get(node.system()).state().getMembers().spliterator(), false)
        .filter(member -> member.status() == MemberStatus.up()).map(Member::address).collect(Collectors.toSet());
  }

  private static Set<org.apache.pekko.actor.Address> allMembers(CertmailNode node) {
    return StreamSupport.stream(Cluster.get(node.system()).state().getMembers().spliterator(), false)
        .map(Member::address).collect(Collectors.toSet());
  }

  /** Membership settles by gossip: wait (bounded) until the node sees exactly these members. */
  private static void awaitMembers(CertmailNode node, Set<org.apache.pekko.actor.Address> expected) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!allMembers(node).equals(expected) && System.nanoTime() < until) {
      Thread.sleep(100);
    }
    assertEquals(expected, allMembers(node));
  }

  private static void awaitIdentity(CertmailNode node, CertmailNode peer) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (PeerIdentities.get(node.system()).of(peer.address()).isEmpty() && System.nanoTime() < until) {
      Thread.sleep(50);
    }
    assertEquals(peer.name(), PeerIdentities.get(node.system()).of(peer.address()).orElseThrow().node());
  }
}
