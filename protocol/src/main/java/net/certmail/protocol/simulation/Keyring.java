package net.certmail.protocol.simulation;

import net.certmail.protocol.Signatures;

/**
 * The evidence keys of every principal in the simulated network: each principal signs only as
 * itself, and anyone verifies anyone's evidence. Honest and dishonest principals alike hold valid
 * keys; what a dishonest one may not do is sign as somebody else.
 */
public interface Keyring {

  /** Sign as {@code principal}, verify anyone's evidence. */
  Signatures of(String principal);

  /** Verification only, for the invariants: the same checks every principal makes. */
  Signatures verifier();

  /** How the simulator signs: a fast stand-in, or the nodes' Bouncy Castle Ed25519. */
  enum Crypto { FAST, REAL }
}
