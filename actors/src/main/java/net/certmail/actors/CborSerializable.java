package net.certmail.actors;

/**
 * Marker of commands and replies that cross nodes (owner requests, inbound envelopes): bound to
 * Pekko's Jackson CBOR serializer in reference.conf. Protocol data inside them travels as the
 * protobuf bytes it already is. Persisted events never use this: they are protobuf with our own
 * manifests (persistence's CertmailEventSerializer).
 */
public interface CborSerializable {}
