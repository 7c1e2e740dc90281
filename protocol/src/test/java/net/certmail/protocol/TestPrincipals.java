package net.certmail.protocol;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.KeyAlgorithm;
import net.certmail.crypto.NetworkCa;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.crypto.TrustStore;
import net.certmail.crypto.VerificationException;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.server.ServerRules;

/**
 * A small network with real Ed25519 keys for the pure machines' tests: alpha.example -> relay.example
 * -> beta.example, a stranger server gamma.example and a rogue mailbox erin@alpha.example, all
 * holding valid certificates of one CA. Time starts at {@link #NOW}.
 */
public final class TestPrincipals {
  public static final long NOW = Instant.parse("2026-11-29T12:00:00Z").toEpochMilli();
  public static final String ALPHA = "alpha.example";
  public static final String RELAY = "relay.example";
  public static final String BETA = "beta.example";
  public static final String GAMMA = "gamma.example";
  public static final String ALICE = "alice@alpha.example";
  public static final String ERIN = "erin@alpha.example";
  public static final String BOB = "bob@beta.example";

  /** Demo-like timings: handshake 3.5 s, COD margin 10 s, verdict margin 3 s, grace 10 s. */
  public static final Timings TIMINGS = new Timings(Duration.ofMillis(250), Duration.ofSeconds(1),
      Duration.ofMillis(200), Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(12),
      Duration.ofSeconds(10), Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(5));
  public static final SubmissionPolicy POLICY = new SubmissionPolicy(Duration.ofSeconds(25), Duration.ofDays(30),
      64 * 1024);
  public static final Routing ROUTING = new Routing(Set.of(ALPHA, RELAY, BETA, GAMMA),
      Map.of(ALPHA, Map.of(BETA, RELAY)));
  public static final ServerRules RULES = new ServerRules(TIMINGS, POLICY, ROUTING,
      principal -> List.of(ALICE, ERIN, BOB).contains(principal));

  private final Map<String, Signatures> signatures = new LinkedHashMap<>();

  public TestPrincipals() {
    Clock issued = Clock.fixed(Instant.ofEpochMilli(NOW).minus(Duration.ofDays(1)), ZoneOffset.UTC);
    NetworkCa ca = NetworkCa.create("certmail machine test CA", KeyAlgorithm.ED25519, Duration.ofDays(3650), issued);
    Map<String, PrincipalKeys> keys = new LinkedHashMap<>();
    for (String principal : List.of(ALPHA, RELAY, BETA, GAMMA, ALICE, ERIN, BOB)) {
      keys.put(principal, ca.issue(principal, Routing.organisationOf(principal), KeyAlgorithm.ED25519,
          Duration.ofDays(365)));
    }
    TrustStore trust = new TrustStore(ca.certificate(), keys.values().stream().map(PrincipalKeys::certificate).toList());
    EvidenceVerifier verifier = new EvidenceVerifier(trust);
    keys.forEach((principal, key) -> signatures.put(principal, new KeySignatures(new EvidenceSigner(key), verifier)));
  }

  /** Signs as {@code principal}, verifies against the test CA. */
  public Signatures of(String principal) {
    return signatures.get(principal);
  }

  /** Counts the evidence items a machine verifies, so that a test can tell a check done twice. */
  public static final class CountingSignatures implements Signatures {
    private final Signatures next;
    private int verified;

    public CountingSignatures(Signatures next) {
      this.next = next;
    }

    public int verified() {
      return verified;
    }

    @Override
    public SignedEvidence sign(EvidenceStatement statement) {
      return next.sign(statement);
    }

    @Override
    public EvidenceStatement verify(SignedEvidence item, EvidenceKind kind) throws InvalidEvidence {
      verified++;
      return next.verify(item, kind);
    }
  }

  private record KeySignatures(EvidenceSigner signer, EvidenceVerifier verifier) implements Signatures {
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
  }
}
