package net.certmail.persistence.serialization;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.io.NotSerializableException;
import java.util.Locale;
import com.google.protobuf.ByteString;
import net.certmail.persistence.chain.ChainLink;
import net.certmail.proto.v1.ChainedEvent;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.ServerEvent;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Writes the entities' events as protobuf with a stable manifest of our own:
 * "{@code <kind>.v1/<event case>}", e.g. "server.v1/cod_accepted". Pekko's built-in protobuf
 * binding would store the Java class name instead, and renaming a class would then break every
 * stored journal. A manifest this code does not know, or an event case it cannot read (written
 * by a newer certmail), is an error, never a silent skip: replaying around a lost event would
 * rebuild a wrong state.
 *
 * <p>Since journals carry a hash chain, each event is stored as a {@link ChainLink}: manifest
 * "{@code chained.v1/<kind>.v1/<event case>}", bytes a {@code ChainedEvent} holding the exact
 * event bytes and the predecessor's chain hash. Plain events (journals written before) still read.
 */
public final class CertmailEventSerializer extends SerializerWithStringManifest {
  /** Unique among the serializers of an ActorSystem; never change it once journals exist. */
  public static final int IDENTIFIER = 8_200_601;

  static final String OUTBOX = "outbox.v1/";
  static final String SERVER = "server.v1/";
  static final String INBOX = "inbox.v1/";
  /** Prefix of an event stored in its stream's hash chain. */
  public static final String CHAINED = "chained.v1/";

  public CertmailEventSerializer(ExtendedActorSystem system) {}

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object event) {
    if (event instanceof ChainLink link) {
      return CHAINED + link.manifest();
    }
    return manifestOf(event);
  }

  /** The manifest of a plain event, e.g. "server.v1/cod_accepted"; anything else is an error. */
  public static String manifestOf(Object event) {
    if (event instanceof OutboxEvent outbox) {
      return OUTBOX + caseName(outbox.getEventCase());
    }
    if (event instanceof ServerEvent server) {
      return SERVER + caseName(server.getEventCase());
    }
    if (event instanceof InboxEvent inbox) {
      return INBOX + caseName(inbox.getEventCase());
    }
    throw new IllegalArgumentException("CertmailEventSerializer cannot serialize " + event.getClass().getName());
  }

  @Override
  public byte[] toBinary(Object event) {
    if (event instanceof ChainLink link) {
      return ChainedEvent.newBuilder().setPreviousHash(link.previousHash()).setEvent(link.eventBytes()).build()
          .toByteArray();
    }
    if (event instanceof Message message) {
      manifest(event); // rejects anything that is not one of our events
      return message.toByteArray();
    }
    throw new IllegalArgumentException("CertmailEventSerializer cannot serialize " + event.getClass().getName());
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    if (manifest.startsWith(CHAINED)) {
      String eventManifest = manifest.substring(CHAINED.length());
      if (eventManifest.startsWith(CHAINED)) {
        throw new NotSerializableException("a chained event inside a chained event (" + manifest
            + "): the journal is corrupt");
      }
      ChainedEvent chained;
      try {
        chained = ChainedEvent.parseFrom(bytes);
      } catch (InvalidProtocolBufferException e) {
        throw new NotSerializableException("corrupt chained certmail event with manifest " + manifest + ": "
            + e.getMessage());
      }
      ByteString eventBytes = chained.getEvent();
      return new ChainLink(chained.getPreviousHash(), eventManifest, eventBytes,
          (Message) fromBinary(eventBytes.toByteArray(), eventManifest));
    }
    try {
      if (manifest.startsWith(OUTBOX)) {
        OutboxEvent event = OutboxEvent.parseFrom(bytes);
        return checked(event, caseName(event.getEventCase()), manifest);
      }
      if (manifest.startsWith(SERVER)) {
        ServerEvent event = ServerEvent.parseFrom(bytes);
        return checked(event, caseName(event.getEventCase()), manifest);
      }
      if (manifest.startsWith(INBOX)) {
        InboxEvent event = InboxEvent.parseFrom(bytes);
        return checked(event, caseName(event.getEventCase()), manifest);
      }
    } catch (InvalidProtocolBufferException e) {
      throw new NotSerializableException("corrupt certmail event with manifest " + manifest + ": " + e.getMessage());
    }
    throw new NotSerializableException("unknown certmail event manifest \"" + manifest
        + "\": the journal was written by another version of certmail; run the version that wrote it");
  }

  private static Object checked(Object event, String parsedCase, String manifest) throws NotSerializableException {
    String expectedCase = manifest.substring(manifest.indexOf('/') + 1);
    if (!parsedCase.equals(expectedCase)) {
      throw new NotSerializableException("certmail event with manifest \"" + manifest + "\" decodes as \""
          + parsedCase + "\": it was written by a newer certmail or the journal is corrupt");
    }
    return event;
  }

  static String caseName(Enum<?> eventCase) {
    return eventCase.name().toLowerCase(Locale.ROOT);
  }
}
