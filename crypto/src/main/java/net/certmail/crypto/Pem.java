package net.certmail.crypto;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * PEM text for certificates, PKCS#8 private keys and SubjectPublicKeyInfo public keys: the formats
 * OpenSSL reads ({@code openssl x509 -in}, {@code openssl pkey -in}, {@code pkeyutl -pubin}).
 */
public final class Pem {
  private Pem() {}

  public static String certificate(X509Certificate certificate) {
    return write(certificate);
  }

  /** Unencrypted PKCS#8 ("BEGIN PRIVATE KEY"): the key file's protection is its owner-only permissions. */
  public static String privateKey(PrivateKey key) {
    try {
      return write(new JcaPKCS8Generator(key, null).generate());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** "BEGIN PUBLIC KEY" (SubjectPublicKeyInfo), what {@code openssl pkeyutl -pubin -inkey} takes. */
  public static String publicKey(PublicKey key) {
    return write(key);
  }

  /** Every certificate in a PEM text, in order. Throws if the text holds none. */
  public static List<X509Certificate> readCertificates(String pem, String source) {
    List<X509Certificate> certificates = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      JcaX509CertificateConverter converter = new JcaX509CertificateConverter().setProvider(BouncyCastle.PROVIDER);
      for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
        if (object instanceof X509CertificateHolder holder) {
          certificates.add(converter.getCertificate(holder));
        }
      }
    } catch (IOException | CertificateException | RuntimeException e) {
      throw new IllegalArgumentException(source + " is not a readable PEM certificate: " + e.getMessage(), e);
    }
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException(source + " holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)");
    }
    return certificates;
  }

  public static X509Certificate readCertificate(String pem, String source) {
    return readCertificates(pem, source).get(0);
  }

  /** A PKCS#8 private key (also accepts the traditional "BEGIN EC PRIVATE KEY" form OpenSSL may write). */
  public static PrivateKey readPrivateKey(String pem, String source) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter().setProvider(BouncyCastle.PROVIDER);
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (object instanceof PEMKeyPair pair) {
        return converter.getKeyPair(pair).getPrivate();
      }
      throw new IllegalArgumentException(source + " holds no unencrypted PEM private key (expected -----BEGIN PRIVATE KEY-----)");
    } catch (IOException e) {
      throw new IllegalArgumentException(source + " is not a readable PEM private key: " + e.getMessage(), e);
    }
  }

  private static String write(Object object) {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }
}
