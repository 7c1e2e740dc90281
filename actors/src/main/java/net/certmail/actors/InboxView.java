package net.certmail.actors;

import java.util.List;

/**
 * A mailbox owner's view of one label: who sent it through which agent, where it stands
 * (NONE, AWAITING_DECISION, EXPIRED, ACKNOWLEDGED, RETRIEVED, REFUSED: the protocol core's
 * RecipientView), the content once B may have it (null before), and the evidence B signed or
 * received. {@code problem} explains a request that
 * was not carried out; null otherwise.
 */
public record InboxView(String mailbox, String label, String sender, String agent, String flavour, String status,
                        byte[] content, List<byte[]> evidence, String problem) implements CborSerializable {}
