package net.certmail.crypto;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertPathValidatorException.BasicReason;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The network CA and the certificates of every principal, looked up by signer and key id.
 *
 * <p>A certificate's chain is validated with the JDK's PKIX validator the first time it is used;
 * a success is cached per certificate (its DER encoding, not its key id: two certificates may
 * carry one key, and only the one the CA signed may pass), because the CA's signature over a
 * certificate never changes.
 * The validity periods of the certificate and the CA are checked on every use, at the time the
 * signature claims (an evidence item's issue time, an envelope's send time).
 */
public final class TrustStore {
  private final X509Certificate caCertificate;
  private final Map<String, X509Certificate> certificatesByKeyId = new ConcurrentHashMap<>();
  // X509Certificate equality is equality of the DER encoding: a set of certificates is a set of fingerprints.
  private final Set<X509Certificate> chainValidated = ConcurrentHashMap.newKeySet();
  // Parsed once per certificate: every verification asks whose it is (an audit verifies tens of thousands).
  private final Map<X509Certificate, String> owners = new ConcurrentHashMap<>();
  // Decoded once per certificate, likewise (each getPublicKey() call parses the key again).
  private final Map<X509Certificate, SignatureKey> keys = new ConcurrentHashMap<>();

  public TrustStore(X509Certificate caCertificate, Collection<X509Certificate> principalCertificates) {
    this.caCertificate = caCertificate;
    principalCertificates.forEach(this::add);
  }

  public X509Certificate caCertificate() {
    return caCertificate;
  }

  public void add(X509Certificate certificate) {
    certificatesByKeyId.put(KeyIds.of(certificate.getPublicKey()), certificate);
  }

  public Collection<X509Certificate> certificates() {
    return List.copyOf(certificatesByKeyId.values());
  }

  /** The certificates of one principal (a principal may hold a renewed certificate beside an old one). */
  public List<X509Certificate> certificatesOf(String principalId) {
    return certificatesByKeyId.values().stream()
        .filter(certificate -> PrincipalNames.principalOf(certificate).equals(principalId))
        .toList();
  }

  public boolean knows(String principalId) {
    return !certificatesOf(principalId).isEmpty();
  }

  /**
   * The certificate of {@code signer} under {@code keyId}, without checking its validity: verifiers
   * check the signature first and the certificate's validity at the signed time afterwards, so that
   * altered bytes are reported as a bad signature rather than as whatever the altered time implies.
   */
  public X509Certificate certificateOf(String signer, String keyId) throws VerificationException {
    X509Certificate certificate = certificatesByKeyId.get(keyId);
    if (certificate == null) {
      if (knows(signer)) {
        throw new VerificationException(VerificationFailure.WRONG_KEY, "key id " + keyId + " is not a key of " + signer);
      }
      throw new VerificationException(VerificationFailure.UNKNOWN_SIGNER, "no certificate for " + signer);
    }
    String owner = ownerOf(certificate);
    if (!owner.equals(signer)) {
      throw new VerificationException(VerificationFailure.WRONG_KEY, "key id " + keyId + " belongs to " + owner + ", not " + signer);
    }
    return certificate;
  }

  /** PKIX validation of one certificate against the CA at a point in time. */
  public void checkValidAt(X509Certificate certificate, Instant at) throws VerificationException {
    Date date = Date.from(at);
    checkPeriod(certificate, date, () -> "certificate of " + ownerOf(certificate));
    checkPeriod(caCertificate, date, () -> "network CA certificate");
    if (chainValidated.contains(certificate)) {
      return;
    }
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(caCertificate, null)));
      parameters.setRevocationEnabled(false);
      parameters.setDate(date);
      CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(List.of(certificate)), parameters);
      chainValidated.add(certificate);
      SignatureCounts.countPathValidated();
    } catch (CertPathValidatorException e) {
      if (e.getReason() == BasicReason.EXPIRED) {
        throw new VerificationException(VerificationFailure.CERTIFICATE_EXPIRED, e.getMessage());
      }
      if (e.getReason() == BasicReason.NOT_YET_VALID) {
        throw new VerificationException(VerificationFailure.CERTIFICATE_NOT_YET_VALID, e.getMessage());
      }
      throw new VerificationException(VerificationFailure.FOREIGN_CA,
          "certificate of " + PrincipalNames.principalOf(certificate) + " does not chain to "
              + caCertificate.getSubjectX500Principal().getName() + ": " + e.getMessage());
    } catch (GeneralSecurityException | RuntimeException e) {
      // RuntimeException: a malformed certificate can make the provider throw unchecked exceptions.
      throw new VerificationException(VerificationFailure.FOREIGN_CA, "certificate of "
          + PrincipalNames.principalOf(certificate) + " cannot be validated against the CA: " + e.getMessage());
    }
  }

  /** The certificate's public key, decoded once for verifying signatures. */
  SignatureKey signatureKeyOf(X509Certificate certificate) {
    return keys.computeIfAbsent(certificate, c -> SignatureKey.of(c.getPublicKey()));
  }

  private String ownerOf(X509Certificate certificate) {
    return owners.computeIfAbsent(certificate, PrincipalNames::principalOf);
  }

  /** @param what names the certificate in an error; built only then (every signature check passes here) */
  private static void checkPeriod(X509Certificate certificate, Date date, Supplier<String> what)
      throws VerificationException {
    try {
      certificate.checkValidity(date);
    } catch (CertificateExpiredException e) {
      throw new VerificationException(VerificationFailure.CERTIFICATE_EXPIRED,
          what.get() + " expired " + certificate.getNotAfter().toInstant() + ", before " + date.toInstant());
    } catch (CertificateNotYetValidException e) {
      throw new VerificationException(VerificationFailure.CERTIFICATE_NOT_YET_VALID,
          what.get() + " valid only from " + certificate.getNotBefore().toInstant() + ", after " + date.toInstant());
    }
  }
}
