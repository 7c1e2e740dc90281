package net.certmail.actors;

import java.util.List;

/**
 * A mailbox owner's view of one label: who sent it through which agent, where it stands
 * (NONE, AWAITING_DECISION, EXPIRED, ACKNOWLEDGED, RETRIEVED, REFUSED: the protocol core's
 * RecipientView), the content once B may have it (null before), and the evidence B signed or
 * received. {@code problem} explains a request that
 * was not carried out; null otherwise. {@code acceptsUntilMillis}: while the mail awaits a decision,
 * the last instant B's home server takes its COD (the owner's countdown); 0 otherwise.
 */
public record InboxView(String mailbox, String label, String sender, String agent, String flavour, String status,
                        byte[] content, List<byte[]> evidence, long acceptsUntilMillis, String problem)
    implements CborSerializable {}
