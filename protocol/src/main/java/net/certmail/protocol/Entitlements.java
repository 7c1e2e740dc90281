package net.certmail.protocol;

import static net.certmail.protocol.Problems.expect;
import static net.certmail.protocol.Problems.first;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.Sha256;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.ReasonCode;

/**
 * Who may say what. A valid signature proves who issued a statement, not that it was theirs to
 * issue: every evidence item is checked here against the facts of the mail's COP (its label,
 * parties, deadline and route) before anyone acts on it, records it or publishes it.
 *
 * <pre>
 *   COP, ROD, submission rejection   only the label's origin P1 (the label's namespace, A's home server)
 *   ACK_i, relay rejection           only Pi+1, naming Pi, both on the COP's route
 *   COD, refusal                     only B, naming Pn
 *   ROD_n, content handover          only Pn, B's home server, last on the route
 *   NDN                              only a server on the route, for a reason that fits its place
 *   verdicts (ROD_n, ROD, NDN), COD  issued before T
 * </pre>
 *
 * Each check returns the problem, or empty when the statement is fit.
 */
public final class Entitlements {
  /** Reasons Pn may give: it could not deliver to B. */
  private static final Set<ReasonCode> DESTINATION_REASONS = EnumSet.of(ReasonCode.RECIPIENT_DID_NOT_ACKNOWLEDGE,
      ReasonCode.RECIPIENT_REFUSED, ReasonCode.UNKNOWN_RECIPIENT, ReasonCode.DEADLINE_EXPIRED);
  /** Reasons P1..Pn-1 may give: the next hop could not be reached or refused; P1's cut-off passed. */
  private static final Set<ReasonCode> RELAY_REASONS = EnumSet.of(ReasonCode.RELAY_UNREACHABLE,
      ReasonCode.RELAY_REJECTED, ReasonCode.UNKNOWN_RECIPIENT, ReasonCode.UNKNOWN_DOMAIN, ReasonCode.DEADLINE_EXPIRED);

  private Entitlements() {}

  /** The content hash a COD must carry: H(M) in CEM, nothing in NSR, H(L,M) in IP. */
  public static byte[] expectedCodHash(Flavour flavour, String label, byte[] content) {
    return switch (flavour) {
      case CEM -> ContentHash.of(content);
      case IP -> ContentHash.labelled(label, content);
      default -> new byte[0];
    };
  }

  /** Reasons a server at {@code position} of a route of {@code length} servers may give in an NDN. */
  public static Set<ReasonCode> ndnReasonsAt(int position, int length) {
    Set<ReasonCode> reasons = new HashSet<>();
    if (position == length - 1) {
      reasons.addAll(DESTINATION_REASONS);
    }
    if (position < length - 1) {
      reasons.addAll(RELAY_REASONS);
    }
    return reasons;
  }

  /**
   * A COP that can be a COP at all: issued by the label's origin, which is the sender's home
   * server, for the label derived from sender and submission id, along a route from the origin
   * to the recipient's home server.
   */
  public static Optional<String> cop(EvidenceStatement cop) {
    String origin = cop.getIssuer();
    return first(
        expect(cop.getKind() == EvidenceKind.COP, "not a COP"),
        expect(Labels.originOf(cop.getLabel()).equals(origin), "COP by " + origin + " for a label of "
            + Labels.originOf(cop.getLabel())),
        expect(Routing.isMailbox(cop.getSender()) && Routing.domainOf(cop.getSender()).equals(origin),
            "COP by " + origin + " for a sender of another server: " + cop.getSender()),
        expect(Routing.isMailbox(cop.getRecipient()), "COP for a recipient that is no mailbox"),
        expect(cop.getLabel().equals(Labels.forSubmission(origin, cop.getSender(), cop.getSubmissionId())),
            "COP label is not the one derived from sender and submission id"),
        expect(cop.getRouteCount() > 0 && cop.getRoute(0).equals(origin)
            && cop.getRoute(cop.getRouteCount() - 1).equals(Routing.domainOf(cop.getRecipient()))
            && new HashSet<>(cop.getRouteList()).size() == cop.getRouteCount(),
            "COP route does not lead from the origin to the recipient's server without loops"),
        expect(cop.getFlavour() == Flavour.CEM || cop.getFlavour() == Flavour.NSR || cop.getFlavour() == Flavour.IP,
            "COP without a flavour"));
  }

