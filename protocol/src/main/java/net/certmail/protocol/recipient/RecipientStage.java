package net.certmail.protocol.recipient;

import com.google.protobuf.ByteString;
import java.util.Optional;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.NotificationReceived;
import net.certmail.proto.v1.SignedEvidence;

/**
 * Where B stands on one label (the paper's steps 5 to 7, seen from the mailbox):
 *
 * <pre>
 *   Empty --notification from B's home server--> Held           the owner decides (policy HOLD)
 *                                                 |--Accept--> Acknowledged   COD signed; in NSR/IP M is fetched
 *                                                 '--Refuse--> Refused        refusal signed
 * </pre>
 *
 * Every stage after Empty holds the first notification: the label lock. While Held, B answers
 * each notification with NotificationHeld, so its agent may sleep until its cut-off; a decision
 * taken after that is resent until the agent confirms it ({@link Decided#confirmationDue()}).
 */
public sealed interface RecipientStage {

  /** Nothing heard about the label. */
  record Empty() implements RecipientStage {}

  /** A stage that holds the notification B was first given for the label. */
  sealed interface Notified extends RecipientStage permits Held, Decided {
    NotificationReceived notice();
  }

  /** The owner decided: a COD or a refusal that the agent must hold. */
  sealed interface Decided extends Notified permits Acknowledged, Refused {

    /** When B decided: the resend schedule of an unconfirmed decision starts here. */
    long decidedAtMillis();

    /**
     * B decided after telling its agent that it holds the mail, and the agent has not confirmed
     * the decision yet: the agent may be asleep, so B resends it.
     */
    boolean confirmationDue();
  }

  /** Notified; the owner has not decided. B may sign the COD until {@link #acceptsUntilMillis()}. */
  record Held(NotificationReceived notice) implements Notified {

    /**
     * The last instant B signs the COD: the deadline the agent told B (the one it keeps), and in
     * any case before T, after which nobody signs a COD.
     */
    public long acceptsUntilMillis() {
      return Math.min(notice.getCodDeadlineMillis(), notice.getDeadlineMillis() - 1);
    }

    public boolean expiredAt(long now) {
      return now > acceptsUntilMillis();
    }
  }

  /**
   * B signed the COD at {@code signedAtMillis}. In CEM the content came with the delivery; in NSR
   * and IP it is absent until retrieved from the agent ({@code retrieval}).
   */
  record Acknowledged(NotificationReceived notice, SignedEvidence cod, long signedAtMillis,
                      Optional<Retrieval> retrieval, boolean unconfirmed) implements Decided {

    public Acknowledged withRetrieval(Retrieval taken) {
      return new Acknowledged(notice, cod, signedAtMillis, Optional.of(taken), unconfirmed);
    }

    public Acknowledged confirmed() {
      return new Acknowledged(notice, cod, signedAtMillis, retrieval, false);
    }

    @Override
    public long decidedAtMillis() {
      return signedAtMillis;
    }

    /** The agent's content handover confirms the COD as well: it signs one only for a COD it holds. */
    @Override
    public boolean confirmationDue() {
      return unconfirmed && retrieval.isEmpty();
    }

    /** Whether B holds M: always in CEM, in NSR and IP once retrieved. */
    public boolean holdsContent() {
      return notice.getFlavour() == Flavour.CEM || retrieval.isPresent();
    }

    public Optional<ByteString> content() {
      return notice.getFlavour() == Flavour.CEM ? Optional.of(notice.getContent()) : retrieval.map(Retrieval::content);
    }
  }

  /** M as B took it from the agent (NSR, IP), with the agent's signed content handover. */
  record Retrieval(ByteString content, SignedEvidence handover) {}

  /** B refused the mail and signed the refusal at {@code refusedAtMillis}. */
  record Refused(NotificationReceived notice, SignedEvidence refusal, long refusedAtMillis, boolean unconfirmed)
      implements Decided {

    public Refused confirmed() {
      return new Refused(notice, refusal, refusedAtMillis, false);
    }

    @Override
    public long decidedAtMillis() {
      return refusedAtMillis;
    }

    @Override
    public boolean confirmationDue() {
      return unconfirmed;
    }
  }
}
