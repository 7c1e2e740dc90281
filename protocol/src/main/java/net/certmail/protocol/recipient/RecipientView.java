package net.certmail.protocol.recipient;

import com.google.protobuf.ByteString;
import java.util.List;
import java.util.Optional;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.NotificationReceived;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.recipient.RecipientStage.Acknowledged;
import net.certmail.protocol.recipient.RecipientStage.Held;
import net.certmail.protocol.recipient.RecipientStage.Notified;
import net.certmail.protocol.recipient.RecipientStage.Refused;

/**
 * What B's owner sees of one label: a pure function of the stage and the time. The content is
 * shown only when B may have it: in CEM always (it came with the delivery: selective receipt),
 * in NSR and IP only once retrieved after the COD.
 *
 * @param acceptsUntilMillis while held, the last instant B may still sign the COD; 0 otherwise
 */
public record RecipientView(Status status, String sender, String agent, Optional<Flavour> flavour,
                            Optional<ByteString> content, List<SignedEvidence> evidence, long acceptsUntilMillis) {

  public enum Status {
    /** Nothing known about the label. */
    NONE,
    /** Held: the owner may accept or refuse. */
    AWAITING_DECISION,
    /** Held past the instant until which the agent accepts a COD: nothing left to decide. */
    EXPIRED,
    /** COD signed; in NSR and IP the content is still being fetched. */
    ACKNOWLEDGED,
    /** COD signed and B holds the content. */
    RETRIEVED,
    /** B refused the mail. */
    REFUSED
  }

  public RecipientView {
    evidence = List.copyOf(evidence);
  }

  public static RecipientView of(RecipientStage stage, long now) {
    if (!(stage instanceof Notified notified)) {
      return new RecipientView(Status.NONE, "", "", Optional.empty(), Optional.empty(), List.of(), 0);
    }
    NotificationReceived notice = notified.notice();
    Optional<ByteString> delivered = notice.getFlavour() == Flavour.CEM ? Optional.of(notice.getContent())
        : Optional.empty();
    if (stage instanceof Held held) {
      Status status = held.expiredAt(now) ? Status.EXPIRED : Status.AWAITING_DECISION;
      return view(notice, status, delivered, List.of(), held.acceptsUntilMillis());
    }
    if (stage instanceof Acknowledged acknowledged) {
      List<SignedEvidence> evidence = acknowledged.retrieval()
          .map(taken -> List.of(acknowledged.cod(), taken.handover())).orElse(List.of(acknowledged.cod()));
      return view(notice, acknowledged.holdsContent() ? Status.RETRIEVED : Status.ACKNOWLEDGED,
          acknowledged.content(), evidence, 0);
    }
    Refused refused = (Refused) stage;
    return view(notice, Status.REFUSED, delivered, List.of(refused.refusal()), 0);
  }

  private static RecipientView view(NotificationReceived notice, Status status, Optional<ByteString> content,
                                    List<SignedEvidence> evidence, long acceptsUntilMillis) {
    return new RecipientView(status, notice.getSender(), notice.getAgent(), Optional.of(notice.getFlavour()), content,
        evidence, acceptsUntilMillis);
  }
}