  /** Any item about this mail, by its kind: what the audit and late-evidence records use. */
  public static Optional<String> check(EvidenceStatement item, MailFacts mail) {
    return switch (item.getKind()) {
      case COP -> first(cop(item), expect(item.getLabel().equals(mail.label()), "COP for another label"));
      case RELAY_ACK, RELAY_REJECTION -> hop(item, mail);
      case COD -> first(aboutMail(item, mail), fromRecipient(item, mail),
          expect(item.getFlavour() == mail.flavour(), "COD of another flavour"), beforeDeadline(item, mail));
      case RECIPIENT_REFUSAL -> first(aboutMail(item, mail), fromRecipient(item, mail));
      case CONTENT_HANDOVER -> first(aboutMail(item, mail),
          expect(item.getIssuer().equals(mail.destination()), "content handed over by " + item.getIssuer()
              + ", not by the destination " + mail.destination()),
          expect(item.getCounterparty().equals(mail.recipient()), "content handed over to another party"),
          expect(Arrays.equals(item.getContentHash().toByteArray(), mail.contentHash()),
              "content handover over another content"));
      case ROD_N -> first(aboutMail(item, mail),
          expect(item.getIssuer().equals(mail.destination()), "ROD_n from " + item.getIssuer() + ", not "
              + mail.destination()), beforeDeadline(item, mail));
      case ROD -> first(aboutMail(item, mail),
          expect(item.getIssuer().equals(mail.origin()), "ROD from " + item.getIssuer() + ", not the origin "
              + mail.origin()),
          expect(item.getCounterparty().equals(mail.destination()), "ROD names another delivering server"),
          beforeDeadline(item, mail));
      case NDN -> ndn(item, mail);
      case SUBMISSION_REJECTION, COMPENSATION_CLAIM, EVIDENCE_KIND_UNSPECIFIED, UNRECOGNIZED ->
          Optional.of(item.getKind() + " is not evidence a server carries for a label");
    };
  }

  /** ACK_i or a relay rejection: from Pi+1 on the route, naming Pi just before it. */
  public static Optional<String> hop(EvidenceStatement item, MailFacts mail) {
    int position = mail.positionOf(item.getIssuer());
    return first(aboutMail(item, mail),
        expect(position > 0, item.getKind() + " from " + item.getIssuer() + ", a server that is not a later hop"
            + " of the route " + mail.route()),
        expect(position > 0 && item.getCounterparty().equals(mail.route().get(position - 1)),
            item.getKind() + " names " + item.getCounterparty() + ", not the previous hop"));
  }

  /** The COD Pn and A accept: B's, naming Pn, over the flavour's hash of this content. */
  public static Optional<String> cod(EvidenceStatement cod, MailFacts mail, byte[] content) {
    return first(check(cod, mail), expect(cod.getKind() == EvidenceKind.COD, "not a COD"),
        expect(Arrays.equals(cod.getContentHash().toByteArray(), expectedCodHash(mail.flavour(), mail.label(), content)),
            "COD over another content hash"));
  }

  /** ROD_n (and ROD) bound to exactly this COD's statement bytes. */
  public static Optional<String> boundToCod(EvidenceStatement report, byte[] codStatementBytes) {
    return expect(Arrays.equals(report.getCodStatementHash().toByteArray(), Sha256.hash(codStatementBytes)),
        report.getKind() + " is not bound to this COD");
  }

  /** An NDN: by a server on the route, for a reason that fits its place, issued before T. */
  public static Optional<String> ndn(EvidenceStatement ndn, MailFacts mail) {
    int position = mail.positionOf(ndn.getIssuer());
    return first(
        expect(ndn.getKind() == EvidenceKind.NDN, "not a non-delivery notice"),
        aboutMail(ndn, mail),
        expect(position >= 0, "NDN from " + ndn.getIssuer() + ", which is not on the route " + mail.route()),
        expect(position < 0 || ndnReasonsAt(position, mail.route().size()).contains(ndn.getReason()),
            "NDN reason " + ndn.getReason() + " does not fit " + ndn.getIssuer() + "'s place on the route"),
        beforeDeadline(ndn, mail));
  }

  private static Optional<String> fromRecipient(EvidenceStatement item, MailFacts mail) {
    return first(
        expect(item.getIssuer().equals(mail.recipient()), item.getKind() + " signed by " + item.getIssuer()
            + ", not the recipient"),
        expect(item.getCounterparty().equals(mail.destination()), item.getKind() + " names another delivering server"));
  }

  private static Optional<String> aboutMail(EvidenceStatement item, MailFacts mail) {
    return first(
        expect(item.getLabel().equals(mail.label()), item.getKind() + " for another label"),
        expect(item.getRecipient().equals(mail.recipient()) && item.getSender().equals(mail.sender()),
            item.getKind() + " names other parties"));
  }

  /** Nobody signs a verdict, or a COD, after T. */
  private static Optional<String> beforeDeadline(EvidenceStatement item, MailFacts mail) {
    return expect(item.getIssuedAtMillis() < mail.deadlineMillis(), item.getKind() + " issued at or after T");
  }
}
