package net.certmail.crypto;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.certmail.proto.v1.EvidenceBundle;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.SignedEvidence;

/**
 * The evidence bundle file: the 8 ASCII bytes {@code CMBNDL01} and then the bytes of an
 * {@link EvidenceBundle} (one label's signed evidence, the network CA certificate first, then
 * each signer's certificate). The magic makes a wrong file fail with a clear message instead of
 * a protobuf parse error, and versions the container.
 */
public final class EvidenceBundles {
  public static final byte[] MAGIC = "CMBNDL01".getBytes(StandardCharsets.US_ASCII);
  public static final int VERSION = 1;

  private EvidenceBundles() {}

  /**
   * A bundle for {@code label}: the items, the CA certificate and the certificate of each signer
   * (looked up in the trust store by key id, each once).
   */
  public static EvidenceBundle of(String label, List<SignedEvidence> items, TrustStore trustStore) {
    Map<String, X509Certificate> signerCertificates = new LinkedHashMap<>();
    for (SignedEvidence item : items) {
      X509Certificate certificate = trustStore.certificates().stream()
          .filter(candidate -> KeyIds.of(candidate.getPublicKey()).equals(item.getKeyId()))
          .findFirst()
          .orElseThrow(() -> new IllegalArgumentException("no certificate for key " + item.getKeyId() + " of " + item.getSigner()));
      signerCertificates.putIfAbsent(item.getKeyId(), certificate);
    }
    EvidenceBundle.Builder bundle = EvidenceBundle.newBuilder().setVersion(VERSION).setLabel(label)
        .addAllItems(items)
        .addCertificates(der(trustStore.caCertificate()));
    signerCertificates.values().forEach(certificate -> bundle.addCertificates(der(certificate)));
    return bundle.build();
  }

  public static byte[] toBytes(EvidenceBundle bundle) {
    byte[] body = bundle.toByteArray();
    byte[] file = Arrays.copyOf(MAGIC, MAGIC.length + body.length);
    System.arraycopy(body, 0, file, MAGIC.length, body.length);
    return file;
  }

  public static void write(EvidenceBundle bundle, Path file) throws IOException {
    Files.write(file, toBytes(bundle));
  }

  public static EvidenceBundle read(Path file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "no such file; give the path of a bundle written by certmail");
    }
    return parse(bytes, file.toString());
  }

  /** Parses bundle file bytes; {@code source} names them in the error message. */
  public static EvidenceBundle parse(byte[] bytes, String source) throws NotABundleException {
    if (bytes.length < MAGIC.length || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new NotABundleException(source + " is not a certmail evidence bundle: it does not start with \"CMBNDL01\""
          + describe(bytes) + ". Give the file written by certmail's evidence export (or evidence sample).");
    }
    try {
      EvidenceBundle bundle = EvidenceBundle.parseFrom(ByteString.copyFrom(bytes, MAGIC.length, bytes.length - MAGIC.length));
      if (bundle.getVersion() != VERSION) {
        throw new NotABundleException(source + " is a certmail bundle of version " + bundle.getVersion()
            + ", which this certmail does not know (it reads version " + VERSION + "); use a newer certmail");
      }
      return bundle;
    } catch (InvalidProtocolBufferException e) {
      throw new NotABundleException(source + " starts like a certmail evidence bundle but its content is damaged or"
          + " truncated (" + e.getMessage() + "); export it again from the node that holds the evidence", e);
    }
  }

  /** The statement of an item, or null when its bytes do not parse (verification then says so). */
  static EvidenceStatement statementOrNull(SignedEvidence item) {
    try {
      return EvidenceStatement.parseFrom(item.getStatement());
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  private static String describe(byte[] bytes) {
    if (bytes.length == 0) {
      return " (the file is empty)";
    }
    String head = new String(bytes, 0, Math.min(bytes.length, 32), StandardCharsets.ISO_8859_1);
    if (head.startsWith("-----BEGIN")) {
      return " (it is a PEM file: " + head.lines().findFirst().orElse("") + ")";
    }
    if (head.startsWith("{") || head.startsWith("[")) {
      return " (it looks like JSON)";
    }
    return bytes.length < MAGIC.length ? " (the file has only " + bytes.length + " bytes)" : "";
  }

  static ByteString der(X509Certificate certificate) {
    try {
      return ByteString.copyFrom(certificate.getEncoded());
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("cannot encode the certificate of " + PrincipalNames.principalOf(certificate), e);
    }
  }
}
