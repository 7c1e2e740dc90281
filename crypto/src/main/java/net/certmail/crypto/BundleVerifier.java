package net.certmail.crypto;

import com.google.protobuf.ByteString;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import net.certmail.proto.v1.EtsiEvent;
import org.bouncycastle.asn1.ASN1Encoding;
import net.certmail.proto.v1.EvidenceBundle;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.SignedEvidence;

/**
 * Checks an evidence bundle offline: each item's signature and signer certificate against the
 * bundle's CA (or a CA the caller trusts), and crypto-level consistency across items. Protocol
 * rules (is this COD's hash the COP's?) are the engine's audit, not this class's.
 */
public final class BundleVerifier {
  private BundleVerifier() {}

  /** One item: what it is, who signed it, what it proves, and whether it verified. */
  public record ItemReport(int number, EvidenceKind kind, EtsiEvent etsiEvent, String signer, String proves,
                           Optional<VerificationFailure> failure, String detail) {
    public boolean valid() {
      return failure.isEmpty();
    }
  }

  /**
   * What a check proves. VALID only against a CA the caller trusts; against the CA a bundle carries
   * itself, a good bundle is only SELF_CONSISTENT: anyone can make a CA of the network's name.
   */
  public enum Verdict { VALID, SELF_CONSISTENT, INVALID }

  /**
   * Items in bundle order, and problems of the bundle as a whole (each makes it invalid).
   *
   * @param caTrusted whether the items were checked against a CA the caller gave, rather than the bundle's own
   */
  public record Report(String label, String caSubject, String caFingerprint, boolean caTrusted,
                       List<ItemReport> items, List<String> bundleProblems) {
    /** Every item checks out against the CA used (trusted or not: see {@link #verdict()}). */
    public boolean allValid() {
      return bundleProblems.isEmpty() && !items.isEmpty() && items.stream().allMatch(ItemReport::valid);
    }

    public Verdict verdict() {
      if (!allValid()) {
        return Verdict.INVALID;
      }
      return caTrusted ? Verdict.VALID : Verdict.SELF_CONSISTENT;
    }

    public long invalidCount() {
      return items.stream().filter(item -> !item.valid()).count();
    }
  }

  /** Verifies against the CA certificate carried in the bundle (its first certificate). */
  public static Report verify(EvidenceBundle bundle) {
    return verify(bundle, Optional.empty());
  }

  /**
   * Verifies against {@code trustedCa} when given: it must then have issued every signer's
   * certificate; the bundle's own CA certificate is not trusted.
   */
  public static Report verify(EvidenceBundle bundle, Optional<X509Certificate> trustedCa) {
    List<String> problems = new ArrayList<>();
    if (!bundle.getUnknownFields().asMap().isEmpty()
        || bundle.getItemsList().stream().anyMatch(item -> !item.getUnknownFields().asMap().isEmpty())) {
      // Fields this version does not know cannot be checked; a flipped tag byte produces them too.
      problems.add("the bundle holds fields this certmail does not know: it was altered or made by a newer version");
    }
    // The first certificate is the bundle's CA by position: one that does not parse leaves the
    // bundle without a CA rather than promoting the next certificate (a signer's) to CA.
    X509Certificate ownCa = null;
    List<X509Certificate> signerCertificates = new ArrayList<>();
    for (int i = 0; i < bundle.getCertificatesCount(); i++) {
      try {
        X509Certificate certificate = parseCertificate(bundle.getCertificates(i));
        if (i == 0) {
          ownCa = certificate;
        } else {
          signerCertificates.add(certificate);
        }
      } catch (GeneralSecurityException e) {
        problems.add("certificate " + (i + 1) + " of the bundle does not parse (" + e.getMessage() + ")");
      }
    }
    Optional<X509Certificate> bundleCa = Optional.ofNullable(ownCa);
    X509Certificate ca = trustedCa.orElse(ownCa);
    if (ca == null) {
      problems.add(bundle.getCertificatesCount() == 0
          ? "the bundle carries no CA certificate; pass the network CA with --ca"
          : "the bundle's CA certificate (its first) does not parse; pass the network CA with --ca");
      return new Report(bundle.getLabel(), "", "", trustedCa.isPresent(), List.of(), problems);
    }
    checkCa(ca, problems);
    if (trustedCa.isPresent() && bundleCa.isPresent() && !bundleCa.get().equals(trustedCa.get())) {
      problems.add("the bundle names another CA (" + bundleCa.get().getSubjectX500Principal().getName()
          + ") than the one given; its items are checked against the given CA");
    }
    TrustStore trustStore = new TrustStore(ca, signerCertificates);
    EvidenceVerifier verifier = new EvidenceVerifier(trustStore);

    if (bundle.getItemsCount() == 0) {
      problems.add("the bundle holds no evidence items");
    }
    List<ItemReport> items = new ArrayList<>();
    for (int i = 0; i < bundle.getItemsCount(); i++) {
      items.add(verifyItem(i + 1, bundle.getItems(i), bundle.getLabel(), verifier));
    }
    return new Report(bundle.getLabel(), ca.getSubjectX500Principal().getName(), fingerprint(ca), trustedCa.isPresent(),
        items, problems);
  }

