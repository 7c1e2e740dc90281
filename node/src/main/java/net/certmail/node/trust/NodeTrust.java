package net.certmail.node.trust;

import com.typesafe.config.Config;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import net.certmail.crypto.NodeCertificates;
import net.certmail.crypto.NodeCertificates.NodeIdentity;

/**
 * Who may join, checked before a node starts: beyond loopback Artery must run over certmail's
 * mutual TLS, and a node may serve only organisations its own certificate names. The check on
 * peers is {@link MembershipGuard}'s.
 */
public final class NodeTrust {
  public static final String TRANSPORT = "pekko.remote.artery.transport";
  public static final String ENGINE_PROVIDER = "pekko.remote.artery.ssl.ssl-engine-provider";
  private static final Pattern IP_LITERAL = Pattern.compile("[0-9.]+|.*:.*");

  private NodeTrust() {}

  /** Whether this configuration runs Artery over certmail's mutual TLS. */
  public static boolean tlsEnabled(Config config) {
    return "tls-tcp".equals(config.getString(TRANSPORT));
  }

  /**
   * Refuses a configuration that would let strangers in, saying what to set; returns the node's
   * certificate identity when TLS is on.
   */
  public static java.util.Optional<NodeIdentity> check(Config config, String node, List<String> organisations,
                                                        Path keyDirectory) throws IOException {
    if (!tlsEnabled(config)) {
      for (String host : listeningHosts(config)) {
        if (!isLoopback(host)) {
          throw new IllegalArgumentException("node " + node + " listens on " + host + ", beyond loopback, without TLS"
              + " (" + TRANSPORT + " = " + config.getString(TRANSPORT) + "): anyone who reaches the port could join."
              + " Set " + TRANSPORT + " = tls-tcp (the default of certmail-node.conf) and give the node its certificate"
              + " in " + keyDirectory.resolve(NodeCertificates.DIRECTORY) + " (`certmail keys init` or `certmail keys node`)");
        }
      }
      return java.util.Optional.empty();
    }
    String provider = config.getString(ENGINE_PROVIDER);
    if (!NodeTlsEngineProvider.class.getName().equals(provider)) {
      throw new IllegalArgumentException("node " + node + " runs TLS with " + provider + ", which does not check which"
          + " organisations a peer's certificate names: set " + ENGINE_PROVIDER + " = \""
          + NodeTlsEngineProvider.class.getName() + "\" (the default of certmail-node.conf)");
    }
    NodeIdentity identity = NodeCertificates.load(keyDirectory).identity();
    Set<String> notNamed = identity.notNamed(organisations);
    if (!notNamed.isEmpty()) {
      throw new IllegalArgumentException("node " + node + " is configured to serve " + notNamed + ", which its certificate"
          + " (" + keyDirectory.resolve(NodeCertificates.DIRECTORY).resolve(NodeCertificates.CERTIFICATE_FILE)
          + ", node " + identity.node() + ") does not name; it names " + identity.organisations() + ". Serve only those"
          + " (certmail.node.organisations), or issue a certificate naming them with `certmail keys node`");
    }
    return java.util.Optional.of(identity);
  }

  /** The canonical host, and the bind host when one is set. */
  static List<String> listeningHosts(Config config) {
    String canonical = config.getString("pekko.remote.artery.canonical.hostname");
    String bind = config.hasPath("pekko.remote.artery.bind.hostname")
        ? config.getString("pekko.remote.artery.bind.hostname") : "";
    return bind.isEmpty() ? List.of(canonical) : List.of(canonical, bind);
  }

  /** Loopback by its literal form only: a host name is never resolved, and so counts as beyond loopback. */
  static boolean isLoopback(String host) {
    if (host.equals("localhost")) {
      return true;
    }
    if (!IP_LITERAL.matcher(host).matches()) {
      return false;
    }
    try {
      return InetAddress.getByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
