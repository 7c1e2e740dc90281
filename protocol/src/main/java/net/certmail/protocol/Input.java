package net.certmail.protocol;

import net.certmail.proto.v1.ProtocolMessage;

/**
 * Anything that can happen to a role: a message whose envelope the shell has verified, a wake-up
 * at an instant the role asked for, or its owner's command (each role declares its own).
 */
public interface Input {

  /** A verified message: {@code from} signed the envelope, so it is who it claims to be. */
  record Received(String from, ProtocolMessage message) implements Input {}

  /**
   * The role asked to be woken (a resend, a timeout, a deadline) or was just recovered: it does
   * whatever is due at {@code now}. Waking early or twice is harmless: resends are idempotent.
   */
  enum WakeUp implements Input { INSTANCE }
}
