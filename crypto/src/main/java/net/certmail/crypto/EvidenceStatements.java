package net.certmail.crypto;

import com.google.protobuf.ByteString;
import java.util.List;
import java.util.Set;
import net.certmail.proto.v1.EtsiEvent;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.SignedEvidence;

/**
 * Builders for the statements of each evidence kind, so the fields a kind sets, and its ETSI EN
 * 319 522 event, are decided in one place (docs/architecture.md, "The wire format").
 */
public final class EvidenceStatements {
  public static final int VERSION = 1;

  private EvidenceStatements() {}

  /** The ETSI events a kind may carry; NDN has two (failure to consign, or acceptance expiry). */
  public static Set<EtsiEvent> etsiEventsOf(EvidenceKind kind) {
    return switch (kind) {
      case COP -> Set.of(EtsiEvent.SUBMISSION_ACCEPTANCE);
      case SUBMISSION_REJECTION -> Set.of(EtsiEvent.SUBMISSION_REJECTION_EVENT);
      case RELAY_ACK -> Set.of(EtsiEvent.RELAY_ACCEPTANCE);
      case RELAY_REJECTION -> Set.of(EtsiEvent.RELAY_REJECTION_EVENT);
      case COD -> Set.of(EtsiEvent.CONSIGNMENT_ACCEPTANCE);
      case RECIPIENT_REFUSAL -> Set.of(EtsiEvent.CONSIGNMENT_REJECTION);
      case CONTENT_HANDOVER -> Set.of(EtsiEvent.CONTENT_HANDOVER_EVENT);
      case ROD_N, ROD -> Set.of(EtsiEvent.CONTENT_CONSIGNMENT);
      case NDN -> Set.of(EtsiEvent.CONTENT_CONSIGNMENT_FAILURE, EtsiEvent.ACCEPTANCE_REJECTION_EXPIRY,
          EtsiEvent.RELAY_FAILURE);
      case COMPENSATION_CLAIM -> Set.of(EtsiEvent.CERTMAIL_COMPENSATION_CLAIM);
      case EVIDENCE_KIND_UNSPECIFIED, UNRECOGNIZED -> Set.of();
    };
  }

  private static EvidenceStatement.Builder base(EvidenceKind kind, EtsiEvent event, String issuer, String label,
                                                long issuedAtMillis) {
    return EvidenceStatement.newBuilder().setVersion(VERSION).setKind(kind).setEtsiEvent(event)
        .setIssuer(issuer).setLabel(label).setIssuedAtMillis(issuedAtMillis);
  }

  /** COP = sig_P1(B, L, H(M), T). */
  public static EvidenceStatement cop(String p1, String label, String sender, String recipient, byte[] contentHash,
                                      long deadlineMillis, Flavour flavour, String submissionId, List<String> route,
                                      long issuedAtMillis) {
    return base(EvidenceKind.COP, EtsiEvent.SUBMISSION_ACCEPTANCE, p1, label, issuedAtMillis)
        .setSender(sender).setRecipient(recipient).setContentHash(ByteString.copyFrom(contentHash))
        .setDeadlineMillis(deadlineMillis).setFlavour(flavour).setSubmissionId(submissionId).addAllRoute(route)
        .build();
  }

  /** ACK_i = sig_Pi+1(Pi, B, L). */
  public static EvidenceStatement relayAck(String next, String previous, String label, String sender, String recipient,
                                           long issuedAtMillis) {
    return base(EvidenceKind.RELAY_ACK, EtsiEvent.RELAY_ACCEPTANCE, next, label, issuedAtMillis)
        .setCounterparty(previous).setSender(sender).setRecipient(recipient).build();
  }

  /**
   * COD = sig_B(Pn, L, h) where h is H(M) in CEM, H(L,M) in IP and empty in NSR (B has not seen
   * M when it signs).
   */
  public static EvidenceStatement cod(String recipient, String pn, String label, String sender, Flavour flavour,
                                      byte[] hash, long issuedAtMillis) {
    if (flavour == Flavour.NSR && hash.length != 0) {
      throw new IllegalArgumentException("an NSR COD carries no content hash");
    }
    return base(EvidenceKind.COD, EtsiEvent.CONSIGNMENT_ACCEPTANCE, recipient, label, issuedAtMillis)
        .setCounterparty(pn).setSender(sender).setRecipient(recipient).setFlavour(flavour)
        .setContentHash(ByteString.copyFrom(hash)).build();
  }

  /** ROD_n = sig_Pn(Pn, L), bound to the COD it reports by the hash of the COD's statement bytes. */
  public static EvidenceStatement rodN(String pn, String label, String sender, String recipient,
                                       byte[] codStatementBytes, long issuedAtMillis) {
    return base(EvidenceKind.ROD_N, EtsiEvent.CONTENT_CONSIGNMENT, pn, label, issuedAtMillis)
        .setCounterparty(pn).setSender(sender).setRecipient(recipient)
        .setCodStatementHash(ByteString.copyFrom(Sha256.hash(codStatementBytes))).build();
  }

