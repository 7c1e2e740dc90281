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
 * Every stage after Empty holds the first notification: the label lock.
 */
public sealed interface RecipientStage {

  /** Nothing heard about the label. */
  record Empty() implements RecipientStage {}

  /** A stage that holds the notification B was first given for the label. */
  sealed interface Notified extends RecipientStage permits Held, Acknowledged, Refused {
    NotificationReceived notice();
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
                      Optional<Retrieval> retrieval) implements Notified {

    public Acknowledged withRetrieval(Retrieval taken) {
      return new Acknowledged(notice, cod, signedAtMillis, Optional.of(taken));
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

  /** B refused the mail and signed the refusal. */
  record Refused(NotificationReceived notice, SignedEvidence refusal) implements Notified {}
}
