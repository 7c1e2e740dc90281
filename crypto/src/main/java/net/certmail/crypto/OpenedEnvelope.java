package net.certmail.crypto;

import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.SignedEnvelope;

/** An envelope whose signature, sender certificate, addressee and freshness were checked. */
public record OpenedEnvelope(String from, String to, String messageId, long sentAtMillis, ProtocolMessage message,
                             SignedEnvelope envelope) {}