  /** ROD = sig_P1(Pn, L), published with the COD. */
  public static EvidenceStatement rod(String p1, String pn, String label, String sender, String recipient,
                                      byte[] codStatementBytes, long issuedAtMillis) {
    return base(EvidenceKind.ROD, EtsiEvent.CONTENT_CONSIGNMENT, p1, label, issuedAtMillis)
        .setCounterparty(pn).setSender(sender).setRecipient(recipient)
        .setCodStatementHash(ByteString.copyFrom(Sha256.hash(codStatementBytes))).build();
  }

  /** NDN = sig_Pj(L, B, reason, time). */
  public static EvidenceStatement ndn(String pj, String label, String sender, String recipient, EtsiEvent event,
                                      ReasonCode reason, String detail, long issuedAtMillis) {
    if (!etsiEventsOf(EvidenceKind.NDN).contains(event)) {
      throw new IllegalArgumentException(event + " is not an ETSI event of a non-delivery notice");
    }
    return base(EvidenceKind.NDN, event, pj, label, issuedAtMillis)
        .setSender(sender).setRecipient(recipient).setReason(reason).setReasonDetail(detail).build();
  }

  /** P1 refused a submission: sig_P1(A, B, H(M), T, reason). No label was issued. */
  public static EvidenceStatement submissionRejection(String p1, String sender, String recipient, byte[] contentHash,
                                                      long deadlineMillis, Flavour flavour, String submissionId,
                                                      ReasonCode reason, String detail, long issuedAtMillis) {
    return base(EvidenceKind.SUBMISSION_REJECTION, EtsiEvent.SUBMISSION_REJECTION_EVENT, p1, "", issuedAtMillis)
        .setSender(sender).setRecipient(recipient).setContentHash(ByteString.copyFrom(contentHash))
        .setDeadlineMillis(deadlineMillis).setFlavour(flavour).setSubmissionId(submissionId)
        .setReason(reason).setReasonDetail(detail).build();
  }

  /** Pi+1 refused to carry L for Pi: sig_Pi+1(Pi, B, L, reason). */
  public static EvidenceStatement relayRejection(String next, String previous, String label, String sender,
                                                 String recipient, ReasonCode reason, String detail,
                                                 long issuedAtMillis) {
    return base(EvidenceKind.RELAY_REJECTION, EtsiEvent.RELAY_REJECTION_EVENT, next, label, issuedAtMillis)
        .setCounterparty(previous).setSender(sender).setRecipient(recipient)
        .setReason(reason).setReasonDetail(detail).build();
  }

  /** B explicitly refused L from Pn: sig_B(Pn, L, reason). */
  public static EvidenceStatement recipientRefusal(String recipient, String pn, String label, String sender,
                                                   String detail, long issuedAtMillis) {
    return base(EvidenceKind.RECIPIENT_REFUSAL, EtsiEvent.CONSIGNMENT_REJECTION, recipient, label, issuedAtMillis)
        .setCounterparty(pn).setSender(sender).setRecipient(recipient)
        .setReason(ReasonCode.RECIPIENT_REFUSED).setReasonDetail(detail).build();
  }

  /** Pn released M to B: sig_Pn(B, L, H(M)). In NSR and IP only after B's COD. */
  public static EvidenceStatement contentHandover(String pn, String recipient, String label, String sender,
                                                  Flavour flavour, byte[] contentHash, long issuedAtMillis) {
    return base(EvidenceKind.CONTENT_HANDOVER, EtsiEvent.CONTENT_HANDOVER_EVENT, pn, label, issuedAtMillis)
        .setCounterparty(recipient).setSender(sender).setRecipient(recipient).setFlavour(flavour)
        .setContentHash(ByteString.copyFrom(contentHash)).build();
  }

  /**
   * A's compensation claim: sig_A(COP, claim time). Anyone can check it offline: the embedded COP
   * is P1's, the claim is A's, and the claim time lies after T plus the grace period.
   */
  public static EvidenceStatement compensationClaim(String sender, SignedEvidence cop, EvidenceStatement copStatement,
                                                    long graceMillis, long issuedAtMillis) {
    return base(EvidenceKind.COMPENSATION_CLAIM, EtsiEvent.CERTMAIL_COMPENSATION_CLAIM, sender,
        copStatement.getLabel(), issuedAtMillis)
        .setSender(sender).setRecipient(copStatement.getRecipient()).setCounterparty(copStatement.getIssuer())
        .setContentHash(copStatement.getContentHash()).setDeadlineMillis(copStatement.getDeadlineMillis())
        .setFlavour(copStatement.getFlavour()).setSubmissionId(copStatement.getSubmissionId())
        .setReason(ReasonCode.DEADLINE_EXPIRED).setClaimedCop(cop).setGraceMillis(graceMillis).build();
  }
}
