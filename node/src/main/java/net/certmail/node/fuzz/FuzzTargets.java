package net.certmail.node.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.NotSerializableException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.certmail.crypto.BundleVerifier;
import net.certmail.crypto.EnvelopeOpener;
import net.certmail.crypto.EnvelopeSealer;
import net.certmail.crypto.EvidenceBundles;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.KeyAlgorithm;
import net.certmail.crypto.NetworkCa;
import net.certmail.crypto.NotABundleException;
import net.certmail.crypto.OpenedEnvelope;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.crypto.ReplayGuard;
import net.certmail.crypto.SampleEvidence;
import net.certmail.crypto.TrustStore;
import net.certmail.crypto.VerificationException;
import net.certmail.crypto.VerifiedEvidence;
import net.certmail.node.http.JsonBodyFuzzTarget;
import net.certmail.persistence.serialization.CertmailEventSerializer;
import net.certmail.proto.v1.CodReply;
import net.certmail.proto.v1.CopReply;
import net.certmail.proto.v1.DeliveryConfirmed;
import net.certmail.proto.v1.EvidenceBundle;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.InboxEvent;
import net.certmail.proto.v1.MailSubmitted;
import net.certmail.proto.v1.OutboxEvent;
import net.certmail.proto.v1.PostingCertified;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.Relay;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.proto.v1.SignedEnvelope;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.Submission;

/**
 * Every decoder and verifier of certmail that takes outside bytes, as fuzz targets, over a small
 * network of real keys made at start (a CA and the sample principals, Ed25519, at a fixed time):
 * <ul>
 *   <li>{@code envelope-open}: SignedEnvelope bytes through crypto's EnvelopeOpener</li>
 *   <li>{@code protocol-message}: ProtocolMessage bytes (an envelope's payload) parsed</li>
 *   <li>{@code evidence-verify}: SignedEvidence bytes through EvidenceVerifier</li>
 *   <li>{@code bundle-read}: bundle file bytes through EvidenceBundles.parse and BundleVerifier</li>
 *   <li>{@code journal-event}: stored event bytes (and manifest) through CertmailEventSerializer</li>
 *   <li>{@code http-json}: request bodies through the HTTP API's JSON mapper</li>
 * </ul>
 * An input may be refused only with the target's own exception types; an input that is accepted
 * must carry exactly what a seed's signer signed (else a signature was bypassed).
 */
public final class FuzzTargets {
  static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  private static final String RECIPIENT = SampleEvidence.ORIGIN;

  private FuzzTargets() {}

  /** All targets, sharing one set of keys and seeds. */
  public static List<FuzzTarget> all() {
    Network network = new Network();
    return List.of(envelopeOpen(network), protocolMessage(network), evidenceVerify(network), bundleRead(network),
        journalEvent(network), new JsonBodyFuzzTarget());
  }

  /** The sample principals' keys, the sample evidence chain, and envelopes and events built from it. */
  static final class Network {
    final NetworkCa ca = NetworkCa.create("certmail fuzz CA", KeyAlgorithm.ED25519, Duration.ofDays(3650),
        Clock.fixed(NOW.minus(Duration.ofDays(100)), ZoneOffset.UTC));
    final Map<String, PrincipalKeys> keys = new LinkedHashMap<>();
    final TrustStore trustStore;
    final EvidenceBundle bundle;
    final List<SignedEnvelope> envelopes = new ArrayList<>();

    Network() {
      NetworkCa issuing = new NetworkCa(ca.certificate(), ca.privateKey(), KeyAlgorithm.ED25519,
          Clock.fixed(NOW.minus(Duration.ofDays(1)), ZoneOffset.UTC));
      for (String principal : List.of(SampleEvidence.ORIGIN, SampleEvidence.SENDER, SampleEvidence.RELAY,
          SampleEvidence.DESTINATION, SampleEvidence.RECIPIENT)) {
        String organisation = principal.substring(principal.indexOf('@') + 1);
        keys.put(principal, issuing.issue(principal, organisation, KeyAlgorithm.ED25519, Duration.ofDays(365)));
      }
      trustStore = new TrustStore(ca.certificate(), keys.values().stream().map(PrincipalKeys::certificate).toList());
      bundle = SampleEvidence.bundle(keys, trustStore, CLOCK);
      SignedEvidence cop = bundle.getItems(0);
      byte[] content = "Subject: hello\r\n\r\nfuzz".getBytes(StandardCharsets.UTF_8);
      List<ProtocolMessage> messages = List.of(
          ProtocolMessage.newBuilder().setSubmission(Submission.newBuilder().setSubmissionId("s-1")
              .setSender(SampleEvidence.SENDER).setRecipient(SampleEvidence.RECIPIENT)
              .setContent(ByteString.copyFrom(content)).setDeadlineMillis(NOW.toEpochMilli() + 86_400_000)
              .setFlavour(Flavour.CEM)).build(),
          ProtocolMessage.newBuilder().setCopReply(CopReply.newBuilder().setSubmissionId("s-1")
              .setLabel(bundle.getLabel()).setCop(cop)).build(),
          ProtocolMessage.newBuilder().setRelay(Relay.newBuilder().setLabel(bundle.getLabel())
              .setSender(SampleEvidence.SENDER).setRecipient(SampleEvidence.RECIPIENT).setContent(ByteString.copyFrom(content))
              .setDeadlineMillis(NOW.toEpochMilli() + 86_400_000).setFlavour(Flavour.CEM)
              .setOriginServer(SampleEvidence.ORIGIN).setCop(cop)).build(),
          ProtocolMessage.newBuilder().setCodReply(CodReply.newBuilder().setLabel(bundle.getLabel())
              .setCod(bundle.getItems(2))).build());
      String[] senders = {SampleEvidence.SENDER, SampleEvidence.SENDER, SampleEvidence.RELAY, SampleEvidence.DESTINATION};
      for (int i = 0; i < messages.size(); i++) {
        envelopes.add(new EnvelopeSealer(keys.get(senders[i]), CLOCK).seal(RECIPIENT, messages.get(i)));
      }
    }
  }