  private static ItemReport verifyItem(int number, SignedEvidence item, String bundleLabel, EvidenceVerifier verifier) {
    EvidenceStatement statement = EvidenceBundles.statementOrNull(item);
    EvidenceKind kind = statement == null ? EvidenceKind.EVIDENCE_KIND_UNSPECIFIED : statement.getKind();
    EtsiEvent event = statement == null ? EtsiEvent.ETSI_EVENT_UNSPECIFIED : statement.getEtsiEvent();
    String proves = statement == null ? "(the statement does not parse)" : proves(statement);
    try {
      verifier.verify(item);
      // Crypto-level cross-checks: they hold for any genuine bundle, whatever the protocol state.
      if (!statement.getLabel().equals(bundleLabel)) {
        return new ItemReport(number, kind, event, item.getSigner(), proves, Optional.of(VerificationFailure.MALFORMED),
            "the item is about label " + statement.getLabel() + ", the bundle about " + bundleLabel);
      }
      if (!EvidenceStatements.etsiEventsOf(kind).contains(event)) {
        return new ItemReport(number, kind, event, item.getSigner(), proves, Optional.of(VerificationFailure.MALFORMED),
            "the signer tagged a " + kind + " with ETSI event " + event + ", which is not that kind's event");
      }
      return new ItemReport(number, kind, event, item.getSigner(), proves, Optional.empty(), "");
    } catch (VerificationException e) {
      String detail = e.getMessage().substring(e.failure().name().length() + 2);
      return new ItemReport(number, kind, event, item.getSigner(), proves, Optional.of(e.failure()), detail);
    } catch (RuntimeException e) {
      // Libraries throw unchecked exceptions on some malformed certificates and keys: still a verdict, not a crash.
      return new ItemReport(number, kind, event, item.getSigner(), proves, Optional.of(VerificationFailure.MALFORMED),
          "malformed input: " + (e.getMessage() == null ? "an item or certificate could not be decoded" : e.getMessage()));
    }
  }

  /** The CA must be a CA and its certificate intact: PKIX trusts an anchor without checking its own signature. */
  private static void checkCa(X509Certificate ca, List<String> problems) {
    if (ca.getBasicConstraints() < 0) {
      problems.add("the CA certificate " + ca.getSubjectX500Principal().getName() + " is not a CA certificate");
    }
    try {
      ca.verify(ca.getPublicKey(), BouncyCastle.PROVIDER);
    } catch (GeneralSecurityException | RuntimeException e) {
      problems.add("the CA certificate's self-signature does not verify: the certificate was altered");
    }
  }

  /** SHA-256 of the certificate's DER, as openssl x509 -fingerprint -sha256 prints it. */
  public static String fingerprint(X509Certificate certificate) {
    try {
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(Sha256.hash(certificate.getEncoded()));
    } catch (GeneralSecurityException e) {
      return "(the certificate does not encode)";
    }
  }

