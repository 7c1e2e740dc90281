package net.certmail.node.trust;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import net.certmail.crypto.NodeCertificates.NodeIdentity;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;

/**
 * What this node has seen of its peers' certificates: for every address it dialled over Artery,
 * the node identity that the process listening there proved with the TLS handshake.
 *
 * <p>Only outbound connections are recorded: there the address is the one this node chose to
 * reach (a member's canonical address), so the certificate is bound to it. An inbound connection
 * comes from an ephemeral port and says nothing about which member sent it.
 */
public final class PeerIdentities implements Extension {
  private final Map<String, NodeIdentity> byAddress = new ConcurrentHashMap<>();
  private final CopyOnWriteArrayList<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

  public static final Id ID = new Id();

  public static final class Id extends AbstractExtensionId<PeerIdentities> {
    @Override
    public PeerIdentities createExtension(ExtendedActorSystem system) {
      return new PeerIdentities();
    }
  }

  public static PeerIdentities get(ActorSystem system) {
    return ID.get(system);
  }

  public static PeerIdentities get(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    return ID.get(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system));
  }

  /** {@code host:port}, as a member's address names it and as Artery dials it. */
  static String key(String host, int port) {
    return host + ":" + port;
  }

  static Optional<String> key(Address address) {
    if (address.getHost().isEmpty() || address.getPort().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(key(address.getHost().get(), address.getPort().get()));
  }

  void record(String host, int port, NodeIdentity identity) {
    String key = key(host, port);
    NodeIdentity previous = byAddress.put(key, identity);
    if (!identity.equals(previous)) {
      listeners.forEach(listener -> listener.accept(key));
    }
  }

  /** The identity proved by whoever listens at a member's address, once this node has dialled it. */
  public Optional<NodeIdentity> of(Address address) {
    return key(address).map(byAddress::get);
  }

  /** Called with {@code host:port} whenever an address proves a (new) identity. */
  void onRecorded(Consumer<String> listener) {
    listeners.add(listener);
  }
}
