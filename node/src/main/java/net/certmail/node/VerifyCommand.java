package net.certmail.node;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.Callable;
import net.certmail.crypto.BundleVerifier;
import net.certmail.crypto.EvidenceBundles;
import net.certmail.crypto.NotABundleException;
import net.certmail.crypto.Pem;
import net.certmail.proto.v1.EvidenceBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code certmail verify FILE [--ca PEM]}: checks an evidence bundle offline. A bundle carries its
 * CA certificate, and anyone can make a CA of the network's name: only a CA the checker trusts
 * ({@code --ca}, or {@value #CA_ENVIRONMENT}) makes a bundle VALID. Without one, a bundle whose
 * items all check out against its own CA is SELF-CONSISTENT, with its own exit code.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = {
        "Check an evidence bundle offline and say what each item proves.",
        "",
        "Checks every evidence item: signature over the exact signed bytes, signer certificate issued by the"
            + " network CA and valid when the item was issued, and that every item is about the bundle's label."
            + " Prints each item's kind, ETSI event, signer, what it proves, and whether it checks out (with the"
            + " reason when not).",
        "",
        "The network CA must be one you trust: give its certificate with --ca (the network's ca.pem, as its"
            + " operator publishes it; a node key directory also works) or in CERTMAIL_CA. Without it only the"
            + " bundle's self-consistency is checked, against the CA certificate inside the bundle, which anyone can"
            + " make under the network's name: the result is then SELF-CONSISTENT, never VALID (exit 4)."},
    footer = {"%nExample:%n  certmail verify mail.cmbundle --ca var/local/keys/alpha-1/ca.pem"},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:VALID: every item checks out against the CA you trust (--ca or CERTMAIL_CA)",
        "1:INVALID: at least one item or the bundle is invalid",
        "2:FILE is unreadable or not a certmail evidence bundle, or --ca is not a PEM certificate",
        "4:SELF-CONSISTENT: every item checks out, but only against the bundle's own CA (no --ca given)"})
final class VerifyCommand implements Callable<Integer> {
  /** A trusted CA certificate (PEM file or key directory) when --ca is not given. */
  static final String CA_ENVIRONMENT = "CERTMAIL_CA";

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", description = "Evidence bundle (starts with CMBNDL01).")
  Path file;

  @Option(names = "--ca", paramLabel = "PEM",
      description = "The network CA certificate you trust (or a node key directory holding ca.pem): it must have"
          + " issued every signer's certificate. Default: the CERTMAIL_CA environment variable, else none (self-consistency only).")
  Path ca;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    EvidenceBundle bundle = readBundle(file);
    Optional<Path> caFile = Optional.ofNullable(ca).or(() -> Optional.ofNullable(System.getenv(CA_ENVIRONMENT))
        .filter(value -> !value.isBlank()).map(Path::of));
    Optional<X509Certificate> trusted = caFile.map(VerifyCommand::readCa);
    BundleVerifier.Report report = BundleVerifier.verify(bundle, trusted);

    out.println("Bundle " + file + ": " + (report.label().isEmpty() ? "no label (a submission rejected before one"
        + " was issued)" : "label " + report.label()) + ", " + report.items().size() + " items");
    if (trusted.isPresent()) {
      out.println("Trusted CA: " + report.caSubject() + " (from " + caFile.get() + ")");
    } else {
      out.println("CA NOT CHECKED: the bundle's own CA certificate, " + report.caSubject() + ", SHA-256 "
          + report.caFingerprint() + ", is used; anyone can make a CA of that name. Pass --ca <network ca.pem>.");
    }
    out.println();
    for (BundleVerifier.ItemReport item : report.items()) {
      out.printf("%2d. %s (ETSI %s) signed by %s%n", item.number(), item.kind(), item.etsiEvent(), item.signer());
      out.println("    proves: " + item.proves());
      if (!item.valid()) {
        out.println("    INVALID: " + item.failure().get() + ": " + item.detail());
        out.println("    check: " + item.failure().get().explanation());
      } else {
        out.println(trusted.isPresent() ? "    VALID" : "    consistent (against the bundle's own CA)");
      }
    }
    for (String problem : report.bundleProblems()) {
      out.println("BUNDLE INVALID: " + problem);
    }
    out.println();
    return switch (report.verdict()) {
      case VALID -> {
        out.println("All " + report.items().size() + " items VALID.");
        yield CertmailCli.OK;
      }
      case SELF_CONSISTENT -> {
        out.println("SELF-CONSISTENT (CA not checked: pass --ca): all " + report.items().size() + " items check out"
            + " against the CA inside the bundle. That proves nothing until that CA is the network's: run again"
            + " with --ca <the network's ca.pem>.");
        yield CertmailCli.SELF_CONSISTENT;
      }
      case INVALID -> {
        out.println("NOT VALID: " + report.invalidCount() + " of " + report.items().size() + " items invalid"
            + (report.bundleProblems().isEmpty() ? "" : ", " + report.bundleProblems().size() + " bundle problem(s)")
            + ". Do not rely on this bundle; ask its issuer for a fresh export.");
        yield CertmailCli.INVALID;
      }
    };
  }

  static EvidenceBundle readBundle(Path file) {
    try {
      return EvidenceBundles.read(file);
    } catch (NotABundleException e) {
      throw new UserInputException(e.getMessage(), e);
    } catch (IOException e) {
      throw new UserInputException("cannot read " + file + " (" + e + "); check the path and its permissions", e);
    }
  }

  private static X509Certificate readCa(Path pem) {
    Path file = Files.isDirectory(pem) ? pem.resolve("ca.pem") : pem;
    try {
      X509Certificate certificate = Pem.readCertificate(Files.readString(file), file.toString());
      if (certificate.getBasicConstraints() < 0) {
        throw new IllegalArgumentException("it is the certificate of " + certificate.getSubjectX500Principal().getName()
            + ", not of a CA");
      }
      return certificate;
    } catch (IOException | IllegalArgumentException e) {
      throw new UserInputException("cannot use --ca " + pem + ": " + e.getMessage()
          + "; give the network CA certificate, e.g. <keys dir>/<node>/ca.pem", e);
    }
  }
}
