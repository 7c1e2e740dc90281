package net.certmail.node.trust;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import net.certmail.crypto.NodeCertificates;
import net.certmail.crypto.NodeCertificates.NodeIdentity;
import net.certmail.crypto.NodeCertificates.NodeKeys;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.remote.artery.tcp.SSLEngineProvider;
import org.apache.pekko.remote.artery.tcp.SslTransportException;
import scala.Option;

/**
 * Artery's TLS for certmail nodes ({@code pekko.remote.artery.ssl.ssl-engine-provider}): mutual
 * TLS 1.3 in which both ends present a node certificate ({@link NodeCertificates}) from
 * {@code <certmail.node.key-directory>/tls/}, and trust nothing but the network CA of that key
 * directory ({@code ca.pem}). A peer without a certificate of that CA fails the handshake, before
 * any Artery message is read; a peer whose CA-issued certificate is no node certificate (a
 * mailbox's, say) is refused right after it.
 *
 * <p>On connections this node dials, the identity the peer proved is recorded for the address
 * dialled ({@link PeerIdentities}); {@link MembershipGuard} compares it with the roles the member
 * at that address claims. Hostname verification is off on purpose: the binding that matters is
 * address to certificate, checked by that comparison, and node certificates name no hosts, so a
 * node can move without a new certificate.
 */
public final class NodeTlsEngineProvider implements SSLEngineProvider {
  static final String PROTOCOL = "TLSv1.3";

  private final SSLContext context;
  private final PeerIdentities peers;
  private final LoggingAdapter log;

  /** Called by Artery through reflection with the (classic) ActorSystem being started. */
  public NodeTlsEngineProvider(ActorSystem system) {
    this(Path.of(system.settings().config().getString("certmail.node.key-directory")), PeerIdentities.get(system),
        Logging.getLogger(system, NodeTlsEngineProvider.class));
  }

  NodeTlsEngineProvider(Path keyDirectory, PeerIdentities peers, LoggingAdapter log) {
    this.peers = peers;
    this.log = log;
    try {
      this.context = context(NodeCertificates.load(keyDirectory));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the node's TLS keys in " + keyDirectory + ": " + e.getMessage(), e);
    }
  }

  private static SSLContext context(NodeKeys keys) {
    try {
      // In memory only: the key's protection at rest is its file mode; this password guards nothing.
      char[] password = Long.toHexString(new SecureRandom().nextLong()).toCharArray();
      KeyStore own = KeyStore.getInstance("PKCS12");
      own.load(null, null);
      own.setKeyEntry("node", keys.privateKey(), password, new Certificate[] {keys.certificate(), keys.caCertificate()});
      KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keyManagers.init(own, password);

      KeyStore anchors = KeyStore.getInstance("PKCS12");
      anchors.load(null, null);
      anchors.setCertificateEntry("network-ca", keys.caCertificate());
      TrustManagerFactory trustManagers = TrustManagerFactory.getInstance("PKIX");
      trustManagers.init(anchors);

      SSLContext context = SSLContext.getInstance(PROTOCOL);
      context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), new SecureRandom());
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot set up TLS with the node's certificate: " + e.getMessage(), e);
    }
  }

  @Override
  public SSLEngine createServerSSLEngine(String hostname, int port) {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    engine.setEnabledProtocols(new String[] {PROTOCOL});
    engine.setNeedClientAuth(true);
    return engine;
  }

  @Override
  public SSLEngine createClientSSLEngine(String hostname, int port) {
    // The peer's host and port travel with the session: verifyClientSession records the identity for them.
    SSLEngine engine = context.createSSLEngine(hostname, port);
    engine.setUseClientMode(true);
    engine.setEnabledProtocols(new String[] {PROTOCOL});
    return engine;
  }

  /** Artery calls this on connections this node dialled (the peer is the server). */
  @Override
  public Option<Throwable> verifyClientSession(String hostname, SSLSession session) {
    Optional<NodeIdentity> identity = peerIdentity(session);
    if (identity.isEmpty()) {
      return refuse("the node at " + session.getPeerHost() + ":" + session.getPeerPort());
    }
    peers.record(session.getPeerHost(), session.getPeerPort(), identity.get());
    return Option.empty();
  }

  /** Artery calls this on connections other nodes dialled (the peer is the client). */
  @Override
  public Option<Throwable> verifyServerSession(String hostname, SSLSession session) {
    return peerIdentity(session).isPresent() ? Option.empty() : refuse("a node connecting from " + session.getPeerHost());
  }

  private Option<Throwable> refuse(String who) {
    String message = who + " presented a certificate of the network CA that is no node certificate;"
        + " connection refused (a node needs the certificate `certmail keys node` issues)";
    log.warning(message);
    return Option.apply(new SslTransportException(message, null));
  }

  private static Optional<NodeIdentity> peerIdentity(SSLSession session) {
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate certificate
          ? NodeCertificates.identityOf(certificate) : Optional.empty();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }
}
