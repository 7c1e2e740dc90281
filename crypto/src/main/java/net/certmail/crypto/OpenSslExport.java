package net.certmail.crypto;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import net.certmail.proto.v1.EvidenceBundle;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.SignatureAlgorithm;
import net.certmail.proto.v1.SignedEvidence;

/**
 * Writes what stock OpenSSL needs to check a bundle's Ed25519 signatures without certmail:
 * per item {@code NN-<kind>.data} (the exact signed bytes: domain prefix + statement bytes),
 * {@code NN-<kind>.sig} and {@code NN-<signer>.pub.pem}, and a {@code verify.sh} running
 * {@code openssl pkeyutl -verify -rawin} on each. This checks signatures only; that the key
 * belongs to the signer is the certificate's business ({@code openssl verify -CAfile ca.pem}).
 */
public final class OpenSslExport {
  private OpenSslExport() {}

  /** One exported item and the OpenSSL command, relative to the output directory. */
  public record Exported(int number, String kind, String signer, Path data, Path signature, Path publicKey,
                         String command) {}

  public record Result(List<Exported> items, List<String> skipped, Path script) {}

  public static Result export(EvidenceBundle bundle, Path out) throws IOException {
    Files.createDirectories(out);
    List<X509Certificate> certificates = new ArrayList<>();
    for (var der : bundle.getCertificatesList()) {
      try {
        certificates.add((X509Certificate) CertificateFactory.getInstance("X.509", BouncyCastle.PROVIDER)
            .generateCertificate(new ByteArrayInputStream(der.toByteArray())));
      } catch (GeneralSecurityException e) {
        throw new IOException("a certificate in the bundle does not parse: " + e.getMessage(), e);
      }
    }
    if (!certificates.isEmpty()) {
      Files.writeString(out.resolve("ca.pem"), Pem.certificate(certificates.get(0)));
    }
    List<Exported> exported = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    for (int i = 0; i < bundle.getItemsCount(); i++) {
      SignedEvidence item = bundle.getItems(i);
      String number = String.format(Locale.ROOT, "%02d", i + 1);
      EvidenceStatement statement = EvidenceBundles.statementOrNull(item);
      if (statement == null) {
        skipped.add(number + ": statement does not parse");
        continue;
      }
      if (!PrincipalNames.isValid(item.getSigner())) {
        // The signer's name comes from the bundle and would name a file and a line of verify.sh:
        // "../x" would write outside --out, a quote would run commands when the script runs.
        skipped.add(number + "-" + statement.getKind() + ": the signer's name \"" + printable(item.getSigner())
            + "\" is not a principal id; the bundle was altered");
        continue;
      }
      if (item.getAlgorithm() != SignatureAlgorithm.ED25519) {
        skipped.add(number + "-" + statement.getKind() + " by " + item.getSigner() + ": " + item.getAlgorithm()
            + " (only Ed25519 items are exported; OpenSSL's pkeyutl -rawin is for Ed25519)");
        continue;
      }
      PublicKey key = certificates.stream().map(X509Certificate::getPublicKey)
          .filter(candidate -> KeyIds.of(candidate).equals(item.getKeyId())).findFirst().orElse(null);
      if (key == null) {
        skipped.add(number + "-" + statement.getKind() + ": the bundle lacks the certificate of " + item.getSigner());
        continue;
      }
      String kind = statement.getKind().name().toLowerCase(Locale.ROOT);
      Path data = out.resolve(number + "-" + kind + ".data");
      Path signature = out.resolve(number + "-" + kind + ".sig");
      Path publicKey = out.resolve(number + "-" + item.getSigner() + ".pub.pem");
      Files.write(data, EvidenceSigner.signedBytes(statement, item.getStatement().toByteArray()));
      Files.write(signature, item.getSignature().toByteArray());
      Files.writeString(publicKey, Pem.publicKey(key));
      String command = "openssl pkeyutl -verify -rawin -pubin -inkey " + publicKey.getFileName()
          + " -in " + data.getFileName() + " -sigfile " + signature.getFileName();
      exported.add(new Exported(i + 1, kind, item.getSigner(), data, signature, publicKey, command));
    }
    Path script = out.resolve("verify.sh");
    Files.writeString(script, script(exported));
    script.toFile().setExecutable(true);
    return new Result(exported, skipped, script);
  }

  private static String printable(String text) {
    String shown = text.length() > 80 ? text.substring(0, 80) + "..." : text;
    return shown.replaceAll("[^\\x20-\\x7e]", "?");
  }

  private static String script(List<Exported> items) {
    StringBuilder script = new StringBuilder()
        .append("#!/bin/sh\n")
        .append("# Checks each Ed25519 evidence signature of the bundle with stock OpenSSL (3.0 or newer).\n")
        .append("# Each .data file is the exact signed bytes: a domain prefix naming the kind, then the statement.\n")
        .append("cd \"$(dirname \"$0\")\" || exit 2\n")
        .append("failed=0\n");
    for (Exported item : items) {
      script.append("echo '").append(item.data().getFileName()).append(" signed by ").append(item.signer()).append(":'\n")
          .append(item.command()).append(" || failed=1\n");
    }
    return script.append("exit $failed\n").toString();
  }
}
