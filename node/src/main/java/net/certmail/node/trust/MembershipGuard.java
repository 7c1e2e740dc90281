package net.certmail.node.trust;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import net.certmail.crypto.NodeCertificates.NodeIdentity;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Downs every member that claims a role (organisation) its node certificate does not name.
 *
 * <p>Runs on every node with TLS. It knows each member's claimed roles from the membership
 * events, and the organisations its certificate names from {@link PeerIdentities} once this node
 * has dialled the member's address (it does so to answer a join and to gossip, before the member
 * can be Up). Whichever of the two comes second triggers the check; a member failing it is downed
 * by every node that sees it, so its shards go back to nodes that may hold them. Pekko's own
 * {@code dc-} role is not an organisation and is not checked.
 */
public final class MembershipGuard extends AbstractBehavior<MembershipGuard.Command> {
  public sealed interface Command {}

  private record MemberChanged(ClusterEvent.MemberEvent event) implements Command {}

  private record PeerIdentified(String hostPort) implements Command {}

  private final Cluster cluster;
  private final PeerIdentities peers;
  private final Map<Address, Member> members = new HashMap<>();
  private final Set<Address> downed = new HashSet<>();

  public static Behavior<Command> create() {
    return Behaviors.setup(MembershipGuard::new);
  }

  private MembershipGuard(ActorContext<Command> context) {
    super(context);
    this.cluster = Cluster.get(context.getSystem());
    this.peers = PeerIdentities.get(context.getSystem());
    ActorRef<ClusterEvent.MemberEvent> events = context.messageAdapter(ClusterEvent.MemberEvent.class, MemberChanged::new);
    cluster.subscriptions().tell(Subscribe.create(events, ClusterEvent.MemberEvent.class));
    ActorRef<Command> self = context.getSelf();
    peers.onRecorded(hostPort -> self.tell(new PeerIdentified(hostPort)));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(MemberChanged.class, this::onMemberChanged)
        .onMessage(PeerIdentified.class, this::onPeerIdentified)
        .build();
  }

  private Behavior<Command> onMemberChanged(MemberChanged changed) {
    Member member = changed.event().member();
    if (changed.event() instanceof ClusterEvent.MemberRemoved) {
      members.remove(member.address());
      downed.remove(member.address());
    } else {
      members.put(member.address(), member);
      check(member);
    }
    return this;
  }

  private Behavior<Command> onPeerIdentified(PeerIdentified identified) {
    members.values().stream()
        .filter(member -> PeerIdentities.key(member.address()).filter(identified.hostPort()::equals).isPresent())
        .toList()
        .forEach(this::check);
    return this;
  }

  private void check(Member member) {
    if (member.address().equals(cluster.selfMember().address()) || downed.contains(member.address())) {
      return;
    }
    NodeIdentity identity = peers.of(member.address()).orElse(null);
    if (identity == null) {
      return; // not dialled yet: checked when it is
    }
    Set<String> notNamed = identity.notNamed(organisations(member));
    if (!notNamed.isEmpty()) {
      downed.add(member.address());
      getContext().getLog().warn("member {} claims organisations {} that its node certificate ({}, naming {})"
              + " does not name: downing it", member.address(), notNamed, identity.node(), identity.organisations());
      cluster.manager().tell(Down.apply(member.address()));
    }
  }

  /** A member's roles without Pekko's data-centre role. */
  static Set<String> organisations(Member member) {
    String dataCentreRole = "dc-" + member.dataCenter();
    return member.getRoles().stream().filter(role -> !role.equals(dataCentreRole)).collect(Collectors.toSet());
  }
}
