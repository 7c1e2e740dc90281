package net.certmail.node;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import net.certmail.crypto.EvidenceBundles;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.OpenSslExport;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.crypto.SampleEvidence;
import net.certmail.crypto.TrustStore;
import net.certmail.proto.v1.EvidenceBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code certmail evidence ...}: work with evidence bundles outside a running network. */
@Command(name = "evidence", mixinStandardHelpOptions = true,
    description = "Evidence bundles: export one from a node, export their signatures for OpenSSL, make a sample bundle.",
    subcommands = {ClientCommands.Export.class, EvidenceCommand.OpenSsl.class, EvidenceCommand.Sample.class})
final class EvidenceCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "openssl", mixinStandardHelpOptions = true,
      description = {
          "Write what stock OpenSSL needs to check a bundle's Ed25519 signatures without certmail.",
          "",
          "For each item: NN-<kind>.data (the exact signed bytes: domain prefix + statement), NN-<kind>.sig and"
              + " NN-<signer>.pub.pem; then ca.pem and verify.sh, which runs `openssl pkeyutl -verify -rawin`"
              + " per item. ECDSA P-256 items are listed as skipped."})
  static final class OpenSsl implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "Evidence bundle.")
    Path file;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for the exported files.")
    Path out;

    @Override
    public Integer call() throws IOException {
      PrintWriter out = spec.commandLine().getOut();
      EvidenceBundle bundle = VerifyCommand.readBundle(file);
      OpenSslExport.Result result = OpenSslExport.export(bundle, this.out);
      out.println("Wrote " + result.items().size() + " Ed25519 items of label " + bundle.getLabel() + " to " + this.out);
      result.skipped().forEach(skipped -> out.println("  skipped " + skipped));
      out.println("Check them with OpenSSL (each prints \"Signature Verified Successfully\"):");
      out.println("  cd " + this.out);
      result.items().forEach(item -> out.println("  " + item.command()));
      out.println("or run " + result.script() + ". These check the signatures; that each key belongs to its signer");
      out.println("is `certmail verify " + file + "` (certificate chain to the CA).");
      return CertmailCli.OK;
    }
  }

  @Command(name = "sample", mixinStandardHelpOptions = true,
      description = {
          "Sign a SAMPLE evidence chain with the keys of `certmail keys init`, to try `certmail verify` on.",
          "",
          "The chain is that of one CEM mail alice@alpha.example -> bob@beta.example via relay.example (COP by"
              + " alpha.example, ACK by relay.example, COD by bob@beta.example, ROD_n by beta.example, ROD by"
              + " alpha.example), signed with the private keys of a `keys init` output directory and written as a"
              + " bundle. It is for trying `certmail verify` and OpenSSL; it is not protocol output: no mail was"
              + " sent."},
      footer = {"%nExample:",
          "  certmail keys init --network networks/local-network.conf --out var/keys",
          "  certmail evidence sample --keys var/keys --out var/sample.cmb",
          "  certmail verify var/sample.cmb"})
  static final class Sample implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--keys", required = true, paramLabel = "DIR", description = "The --out directory of `certmail keys init`.")
    Path keys;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Bundle file to write.")
    Path out;

    @Override
    public Integer call() throws IOException {
      if (!Files.isDirectory(keys)) {
        throw new UserInputException(keys + " is not a directory; give the --out directory of certmail keys init");
      }
      Map<String, PrincipalKeys> privateKeys = new HashMap<>();
      TrustStore trustStore = null;
      try (Stream<Path> entries = Files.list(keys)) {
        for (Path node : entries.filter(dir -> Files.isRegularFile(dir.resolve(KeyDirectory.CA_FILE))
            && Files.isDirectory(dir.resolve(KeyDirectory.CERTS))).sorted().toList()) {
          KeyDirectory.Loaded loaded = KeyDirectory.load(node);
          privateKeys.putAll(loaded.keys());
          trustStore = trustStore == null ? loaded.trustStore() : trustStore;
        }
      } catch (IllegalStateException | IllegalArgumentException e) {
        throw new UserInputException(e.getMessage(), e);
      }
      if (trustStore == null) {
        throw new UserInputException(keys + " holds no node key directories; run certmail keys init --network FILE --out " + keys);
      }
      EvidenceBundle bundle;
      try {
        bundle = SampleEvidence.bundle(privateKeys, trustStore, Clock.systemUTC());
      } catch (IllegalArgumentException e) {
        throw new UserInputException(e.getMessage(), e);
      }
      EvidenceBundles.write(bundle, out);
      spec.commandLine().getOut().println("Wrote a SAMPLE bundle (" + bundle.getItemsCount() + " items, label "
          + bundle.getLabel() + ") to " + out + "\nCheck it with: certmail verify " + out
          + " --ca " + keys.resolve(KeyDirectory.CA_DIRECTORY).resolve(KeyDirectory.CA_FILE));
      return CertmailCli.OK;
    }
  }
}
