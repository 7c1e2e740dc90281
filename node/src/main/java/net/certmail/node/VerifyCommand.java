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

/** {@code certmail verify FILE}: checks an evidence bundle offline. */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = {
        "Check an evidence bundle offline and say what each item proves.",
        "",
        "Checks every evidence item: signature over the exact signed bytes, signer certificate issued by the"
            + " network CA and valid when the item was issued, and that every item is about the bundle's label."
            + " Prints each item's kind, ETSI event, signer, what it proves, and VALID or INVALID with the"
            + " reason."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:every item is VALID", "1:at least one item or the bundle is INVALID",
        "2:FILE is unreadable or not a certmail evidence bundle, or --ca is not a PEM certificate"})
final class VerifyCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", description = "Evidence bundle (starts with CMBNDL01).")
  Path file;

  @Option(names = "--ca", paramLabel = "PEM",
      description = "Trust this CA certificate instead of the one in the bundle (it must have issued every signer's certificate).")
  Path ca;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    EvidenceBundle bundle = readBundle(file);
    Optional<X509Certificate> trusted = Optional.ofNullable(ca).map(VerifyCommand::readCa);
    BundleVerifier.Report report = BundleVerifier.verify(bundle, trusted);

    out.println("Bundle " + file + ": " + (report.label().isEmpty() ? "no label (a submission rejected before one"
        + " was issued)" : "label " + report.label()) + ", " + report.items().size() + " items");
    out.println("Trusted CA: " + report.caSubject() + (trusted.isPresent() ? " (from --ca)" : " (from the bundle; pass --ca to pin it)"));
    out.println();
    for (BundleVerifier.ItemReport item : report.items()) {
      out.printf("%2d. %s (ETSI %s) signed by %s%n", item.number(), item.kind(), item.etsiEvent(), item.signer());
      out.println("    proves: " + item.proves());
      if (item.valid()) {
        out.println("    VALID");
      } else {
        out.println("    INVALID: " + item.failure().get() + ": " + item.detail());
        out.println("    check: " + item.failure().get().explanation());
      }
    }
    for (String problem : report.bundleProblems()) {
      out.println("BUNDLE INVALID: " + problem);
    }
    out.println();
    if (report.allValid()) {
      out.println("All " + report.items().size() + " items VALID.");
      return CertmailCli.OK;
    }
    out.println("NOT VALID: " + report.invalidCount() + " of " + report.items().size() + " items invalid"
        + (report.bundleProblems().isEmpty() ? "" : ", " + report.bundleProblems().size() + " bundle problem(s)")
        + ". Do not rely on this bundle; ask its issuer for a fresh export.");
    return CertmailCli.INVALID;
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
    try {
      return Pem.readCertificate(Files.readString(pem), pem.toString());
    } catch (IOException | IllegalArgumentException e) {
      throw new UserInputException("cannot use --ca " + pem + ": " + e.getMessage()
          + "; give the network CA certificate, e.g. <keys dir>/<node>/ca.pem", e);
    }
  }
}
