package net.certmail.protocol.simulation;

import net.certmail.protocol.Addressee;
import net.certmail.protocol.Input;
import net.certmail.protocol.RoleMachine;

/**
 * The role machines the simulator drives, and their owners' commands. One machine per entity
 * instance (principal, role, key), as {@link Addressee} names it; the simulator never looks inside
 * a stage, only at the persisted events and the messages.
 */
public interface Roles {

  RoleMachine<?, ?> machine(Addressee entity);

  /** The sender's owner posts a mail with deadline T on the sender's clock. */
  Input submit(MailPlan plan, long deadlineMillis);

  /** The recipient's owner accepts an announced mail. */
  Input accept();

  /** The recipient's owner refuses an announced mail. */
  Input refuse(String reason);

  /** Whether the mailbox's own policy answers announced mail (accepts or refuses) without its owner. */
  boolean answersByPolicy(String mailbox);

  /** Roles for one schedule's network. */
  interface Factory {
    Roles create(SimulatedNetwork network);
  }

  /**
   * A seam for tests that prove the simulator catches bugs: wraps a machine (a server that
   * accepts any NDN, a Pn that hands content out early, ...). Production runs use {@link #NONE}.
   */
  interface Decorator {
    Decorator NONE = (entity, machine, network) -> machine;

    RoleMachine<?, ?> decorate(Addressee entity, RoleMachine<?, ?> machine, SimulatedNetwork network);
  }
}