  static FuzzTarget envelopeOpen(Network network) {
    Set<ByteString> signed = new HashSet<>();
    List<byte[]> seeds = new ArrayList<>();
    for (SignedEnvelope envelope : network.envelopes) {
      seeds.add(envelope.toByteArray());
      signed.add(signedContent(envelope.getFrom(), envelope.getTo(), envelope.getMessageId(), envelope.getSentAtMillis(),
          envelope.getPayload()));
    }
    return target("envelope-open", seeds, input -> {
      SignedEnvelope envelope;
      try {
        envelope = SignedEnvelope.parseFrom(input);
      } catch (InvalidProtocolBufferException e) {
        return "unparsable";
      }
      EnvelopeOpener opener = new EnvelopeOpener(network.trustStore, new ReplayGuard(CLOCK, Duration.ofMinutes(10)));
      try {
        OpenedEnvelope opened = opener.open(envelope, RECIPIENT);
        if (!signed.contains(signedContent(opened.from(), opened.to(), opened.messageId(), opened.sentAtMillis(),
            opened.envelope().getPayload()))) {
          throw new AssertionError("an envelope nobody signed was opened: " + opened.from() + " " + opened.messageId());
        }
        return "opened:" + opened.message().getMessageCase();
      } catch (VerificationException e) {
        return "refused:" + e.failure();
      }
    });
  }

  private static ByteString signedContent(String from, String to, String id, long sentAt, ByteString payload) {
    return ByteString.copyFromUtf8(from + "\u0000" + to + "\u0000" + id + "\u0000" + sentAt + "\u0000").concat(payload);
  }

  static FuzzTarget protocolMessage(Network network) {
    List<byte[]> seeds = network.envelopes.stream().map(envelope -> envelope.getPayload().toByteArray()).toList();
    return target("protocol-message", seeds, input -> {
      ProtocolMessage message;
      try {
        message = ProtocolMessage.parseFrom(input);
      } catch (InvalidProtocolBufferException e) {
        return "unparsable";
      }
      // What parses re-encodes to a message that parses to the same thing.
      if (!ProtocolMessage.parseFrom(message.toByteArray()).equals(message)) {
        throw new AssertionError("a parsed message does not survive its own encoding");
      }
      return "parsed:" + message.getMessageCase();
    });
  }

  static FuzzTarget evidenceVerify(Network network) {
    EvidenceVerifier verifier = new EvidenceVerifier(network.trustStore);
    Set<ByteString> signed = new HashSet<>();
    List<byte[]> seeds = new ArrayList<>();
    for (SignedEvidence item : network.bundle.getItemsList()) {
      seeds.add(item.toByteArray());
      signed.add(ByteString.copyFromUtf8(item.getSigner() + "|").concat(item.getStatement()));
    }
    return target("evidence-verify", seeds, input -> {
      SignedEvidence evidence;
      try {
        evidence = SignedEvidence.parseFrom(input);
      } catch (InvalidProtocolBufferException e) {
        return "unparsable";
      }
      try {
        VerifiedEvidence verified = verifier.verify(evidence);
        if (!signed.contains(ByteString.copyFromUtf8(evidence.getSigner() + "|").concat(evidence.getStatement()))
            || !verified.statement().getIssuer().equals(evidence.getSigner())) {
          throw new AssertionError("evidence nobody signed was verified: " + evidence.getSigner());
        }
        return "verified:" + verified.statement().getKind();
      } catch (VerificationException e) {
        return "refused:" + e.failure();
      }
    });
  }

