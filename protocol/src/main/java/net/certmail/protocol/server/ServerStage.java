package net.certmail.protocol.server;

import java.util.Optional;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.SignedEvidence;

/**
 * A server's stages for one label (the paper's P1, Pi and Pn; one server may play several):
 *
 * <pre>
 *   Unassigned --Submission (P1 signs COP) / Relay (Pi+1 signs ACK_i)--> Forwarding | Delivering
 *   Unassigned --either refused (signed rejection)-----------------------> Declined
 *   Forwarding        Pi relays to Pi+1 until ACK_i         -> AwaitingVerdict (P1) | Settled (relay)
 *                     relay give-up or rejection             -> NDN: ReportingVerdict (P1) | Reporting
 *   Delivering        Pn notifies B until COD or refusal     -> ROD_n: ReportingVerdict (P1 = Pn) | Reporting
 *                     ... or until B says it holds the mail  -> Delivering, asleep until the cut-off (HoldAcknowledged)
 *                     delivery give-up or refusal            -> NDN: ReportingVerdict | Reporting
 *   AwaitingVerdict   P1 until Pn's ROD_n + COD or an NDN    -> ReportingVerdict; at T - verdict-margin its own NDN
 *   Reporting         Pj sends its outcome to P1 until P1 confirms (or until nobody needs it) -> Settled
 *   ReportingVerdict  P1 sends the verdict to A until A confirms (or until nobody needs it)   -> Settled
 *   Settled           nothing owed; duplicates answered, content still handed to B
 * </pre>
 *
 * A P1 that receives a valid ROD_n + COD while still Forwarding certifies delivery: the report is
 * proof that the mail went on, so one verdict, never two.
 */
public sealed interface ServerStage {

  enum Unassigned implements ServerStage { INSTANCE }

  /** This server refused the mail; the counterpart's resends get the same signed refusal. */
  record Declined(String counterpart, ProtocolMessage answer) implements ServerStage {}

  /** A server that carries the mail: every stage below. */
  sealed interface Carrying extends ServerStage {
    Carriage carriage();
  }

  record Forwarding(Carriage carriage, long sinceMillis) implements Carrying {}

  /**
   * {@code recipientHolds}: B acknowledged that it holds the notification; Pn stops resending it
   * and sleeps until its cut-off, or until B's decision arrives (B resends it).
   */
  record Delivering(Carriage carriage, long sinceMillis, boolean recipientHolds) implements Carrying {}

  record AwaitingVerdict(Carriage carriage, SignedEvidence forwardAck) implements Carrying {}

  record Reporting(Carriage carriage, Outcome outcome, long sinceMillis) implements Carrying {}

  record ReportingVerdict(Carriage carriage, Outcome verdict, long sinceMillis) implements Carrying {}

  /** {@code outcome}: the verdict at P1, the report elsewhere; empty for a relay that passed the mail on or a duty that ended. */
  record Settled(Carriage carriage, Optional<Outcome> outcome) implements Carrying {}
}
