package net.certmail.actors;

import net.certmail.protocol.Outgoing;

/**
 * How an entity's decisions leave it: sealed as its principal and routed to the addressee's
 * entity. {@link Postman} is the cluster's; tests record what is sent, and a fault-injecting
 * transport can drop, duplicate or delay messages.
 */
public interface Transport {
  void send(String from, Outgoing outgoing);
}
