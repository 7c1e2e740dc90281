package net.certmail.actors;

import java.time.Clock;
import java.util.Map;
import java.util.stream.Collectors;
import net.certmail.crypto.EnvelopeSealer;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.protocol.Addressee;
import net.certmail.protocol.Outgoing;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The one place where messages between principals are sealed and routed: the sender's envelope
 * goes to the addressee's entity for this mail, on whichever node of the addressee's
 * organisation hosts it. Delivery is at most once; the entities' retries make it reliable.
 */
public final class Postman implements Transport {
  private final ClusterSharding sharding;
  private final Map<String, EnvelopeSealer> sealers;

  Postman(ClusterSharding sharding, Map<String, PrincipalKeys> hostedKeys, Clock clock) {
    this.sharding = sharding;
    this.sealers = Map.copyOf(hostedKeys.entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> new EnvelopeSealer(e.getValue(), clock))));
  }

  /** Sends what a role decided to send, sealed as {@code from}. */
  @Override
  public void send(String from, Outgoing outgoing) {
    Addressee to = outgoing.to();
    switch (to.role()) {
      case SENDER -> toOutbox(from, to.principal(), to.key(), outgoing.message());
      case SERVER -> toServer(from, to.principal(), to.key(), outgoing.message());
      case RECIPIENT -> toInbox(from, to.principal(), to.key(), outgoing.message());
    }
  }

  void toOutbox(String from, String mailbox, String submissionId, ProtocolMessage message) {
    sharding.entityRefFor(OutboxEntry.typeKey(mailbox), EntityKind.entityId(mailbox, submissionId))
        .tell(seal(from, mailbox, message));
  }

  void toServer(String from, String server, String label, ProtocolMessage message) {
    sharding.entityRefFor(MailServer.typeKey(server), EntityKind.entityId(server, label))
        .tell(seal(from, server, message));
  }

  void toInbox(String from, String mailbox, String label, ProtocolMessage message) {
    sharding.entityRefFor(InboxEntry.typeKey(mailbox), EntityKind.entityId(mailbox, label))
        .tell(seal(from, mailbox, message));
  }

  private Inbound seal(String from, String to, ProtocolMessage message) {
    EnvelopeSealer sealer = sealers.get(from);
    if (sealer == null) {
      throw new IllegalStateException("this node cannot sign for " + from);
    }
    return new Inbound(sealer.seal(to, message).toByteArray());
  }

  static <C> EntityTypeKey<C> key(Class<C> commandType, EntityKind kind, String principal) {
    return EntityTypeKey.create(commandType, kind.typeName(principal));
  }
}
