package net.certmail.protocol;

import java.util.Arrays;
import java.util.Optional;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.Sha256;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailInTransit;

/**
 * Whether a correctly signed statement says what the protocol needs it to say. Signatures are
 * checked before (crypto's EvidenceVerifier); these rules check the content: kind, issuer,
 * counterparty, label, hash. Each returns the problem, or empty when the statement is fit.
 */
public final class EvidenceChecks {
  private EvidenceChecks() {}

  /** The content hash a COD must carry: H(M) in CEM, nothing in NSR, H(L,M) in IP. */
  public static byte[] expectedCodHash(Flavour flavour, String label, byte[] content) {
    return switch (flavour) {
      case CEM -> ContentHash.of(content);
      case IP -> ContentHash.labelled(label, content);
      default -> new byte[0];
    };
  }

  /** A's check of its COP: P1 certified exactly what A submitted. */
  public static Optional<String> cop(EvidenceStatement cop, String origin, String submissionId, String recipient,
                                     byte[] content, long deadlineMillis, Flavour flavour) {
    return first(
        expect(cop.getKind() == EvidenceKind.COP, "not a COP"),
        expect(cop.getIssuer().equals(origin), "COP issued by " + cop.getIssuer() + ", not " + origin),
        expect(cop.getSubmissionId().equals(submissionId), "COP for another submission"),
        expect(cop.getRecipient().equals(recipient), "COP names another recipient"),
        expect(Arrays.equals(cop.getContentHash().toByteArray(), ContentHash.of(content)), "COP over another content"),
        expect(cop.getDeadlineMillis() == deadlineMillis, "COP with another deadline"),
        expect(cop.getFlavour() == flavour, "COP of another flavour"),
        expect(Labels.originOf(cop.getLabel()).equals(origin), "label not issued by " + origin));
  }

  /** A hop's check of the COP a relayed mail carries: it matches the mail. */
  public static Optional<String> relayedCop(EvidenceStatement cop, MailInTransit mail) {
    return first(
        expect(cop.getKind() == EvidenceKind.COP, "relay without a COP"),
        expect(cop.getIssuer().equals(mail.getOriginServer()), "COP not issued by the origin server"),
        expect(cop.getLabel().equals(mail.getLabel()), "COP for another label"),
        expect(cop.getRecipient().equals(mail.getRecipient()) && cop.getSender().equals(mail.getSender()),
            "COP names other parties"),
        expect(Arrays.equals(cop.getContentHash().toByteArray(), ContentHash.of(mail.getContent().toByteArray())),
            "relayed content differs from the posted content"),
        expect(cop.getDeadlineMillis() == mail.getDeadlineMillis() && cop.getFlavour() == mail.getFlavour(),
            "relayed deadline or flavour differs from the COP"));
  }

  /** Pi's check of ACK_i = sig_Pi+1(Pi, B, L). */
  public static Optional<String> relayAck(EvidenceStatement ack, String me, String nextHop, MailInTransit mail) {
    return first(
        expect(ack.getKind() == EvidenceKind.RELAY_ACK, "not a relay acknowledgement"),
        expect(ack.getIssuer().equals(nextHop), "ACK from " + ack.getIssuer() + ", not the next hop " + nextHop),
        expect(ack.getCounterparty().equals(me), "ACK for another previous hop"),
        expect(ack.getLabel().equals(mail.getLabel()) && ack.getRecipient().equals(mail.getRecipient()),
            "ACK for another label or recipient"));
  }

  /** Pi's check of a relay rejection from its next hop. */
  public static Optional<String> relayRejection(EvidenceStatement rejection, String me, String nextHop, String label) {
    return first(
        expect(rejection.getKind() == EvidenceKind.RELAY_REJECTION, "not a relay rejection"),
        expect(rejection.getIssuer().equals(nextHop), "rejection not from the next hop"),
        expect(rejection.getCounterparty().equals(me) && rejection.getLabel().equals(label),
            "rejection for another hop or label"));
  }

  /** Pn's (and anyone's) check of a COD = sig_B(Pn, L, h) for the flavour's h. */
  public static Optional<String> cod(EvidenceStatement cod, String pn, MailInTransit mail) {
    byte[] expected = expectedCodHash(mail.getFlavour(), mail.getLabel(), mail.getContent().toByteArray());
    return first(
        expect(cod.getKind() == EvidenceKind.COD, "not a COD"),
        expect(cod.getIssuer().equals(mail.getRecipient()), "COD signed by " + cod.getIssuer() + ", not the recipient"),
        expect(cod.getCounterparty().equals(pn), "COD names another delivering server"),
        expect(cod.getLabel().equals(mail.getLabel()), "COD for another label"),
        expect(cod.getFlavour() == mail.getFlavour(), "COD of another flavour"),
        expect(Arrays.equals(cod.getContentHash().toByteArray(), expected), "COD over another content hash"));
  }

  /** Pn's check of B's refusal. */
  public static Optional<String> refusal(EvidenceStatement refusal, String pn, MailInTransit mail) {
    return first(
        expect(refusal.getKind() == EvidenceKind.RECIPIENT_REFUSAL, "not a refusal"),
        expect(refusal.getIssuer().equals(mail.getRecipient()), "refusal not signed by the recipient"),
        expect(refusal.getCounterparty().equals(pn) && refusal.getLabel().equals(mail.getLabel()),
            "refusal for another server or label"));
  }

  /** P1's check of a delivery report: ROD_n from B's server, bound to a valid COD. */
  public static Optional<String> deliveryReport(EvidenceStatement rodN, EvidenceStatement cod, byte[] codStatementBytes,
                                                MailInTransit mail) {
    String pn = Routing.domainOf(mail.getRecipient());
    return first(
        expect(rodN.getKind() == EvidenceKind.ROD_N, "not a ROD_n"),
        expect(rodN.getIssuer().equals(pn), "ROD_n from " + rodN.getIssuer() + ", not " + pn),
        expect(rodN.getLabel().equals(mail.getLabel()), "ROD_n for another label"),
        expect(Arrays.equals(rodN.getCodStatementHash().toByteArray(), Sha256.hash(codStatementBytes)),
            "ROD_n is not bound to this COD"),
        cod(cod, pn, mail));
  }

  /** A check of a non-delivery notice about this mail. */
  public static Optional<String> ndn(EvidenceStatement ndn, MailInTransit mail) {
    return first(
        expect(ndn.getKind() == EvidenceKind.NDN, "not a non-delivery notice"),
        expect(ndn.getLabel().equals(mail.getLabel()) && ndn.getRecipient().equals(mail.getRecipient()),
            "notice for another label or recipient"));
  }

  @SafeVarargs
  private static Optional<String> first(Optional<String>... problems) {
    for (Optional<String> problem : problems) {
      if (problem.isPresent()) {
        return problem;
      }
    }
    return Optional.empty();
  }

  private static Optional<String> expect(boolean condition, String problem) {
    return condition ? Optional.empty() : Optional.of(problem);
  }
}
