package net.certmail.node.fuzz;

import java.util.List;

/**
 * One decoder or verifier that takes outside bytes, with the inputs a fuzzer starts from and the
 * oracle that tells a crash from a refusal.
 */
public interface FuzzTarget {
  /** Short name, e.g. "envelope-open". */
  String name();

  /** Valid inputs to mutate (real signed envelopes, evidence, bundles, events, JSON bodies). */
  List<byte[]> seeds();

  /**
   * Feeds one input to the target. Refusals the target is allowed to make (its documented
   * exception types) are caught here and named in the returned outcome, e.g. "refused:BAD_SIGNATURE";
   * anything else that escapes, or an input accepted with content no seed signed, is a crash.
   *
   * @return a short outcome class: a new one makes the input worth mutating further
   * @throws Exception (or Error) when the target crashed
   */
  String run(byte[] input) throws Exception;
}
