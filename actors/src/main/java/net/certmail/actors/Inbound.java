package net.certmail.actors;

/**
 * A signed envelope for an entity, as the bytes it travelled as. The receiving entity opens and
 * verifies it before acting; nothing outside the envelope is trusted, including the entity id
 * it was routed by.
 */
public record Inbound(byte[] envelope)
    implements OutboxEntry.Command, MailServer.Command, InboxEntry.Command, CborSerializable {}
