package net.certmail.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.certmail.crypto.EnvelopeOpener;
import net.certmail.crypto.EnvelopeSealer;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.KeyAlgorithm;
import net.certmail.crypto.NetworkCa;
import net.certmail.crypto.OpenedEnvelope;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.crypto.ReplayGuard;
import net.certmail.crypto.TrustStore;
import net.certmail.crypto.VerificationException;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.ProtocolMessage;
import net.certmail.proto.v1.ServerEvent;
import net.certmail.proto.v1.SignedEnvelope;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.proto.v1.Submission;
import net.certmail.protocol.Decision;
import net.certmail.protocol.Input;
import net.certmail.protocol.Labels;
import net.certmail.protocol.Routing;
import net.certmail.protocol.Signatures;
import net.certmail.protocol.SubmissionPolicy;
import net.certmail.protocol.Timings;
import net.certmail.protocol.server.ServerMachine;
import net.certmail.protocol.server.ServerRules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A valid signer claiming another identity inside its payload: the envelope is genuine (crypto
 * opens it), the claim is not. Through real signed envelopes, EnvelopeOpener, and the origin
 * server's machine as its entity drives it (the envelope's signer is who the message is from).
 */
class IdentityClaimAttackTest {
  static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  static final String ALPHA = "alpha.example";
  static final String ALICE = "alice@alpha.example";

  final Map<String, PrincipalKeys> keys = new LinkedHashMap<>();
  final TrustStore trustStore;
  final EvidenceVerifier verifier;

  IdentityClaimAttackTest() {
    NetworkCa ca = NetworkCa.create("identity attack CA", KeyAlgorithm.ED25519, Duration.ofDays(3650),
        Clock.fixed(NOW.minus(Duration.ofDays(2)), ZoneOffset.UTC));
    for (String principal : List.of(ALPHA, ALICE, "anna@alpha.example", "relay.example", "beta.example",
        "bob@beta.example")) {
      keys.put(principal, ca.issue(principal, Routing.organisationOf(principal), KeyAlgorithm.ED25519,
          Duration.ofDays(365)));
    }
    trustStore = new TrustStore(ca.certificate(), keys.values().stream().map(PrincipalKeys::certificate).toList());
    verifier = new EvidenceVerifier(trustStore);
  }

  /** What the origin server decides about a submission that {@code signer} sealed, claiming {@code ALICE} sent it. */
  Decision<ServerEvent> submitAsAlice(String signer) throws Exception {
    Submission submission = Submission.newBuilder().setSubmissionId("order-7").setSender(ALICE)
        .setRecipient("bob@beta.example").setContent(ByteString.copyFromUtf8("pay mallory"))
        .setDeadlineMillis(NOW.plus(Duration.ofHours(1)).toEpochMilli()).setFlavour(Flavour.CEM).build();
    SignedEnvelope envelope = new EnvelopeSealer(keys.get(signer), CLOCK)
        .seal(ALPHA, ProtocolMessage.newBuilder().setSubmission(submission).build());
    // The envelope is genuine: its signer's certificate, signature and address all check out.
    OpenedEnvelope opened = new EnvelopeOpener(trustStore, new ReplayGuard(CLOCK, Duration.ofMinutes(10)))
        .open(SignedEnvelope.parseFrom(envelope.toByteString()), ALPHA);
    assertEquals(signer, opened.from());

    ServerMachine origin = new ServerMachine(ALPHA, Labels.forSubmission(ALPHA, ALICE, "order-7"), rules(),
        signatures(ALPHA));
    return origin.decide(origin.empty(), new Input.Received(opened.from(), opened.message()), NOW.toEpochMilli());
  }

  @ParameterizedTest(name = "{0} submitting as alice")
  @ValueSource(strings = {"anna@alpha.example", "bob@beta.example", "relay.example", "alpha.example"})
  void aValidSignerClaimingAnotherSenderGetsNothingAndLeavesNoTrace(String signer) throws Exception {
    // No COP, and no stored refusal either: a refusal kept under alice's label would later be the
    // answer to alice's own submission under the same id (found by the simulator).
    Decision<ServerEvent> decision = submitAsAlice(signer);
    assertTrue(decision.events().isEmpty(), "nothing persisted: " + decision);
    assertTrue(decision.messages().isEmpty(), "nothing answered: " + decision);
    assertEquals("WRONG_PARTY", decision.ignored().get(0).reason());
    assertTrue(decision.ignored().get(0).detail().contains(signer + " cannot submit for " + ALICE),
        decision.ignored().get(0).detail());
  }

  /** The control: the same submission sealed by alice herself gets its COP. */
  @Test
  void theSenderHerselfGetsTheCop() throws Exception {
    Decision<ServerEvent> decision = submitAsAlice(ALICE);
    assertTrue(decision.events().stream().anyMatch(ServerEvent::hasSubmissionAccepted), decision.toString());
  }

  private ServerRules rules() {
    Timings timings = new Timings(Duration.ofMillis(250), Duration.ofSeconds(1), Duration.ofMillis(200),
        Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(6), Duration.ofSeconds(10),
        Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(5));
    Routing routing = new Routing(Set.of(ALPHA, "relay.example", "beta.example"),
        Map.of(ALPHA, Map.of("beta.example", "relay.example")));
    return new ServerRules(timings, new SubmissionPolicy(Duration.ofSeconds(20), Duration.ofDays(30), 64 * 1024),
        routing, keys::containsKey);
  }

  private Signatures signatures(String principal) {
    EvidenceSigner signer = new EvidenceSigner(keys.get(principal));
    return new Signatures() {
      @Override
      public SignedEvidence sign(EvidenceStatement statement) {
        return signer.sign(statement);
      }

      @Override
      public EvidenceStatement verify(SignedEvidence item, EvidenceKind kind) throws InvalidEvidence {
        try {
          return verifier.verify(item, kind).statement();
        } catch (VerificationException e) {
          throw new InvalidEvidence(e.getMessage());
        }
      }
    };
  }
}