  static FuzzTarget bundleRead(Network network) {
    Set<ByteString> signed = new HashSet<>();
    network.bundle.getItemsList().forEach(item ->
        signed.add(ByteString.copyFromUtf8(item.getSigner() + "|").concat(item.getStatement())));
    return target("bundle-read", List.of(EvidenceBundles.toBytes(network.bundle)), input -> {
      EvidenceBundle bundle;
      try {
        bundle = EvidenceBundles.parse(input, "fuzz input");
      } catch (NotABundleException e) {
        return "not-a-bundle";
      }
      BundleVerifier.Report report = BundleVerifier.verify(bundle, Optional.of(network.ca.certificate()));
      if (report.verdict() == BundleVerifier.Verdict.VALID) {
        for (SignedEvidence item : bundle.getItemsList()) {
          if (!signed.contains(ByteString.copyFromUtf8(item.getSigner() + "|").concat(item.getStatement()))) {
            throw new AssertionError("a bundle with evidence nobody signed is VALID");
          }
        }
      }
      BundleVerifier.verify(bundle); // against the bundle's own CA: a verdict, never an exception
      return "verdict:" + report.verdict() + ":" + report.invalidCount();
    });
  }

  /**
   * The first byte picks the manifest (every event case of the three kinds, and some that are
   * not), the rest is the stored payload. Only NotSerializableException may come out.
   */
  static FuzzTarget journalEvent(Network network) {
    List<String> manifests = new ArrayList<>();
    for (OutboxEvent.EventCase c : OutboxEvent.EventCase.values()) {
      manifests.add("outbox.v1/" + c.name().toLowerCase(java.util.Locale.ROOT));
    }
    for (ServerEvent.EventCase c : ServerEvent.EventCase.values()) {
      manifests.add("server.v1/" + c.name().toLowerCase(java.util.Locale.ROOT));
    }
    for (InboxEvent.EventCase c : InboxEvent.EventCase.values()) {
      manifests.add("inbox.v1/" + c.name().toLowerCase(java.util.Locale.ROOT));
    }
    manifests.addAll(List.of("", "outbox.v1/", "server.v2/cod_accepted", "inbox.v1/../server", "x"));
    CertmailEventSerializer serializer = new CertmailEventSerializer(null);
    List<OutboxEvent> events = List.of(
        OutboxEvent.newBuilder().setMailSubmitted(MailSubmitted.newBuilder().setSubmissionId("s-1")
            .setSender(SampleEvidence.SENDER).setRecipient(SampleEvidence.RECIPIENT).setOriginServer(SampleEvidence.ORIGIN)
            .setContent(ByteString.copyFromUtf8("hello")).setDeadlineMillis(NOW.toEpochMilli()).setFlavour(Flavour.NSR))
            .build(),
        OutboxEvent.newBuilder().setPostingCertified(PostingCertified.newBuilder().setLabel(network.bundle.getLabel())
            .setCop(network.bundle.getItems(0)).setCertifiedAtMillis(NOW.toEpochMilli())).build(),
        OutboxEvent.newBuilder().setDeliveryConfirmed(DeliveryConfirmed.newBuilder().setRod(network.bundle.getItems(4))
            .setRodN(network.bundle.getItems(3)).setCod(network.bundle.getItems(2))).build());
    List<byte[]> seeds = new ArrayList<>();
    for (OutboxEvent event : events) {
      byte[] payload = serializer.toBinary(event);
      byte[] seed = new byte[payload.length + 1];
      seed[0] = (byte) manifests.indexOf(serializer.manifest(event));
      System.arraycopy(payload, 0, seed, 1, payload.length);
      seeds.add(seed);
    }
    return target("journal-event", seeds, input -> {
      if (input.length == 0) {
        return "empty";
      }
      String manifest = manifests.get(Byte.toUnsignedInt(input[0]) % manifests.size());
      byte[] payload = java.util.Arrays.copyOfRange(input, 1, input.length);
      try {
        Object event = serializer.fromBinary(payload, manifest);
        // What a manifest accepts is that manifest's event, and writes back under the same manifest.
        if (!serializer.manifest(event).equals(manifest)) {
          throw new AssertionError("manifest " + manifest + " gave an event of manifest " + serializer.manifest(event));
        }
        return "read:" + manifest;
      } catch (NotSerializableException e) {
        return "refused:" + manifest.substring(0, Math.max(0, manifest.indexOf('/')));
      }
    });
  }

  /** A target from a name, seeds and a function (the function throws on a crash). */
  static FuzzTarget target(String name, List<byte[]> seeds, Body body) {
    return new FuzzTarget() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public List<byte[]> seeds() {
        return seeds;
      }

      @Override
      public String run(byte[] input) throws Exception {
        return body.run(input);
      }
    };
  }

  /** One input in, an outcome out; an exception out is a crash. */
  @FunctionalInterface
  public interface Body {
    String run(byte[] input) throws Exception;
  }
}
