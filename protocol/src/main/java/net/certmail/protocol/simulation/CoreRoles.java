package net.certmail.protocol.simulation;

import net.certmail.protocol.Addressee;
import net.certmail.protocol.Input;
import net.certmail.protocol.RoleMachine;
import net.certmail.protocol.recipient.MailboxPolicy;
import net.certmail.protocol.recipient.RecipientMachine;
import net.certmail.protocol.sender.SenderMachine;
import net.certmail.protocol.server.ServerMachine;
import net.certmail.protocol.server.ServerRules;

/**
 * The real role machines, as the nodes run them: {@link SenderMachine} for A,
 * {@link ServerMachine} for P1, Pi and Pn, {@link RecipientMachine} for B, each with the
 * principal's own signatures and the schedule's timings, policy and routing.
 */
public final class CoreRoles implements Roles {
  public static final Roles.Factory FACTORY = CoreRoles::new;

  private final SimulatedNetwork network;
  private final ServerRules rules;

  public CoreRoles(SimulatedNetwork network) {
    this.network = network;
    this.rules = new ServerRules(network.timings(), network.policy(), network.routing(), network::knownPrincipal);
  }

  @Override
  public RoleMachine<?, ?> machine(Addressee entity) {
    String principal = entity.principal();
    return switch (entity.role()) {
      case SENDER -> new SenderMachine(principal, entity.key(), network.timings(), network.signatures(principal));
      case SERVER -> new ServerMachine(principal, entity.key(), rules, network.signatures(principal));
      case RECIPIENT -> new RecipientMachine(principal, entity.key(), policyOf(principal), network.timings(),
          network.signatures(principal));
    };
  }

  private MailboxPolicy policyOf(String mailbox) {
    return switch (network.ownerOf(mailbox)) {
      case AUTO_ACCEPT -> MailboxPolicy.AUTO_ACCEPT;
      case REFUSE -> MailboxPolicy.REFUSE;
      default -> MailboxPolicy.HOLD;
    };
  }

  @Override
  public Input submit(MailPlan plan, long deadlineMillis) {
    return new SenderMachine.Submit(plan.recipient(), plan.content(), deadlineMillis, plan.flavour(), plan.origin());
  }

  @Override
  public Input accept() {
    return RecipientMachine.Accept.INSTANCE;
  }

  @Override
  public Input refuse(String reason) {
    return new RecipientMachine.Refuse(reason);
  }

  @Override
  public boolean answersByPolicy(String mailbox) {
    OwnerBehaviour behaviour = network.ownerOf(mailbox);
    return behaviour == OwnerBehaviour.AUTO_ACCEPT || behaviour == OwnerBehaviour.REFUSE;
  }
}
