package net.certmail.actors;

import java.util.List;
import net.certmail.proto.v1.Flavour;
import net.certmail.protocol.recipient.RecipientView;

/**
 * A mailbox owner's view of one label: who sent it through which agent, where it stands (the
 * protocol core's {@link RecipientView.Status}; NONE for a label the mailbox never received), the
 * content once B may have it (null before), and the evidence B signed or received. {@code flavour}
 * is {@link Flavour#FLAVOUR_UNSPECIFIED} while nothing is known. {@code acceptsUntilMillis}: while the mail awaits a decision, the
 * last instant B's home server takes its COD (the owner's countdown); 0 otherwise. {@code problem}
 * explains a request that was not carried out; null otherwise.
 */
public record InboxView(String mailbox, String label, String sender, String agent, Flavour flavour,
                        RecipientView.Status status, byte[] content, List<byte[]> evidence, long acceptsUntilMillis,
                        String problem)
    implements CborSerializable {

  /** The mailbox never received this label. */
  public boolean isUnknown() {
    return status == RecipientView.Status.NONE;
  }
}
