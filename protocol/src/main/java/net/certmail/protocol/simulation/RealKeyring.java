package net.certmail.protocol.simulation;

import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
import net.certmail.protocol.Signatures;

/**
 * The nodes' crypto: a network CA, an Ed25519 key and certificate per principal, crypto's
 * EvidenceSigner and EvidenceVerifier (PKIX chain, validity at the issue time). Keys are fresh per
 * run, so signature bytes differ between runs; what the principals decide does not.
 */
public final class RealKeyring implements Keyring {
  private final Map<String, Signatures> signatures = new HashMap<>();
  private final Signatures verifier;

  public RealKeyring(Collection<String> principals, long epochMillis) {
    Clock issuedAt = Clock.fixed(Instant.ofEpochMilli(epochMillis).minus(Duration.ofDays(1)), ZoneOffset.UTC);
    NetworkCa ca = NetworkCa.create("certmail simulation CA", KeyAlgorithm.ED25519, Duration.ofDays(3650), issuedAt);
    List<X509Certificate> certificates = new ArrayList<>();
    Map<String, EvidenceSigner> signers = new HashMap<>();
    for (String principal : principals) {
      PrincipalKeys keys = ca.issue(principal, net.certmail.protocol.Routing.organisationOf(principal),
          KeyAlgorithm.ED25519, Duration.ofDays(3000));
      certificates.add(keys.certificate());
      signers.put(principal, new EvidenceSigner(keys));
    }
    EvidenceVerifier evidenceVerifier = new EvidenceVerifier(new TrustStore(ca.certificate(), certificates));
    verifier = new Bound(null, evidenceVerifier);
    signers.forEach((principal, signer) -> signatures.put(principal, new Bound(signer, evidenceVerifier)));
  }

  @Override
  public Signatures of(String principal) {
    Signatures signer = signatures.get(principal);
    if (signer == null) {
      throw new IllegalArgumentException("no key for " + principal);
    }
    return signer;
  }

  @Override
  public Signatures verifier() {
    return verifier;
  }

  private record Bound(EvidenceSigner signer, EvidenceVerifier evidenceVerifier) implements Signatures {
    @Override
    public SignedEvidence sign(EvidenceStatement statement) {
      if (signer == null) {
        throw new UnsupportedOperationException("the invariants' verifier signs nothing");
      }
      return signer.sign(statement);
    }

    @Override
    public EvidenceStatement verify(SignedEvidence item, EvidenceKind kind) throws InvalidEvidence {
      try {
        return evidenceVerifier.verify(item, kind).statement();
      } catch (VerificationException e) {
        throw new InvalidEvidence(e.getMessage());
      }
    }
  }
}
