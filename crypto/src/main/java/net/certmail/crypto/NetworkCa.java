package net.certmail.crypto;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The network's certificate authority: a self-signed CA certificate and its key, which issue one
 * certificate per principal (subject CN = principal id, see {@link PrincipalNames}).
 *
 * <p>Not-before comes from the injected clock, so tests can issue certificates that are already
 * expired or not yet valid.
 */
public final class NetworkCa {
  /** Backdating not-before by a minute tolerates clock skew between the CA and the first verifier. */
  private static final Duration BACKDATE = Duration.ofMinutes(1);

  private final X509Certificate certificate;
  private final PrivateKey privateKey;
  private final KeyAlgorithm algorithm;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  public NetworkCa(X509Certificate certificate, PrivateKey privateKey, KeyAlgorithm algorithm, Clock clock) {
    this.certificate = certificate;
    this.privateKey = privateKey;
    this.algorithm = algorithm;
    this.clock = clock;
  }

  /** A new CA named {@code CN=<name>} whose certificate is valid for {@code validity} from now. */
  public static NetworkCa create(String name, KeyAlgorithm algorithm, Duration validity, Clock clock) {
    KeyPair keyPair = algorithm.generateKeyPair();
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build();
    Instant notBefore = clock.instant().minus(BACKDATE);
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(new SecureRandom()),
          Date.from(notBefore), Date.from(notBefore.plus(validity)), subject, keyPair.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(keyPair.getPublic()));
      X509Certificate certificate = sign(builder, algorithm, keyPair.getPrivate());
      return new NetworkCa(certificate, keyPair.getPrivate(), algorithm, clock);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot create the network CA: " + e.getMessage(), e);
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public PrivateKey privateKey() {
    return privateKey;
  }

  /** A new key pair and certificate for a principal, valid for {@code validity} from now. */
  public PrincipalKeys issue(String principalId, String organisation, KeyAlgorithm keyAlgorithm, Duration validity) {
    return issue(principalId, organisation, keyAlgorithm, validity, List.of());
  }

  /**
   * As {@link #issue(String, String, KeyAlgorithm, Duration)}, with DNS subject alternative names
   * (a mail server's domain, for instance); an empty list adds no SAN extension.
   */
  public PrincipalKeys issue(String principalId, String organisation, KeyAlgorithm keyAlgorithm, Duration validity,
                             List<String> dnsNames) {
    KeyPair keyPair = keyAlgorithm.generateKeyPair();
    X509Certificate issued = certify(principalId, organisation, keyPair.getPublic(), validity, dnsNames);
    return new PrincipalKeys(principalId, keyAlgorithm, keyPair.getPrivate(), issued);
  }

  /** A certificate for an existing public key (renewal keeps the key). */
  public X509Certificate certify(String principalId, String organisation, PublicKey publicKey, Duration validity,
                                 List<String> dnsNames) {
    PrincipalNames.requireValid(principalId);
    Instant notBefore = clock.instant().minus(BACKDATE);
    Instant notAfter = notBefore.plus(validity);
    if (notAfter.isAfter(certificate.getNotAfter().toInstant())) {
      // A certificate outliving its CA would fail PKIX at the end of its life for a reason nobody expects.
      notAfter = certificate.getNotAfter().toInstant();
    }
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(random),
          Date.from(notBefore), Date.from(notAfter), PrincipalNames.subjectFor(principalId, organisation), publicKey)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(certificate))
          .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(publicKey));
      if (!dnsNames.isEmpty()) {
        GeneralName[] names = dnsNames.stream().map(dns -> new GeneralName(GeneralName.dNSName, dns)).toArray(GeneralName[]::new);
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      }
      return sign(builder, algorithm, privateKey);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot issue a certificate for " + principalId + ": " + e.getMessage(), e);
    }
  }

  /**
   * A TLS certificate for a cluster node (see {@link NodeCertificates}): names the node and the
   * organisations (cluster roles) it may serve, for both ends of a mutual TLS connection.
   */
  public X509Certificate certifyNode(String node, List<String> organisations, PublicKey publicKey, Duration validity) {
    NodeCertificates.requireValidNodeName(node);
    if (organisations.isEmpty()) {
      throw new IllegalArgumentException("node " + node + " needs at least one organisation to serve");
    }
    organisations.forEach(PrincipalNames::requireValid);
    Instant notBefore = clock.instant().minus(BACKDATE);
    Instant notAfter = notBefore.plus(validity);
    if (notAfter.isAfter(certificate.getNotAfter().toInstant())) {
      notAfter = certificate.getNotAfter().toInstant();
    }
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, NodeCertificates.commonName(node)).build();
      GeneralName[] names = new GeneralName[organisations.size() + 1];
      names[0] = new GeneralName(GeneralName.uniformResourceIdentifier, NodeCertificates.NODE_URI + node);
      for (int i = 0; i < organisations.size(); i++) {
        names[i + 1] = new GeneralName(GeneralName.uniformResourceIdentifier,
            NodeCertificates.ORGANISATION_URI + organisations.get(i));
      }
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(random),
          Date.from(notBefore), Date.from(notAfter), subject, publicKey)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
          .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names))
          .addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(certificate))
          .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(publicKey));
      return sign(builder, algorithm, privateKey);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot issue a node certificate for " + node + ": " + e.getMessage(), e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, KeyAlgorithm algorithm, PrivateKey key)
      throws GeneralSecurityException {
    try {
      ContentSigner signer = new JcaContentSignerBuilder(algorithm.jcaSignatureName())
          .setProvider(BouncyCastle.PROVIDER).build(key);
      return new JcaX509CertificateConverter().setProvider(BouncyCastle.PROVIDER).getCertificate(builder.build(signer));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e.getMessage(), e);
    }
  }

  /** Positive 127-bit random serials: unique without a counter, and within RFC 5280's 20 octets. */
  private static BigInteger serial(SecureRandom random) {
    return new BigInteger(127, random);
  }
}