  /** A certificate whose public key also decodes: BC decodes it lazily and throws unchecked exceptions. */
  private static X509Certificate parseCertificate(ByteString der) throws GeneralSecurityException {
    try {
      X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509", BouncyCastle.PROVIDER)
          .generateCertificate(new ByteArrayInputStream(der.toByteArray()));
      // Bouncy Castle checks the CA's signature over a DER re-encoding of what it parsed, so a
      // non-DER variant (a BOOLEAN TRUE as 0xfe, say) would pass: accept the exact DER only.
      if (!Arrays.equals(org.bouncycastle.asn1.x509.Certificate.getInstance(der.toByteArray())
          .getEncoded(ASN1Encoding.DER), der.toByteArray())) {
        throw new GeneralSecurityException("it is not in DER encoding: it was altered");
      }
      if (certificate.getPublicKey() == null) {
        throw new GeneralSecurityException("its public key is of an unknown type");
      }
      return certificate;
    } catch (RuntimeException | IOException e) {
      throw new GeneralSecurityException(e.getMessage(), e);
    }
  }

  /** One sentence built from the statement's fields (the signed content, not the bundle's claims). */
  public static String proves(EvidenceStatement s) {
    String label = s.getLabel();
    String sentence = switch (s.getKind()) {
      case COP -> s.getIssuer() + " accepted mail " + label + " from " + s.getSender() + " for " + s.getRecipient()
          + ", content hash " + hash(s.getContentHash()) + ", to be delivered by " + time(s.getDeadlineMillis())
          + " (" + flavour(s.getFlavour()) + ")";
      case SUBMISSION_REJECTION -> s.getIssuer() + " refused a submission from " + s.getSender() + " for "
          + s.getRecipient() + ": " + reason(s);
      case RELAY_ACK -> s.getIssuer() + " took over mail " + label + " for " + s.getRecipient() + " from "
          + s.getCounterparty();
      case RELAY_REJECTION -> s.getIssuer() + " refused to relay mail " + label + " from " + s.getCounterparty()
          + ": " + reason(s);
      case COD -> s.getIssuer() + " certifies receipt of label " + label + " from " + s.getCounterparty()
          + switch (s.getFlavour()) {
            case CEM -> ", content hash " + hash(s.getContentHash());
            case IP -> ", labelled content hash H(L,M) " + hash(s.getContentHash());
            case NSR -> " (NSR: signed before seeing the content)";
            default -> "";
          };
      case RECIPIENT_REFUSAL -> s.getIssuer() + " refused mail " + label + " offered by " + s.getCounterparty()
          + ": " + reason(s);
      case CONTENT_HANDOVER -> s.getIssuer() + " released the content of mail " + label + " to "
          + (s.getCounterparty().isEmpty() ? s.getRecipient() : s.getCounterparty())
          + ", content hash " + hash(s.getContentHash());
      case ROD_N -> s.getIssuer() + " reports that mail " + label + " from " + s.getSender() + " was delivered to "
          + s.getRecipient();
      case ROD -> s.getIssuer() + " confirms that mail " + label + " from " + s.getSender() + " was delivered to "
          + s.getRecipient() + " by " + s.getCounterparty();
      case NDN -> s.getIssuer() + " declares mail " + label + " for " + s.getRecipient() + " not delivered: " + reason(s);
      case COMPENSATION_CLAIM -> s.getIssuer() + " claims mail " + label + " lost: no report of delivery or"
          + " non-delivery by " + time(s.getDeadlineMillis()) + " plus " + s.getGraceMillis() / 1000 + " s grace";
      default -> "an item of unknown kind " + s.getKind() + " by " + s.getIssuer();
    };
    return sentence + ", at " + time(s.getIssuedAtMillis());
  }

  private static String reason(EvidenceStatement s) {
    return s.getReasonDetail().isEmpty() ? s.getReason().name() : s.getReason().name() + " (" + s.getReasonDetail() + ")";
  }

  private static String flavour(Flavour flavour) {
    return switch (flavour) {
      case CEM -> "CEM";
      case NSR -> "CEM-nsr";
      case IP -> "CEM-ip";
      default -> "flavour unset";
    };
  }

  /** The first 16 hex digits are enough to compare by eye; the exact value is in the statement. */
  private static String hash(ByteString hash) {
    if (hash.isEmpty()) {
      return "(none)";
    }
    String hex = HexFormat.of().formatHex(hash.toByteArray());
    return hex.length() > 16 ? hex.substring(0, 16) + "…" : hex;
  }

  private static String time(long millis) {
    return Instant.ofEpochMilli(millis).toString();
  }
}
