package net.certmail.protocol;

import net.certmail.proto.v1.ProtocolMessage;

/** A message a role sends: the shell seals it as the role's principal and routes it to {@code to}. */
public record Outgoing(Addressee to, ProtocolMessage message) {}
