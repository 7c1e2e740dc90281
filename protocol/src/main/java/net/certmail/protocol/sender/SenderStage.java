package net.certmail.protocol.sender;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import net.certmail.proto.v1.DeliveryStatus;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.MailSubmitted;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.MailFacts;

/**
 * The stages of A's side of one submission (the paper's mailbox program A):
 *
 * <pre>
 *   Empty --Submit--> AwaitingCop --COP--> InDelivery --ROD+COD | NDN | T+grace (claim)--> Concluded
 *                         |  \--signed rejection-------------------------------------------^  ^
 *                         \--T+grace, neither COP nor rejection: NOT_POSTED--------------------/
 * </pre>
 *
 * Every stage but Concluded ends by T plus grace at the latest; Concluded only records late
 * evidence, never changes its outcome.
 */
public sealed interface SenderStage {

  /** No submission under this id yet. */
  enum Empty implements SenderStage { INSTANCE }

  /** Steps 1-2: the submission is resent to the origin until it answers with a COP or a rejection. */
  record AwaitingCop(MailSubmitted mail) implements SenderStage {}

  /**
   * The origin certified the posting; A waits for the verdict (step 9), asking the origin from T on.
   * {@code recipientNotified}: the origin passed on Pn's note that B was notified (progress only).
   */
  record InDelivery(MailSubmitted mail, CertifiedPosting posting, boolean recipientNotified) implements SenderStage {

    public MailFacts facts() {
      return posting.facts();
    }
  }

  /** The outcome stands; evidence that verifies and is entitled but comes later is kept as late. */
  record Concluded(MailSubmitted mail, Optional<CertifiedPosting> posting, Outcome status, ReasonCode reason,
                   List<SignedEvidence> evidence, List<SignedEvidence> late) implements SenderStage {

    public Concluded {
      evidence = List.copyOf(evidence);
      late = List.copyOf(late);
    }

    public String label() {
      return posting.map(CertifiedPosting::label).orElse("");
    }

    public Concluded withLate(List<SignedEvidence> more) {
      List<SignedEvidence> all = new ArrayList<>(late);
      all.addAll(more);
      return new Concluded(mail, posting, status, reason, evidence, all);
    }

    /** Whether this exact item is already held, as part of the outcome or as late evidence. */
    public boolean holds(SignedEvidence item) {
      return evidence.contains(item) || late.contains(item);
    }
  }

  /** The COP A accepted: the label, the signed item and its statement (the mail's facts). */
  record CertifiedPosting(String label, SignedEvidence cop, EvidenceStatement statement) {

    public MailFacts facts() {
      return MailFacts.of(statement);
    }
  }

  /** How a submission ended. */
  enum Outcome {
    /** ROD with ROD_n and COD from the origin. */
    DELIVERED,
    /** A signed rejection of the submission, or an NDN by a server on the route, before T. */
    NOT_DELIVERED,
    /** A COP but no verdict by T plus grace: A holds a compensation claim. */
    LOST,
    /** Neither COP nor rejection by T plus grace: nothing was posted, nobody owes a verdict. */
    NOT_POSTED;

    public DeliveryStatus deliveryStatus() {
      return switch (this) {
        case DELIVERED -> DeliveryStatus.DELIVERED;
        case NOT_DELIVERED -> DeliveryStatus.NOT_DELIVERED;
        case LOST -> DeliveryStatus.LOST;
        case NOT_POSTED -> DeliveryStatus.NOT_POSTED;
      };
    }
  }
}
