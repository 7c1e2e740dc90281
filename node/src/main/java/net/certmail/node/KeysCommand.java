package net.certmail.node;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import net.certmail.crypto.KeyAlgorithm;
import net.certmail.crypto.KeyDirectory;
import net.certmail.crypto.NetworkDescription;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code certmail keys ...}: key material of a network. */
@Command(name = "keys", mixinStandardHelpOptions = true,
    description = "Create and inspect the network's CA, certificates and per-node key directories.",
    subcommands = {KeysCommand.Init.class, KeysCommand.Node.class, KeysCommand.Token.class})
final class KeysCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "init", mixinStandardHelpOptions = true,
      description = {
          "Create a network CA, and a key pair and certificate for every principal of a network description.",
          "",
          "One key directory is laid out per node:",
          "  DIR/ca/                the CA certificate and private key (keep it offline)",
          "  DIR/<node>/ca.pem      the CA certificate",
          "  DIR/<node>/certs/      everyone's certificates, <principal>.pem",
          "  DIR/<node>/private/    private keys of the node's organisations (mode 600)",
          "  DIR/<node>/tls/        the node's TLS certificate and key (mode 600)"},
      footer = {"%nExample:",
          "  certmail keys init --out var/keys \\",
          "      --network cluster-config/src/main/resources/networks/local-network.conf"})
  static final class Init implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--network", required = true, paramLabel = "FILE",
        description = "Network description (HOCON, certmail.network { ... }).")
    Path network;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write; must be empty or absent.")
    Path out;

    @Option(names = "--algorithm", paramLabel = "ALG", defaultValue = "ed25519",
        description = "Key algorithm: ed25519 (default) or ecdsa-p256. A mailbox's key-algorithm setting overrides it.")
    String algorithm;

    @Option(names = "--validity-days", paramLabel = "N", defaultValue = "365",
        description = "Validity of principal certificates in days (default ${DEFAULT-VALUE}); the CA gets twice as long.")
    int validityDays;

    @Option(names = "--force", description = "Replace the CA and node directories in a non-empty DIR.")
    boolean force;

    @Override
    public Integer call() throws IOException {
      PrintWriter out = spec.commandLine().getOut();
      KeyAlgorithm keyAlgorithm;
      NetworkDescription description;
      try {
        keyAlgorithm = NetworkDescription.algorithmNamed(algorithm);
        description = NetworkDescription.load(network);
      } catch (IllegalArgumentException e) {
        throw new UserInputException(e.getMessage(), e);
      }
      if (validityDays < 1) {
        throw new UserInputException("--validity-days must be at least 1, not " + validityDays);
      }
      if (!force && nonEmpty(this.out)) {
        throw new UserInputException(this.out + " exists and is not empty; choose another --out or add --force"
            + " to replace its CA and node directories (the old keys are then gone)");
      }
      KeyDirectory.InitResult result = KeyDirectory.initNetwork(description, this.out, new KeyDirectory.InitOptions(
          keyAlgorithm, Duration.ofDays(validityDays), Clock.systemUTC(), force, line -> { out.println(line); out.flush(); }));

      out.println();
      out.println("Wrote " + result.certificates() + " certificates for network '" + description.caName() + "':");
      out.println("  " + result.caDirectory() + "/  CA certificate and CA private key: keep the key offline, it is not in any node directory");
      for (Map.Entry<String, Path> node : result.nodeDirectories().entrySet()) {
        List<String> keys = result.privateKeysByNode().get(node.getKey());
        out.println("  " + node.getValue() + "/  private keys: " + String.join(", ", keys));
      }
      out.println("Copy each node directory to its node only. Check a bundle with: certmail verify FILE --ca "
          + result.caDirectory().resolve(KeyDirectory.CA_FILE));
      return CertmailCli.OK;
    }

    private static boolean nonEmpty(Path directory) throws IOException {
      if (!Files.exists(directory)) {
        return false;
      }
      if (!Files.isDirectory(directory)) {
        throw new UserInputException(directory + " exists and is not a directory; choose another --out");
      }
      try (Stream<Path> entries = Files.list(directory)) {
        return entries.findAny().isPresent();
      }
    }
  }

  @Command(name = "node", mixinStandardHelpOptions = true,
      description = {
          "Issue a node's TLS certificate: what lets it join the cluster, naming the organisations it may serve.",
          "",
          "Written to NODE_KEYDIR/tls/ (node.pem, and node.key.pem mode 600). `keys init` already issues one per"
              + " node of the network description, naming its organisation; use this for a node that serves several"
              + " organisations, a node added later, or to renew one (--force). Copy the organisations' private keys"
              + " into NODE_KEYDIR/private/ yourself."},
      footer = {"%nExample:",
          "  certmail keys node --ca-dir var/keys --keys var/keys/alpha-1 \\",
          "      --name alpha-1 --organisations alpha.example,relay.example --force"})
  static final class Node implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--ca-dir", required = true, paramLabel = "DIR",
        description = "The --out directory of `keys init`: its ca/ holds the CA key that signs.")
    Path caDirectory;

    @Option(names = "--keys", required = true, paramLabel = "NODE_KEYDIR",
        description = "The node's key directory (certmail.node.key-directory).")
    Path keys;

    @Option(names = "--name", required = true, paramLabel = "NODE", description = "The node's name (certmail.node.name).")
    String name;

    @Option(names = "--organisations", required = true, split = ",", paramLabel = "ORG[,ORG...]",
        description = "The organisations the node may serve (certmail.node.organisations).")
    List<String> organisations;

    @Option(names = "--validity-days", paramLabel = "N", defaultValue = "365",
        description = "Validity in days (default ${DEFAULT-VALUE}); never beyond the CA's.")
    int validityDays;

    @Option(names = "--force", description = "Replace the node's existing TLS certificate and key.")
    boolean force;

    @Override
    public Integer call() throws IOException {
      if (validityDays < 1) {
        throw new UserInputException("--validity-days must be at least 1, not " + validityDays);
      }
      net.certmail.crypto.NodeCertificates.NodeIdentity identity;
      try {
        identity = KeyDirectory.issueNodeCertificate(caDirectory, keys, name, organisations,
            Duration.ofDays(validityDays), Clock.systemUTC(), force);
      } catch (java.nio.file.NoSuchFileException e) {
        throw new UserInputException("no such file: " + e.getFile() + "; --ca-dir is the --out directory of"
            + " `keys init` (with ca/ca.key.pem) and --keys a node directory in it", e);
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new UserInputException(e.getMessage()
            + (e instanceof IllegalStateException && !force ? "; add --force to replace it" : ""), e);
      }
      spec.commandLine().getOut().println("wrote " + keys.resolve(net.certmail.crypto.NodeCertificates.DIRECTORY)
          + ": node " + identity.node() + " may serve " + String.join(", ", new java.util.TreeSet<>(identity.organisations())));
      return CertmailCli.OK;
    }
  }

  @Command(name = "token", mixinStandardHelpOptions = true,
      description = {
          "Issue a bearer token for a mailbox hosted by a node, for its HTTP API, or revoke tokens.",
          "",
          "The token is printed once; the node's key directory keeps only its SHA-256 (KEYS/tokens/<mailbox>,"
              + " owner-only). A running node accepts a new token and refuses a revoked one from its next request"
              + " on. Issue another to rotate, then revoke the old one."},
      footer = {"%nExamples:",
          "  export CERTMAIL_TOKEN=$(certmail keys token --mailbox alice@alpha.example \\",
          "      --keys var/local/keys/alpha-1)",
          "  certmail keys token --revoke alice@alpha.example --token \"$OLD\" \\",
          "      --keys var/local/keys/alpha-1",
          "  certmail keys token --revoke alice@alpha.example --all \\",
          "      --keys var/local/keys/alpha-1"})
  static final class Token implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--mailbox", paramLabel = "MAILBOX", description = "Issue a token for this mailbox, e.g. alice@alpha.example.")
    String mailbox;

    @Option(names = "--revoke", paramLabel = "MAILBOX", description = "Revoke tokens of this mailbox: --token or --all.")
    String revoke;

    @Option(names = "--token", paramLabel = "TOKEN", description = "With --revoke: the token to revoke.")
    String token;

    @Option(names = "--all", description = "With --revoke: every token of the mailbox.")
    boolean all;

    @Option(names = "--keys", required = true, paramLabel = "NODE_KEYDIR",
        description = "The key directory of a node hosting the mailbox (certmail.node.key-directory).")
    Path keys;

    @Override
    public Integer call() throws IOException {
      if ((mailbox == null) == (revoke == null)) {
        throw new UserInputException("give --mailbox MAILBOX to issue a token, or --revoke MAILBOX to revoke");
      }
      if (revoke != null) {
        return revoke();
      }
      if (token != null || all) {
        throw new UserInputException("--token and --all go with --revoke MAILBOX");
      }
      requireHostedHere(mailbox);
      String issued;
      try {
        issued = net.certmail.node.http.TokenStore.issue(keys, mailbox);
      } catch (IllegalArgumentException e) {
        throw new UserInputException(e.getMessage(), e);
      }
      spec.commandLine().getOut().println(issued);
      spec.commandLine().getErr().println("certmail keys token: issued for " + mailbox
          + "; it is shown only now. Use it as --token or CERTMAIL_TOKEN.");
      return CertmailCli.OK;
    }

    private Integer revoke() throws IOException {
      if ((token == null) == !all) {
        throw new UserInputException("--revoke " + revoke + " needs either --token TOKEN (one token) or --all");
      }
      requireHostedHere(revoke);
      int revoked;
      try {
        revoked = net.certmail.node.http.TokenStore.revoke(keys, revoke, Optional.ofNullable(token));
      } catch (IllegalArgumentException e) {
        throw new UserInputException(e.getMessage(), e);
      }
      if (revoked == 0) {
        throw new UserInputException(token != null ? "that token is not one of " + revoke + "'s (nothing revoked):"
            + " check the mailbox and the token, or revoke them all with --all" : revoke + " has no tokens to revoke");
      }
      spec.commandLine().getOut().println("revoked " + revoked + " token(s) of " + revoke
          + "; the node refuses them from its next request on");
      return CertmailCli.OK;
    }

    private void requireHostedHere(String principal) {
      if (!Files.isDirectory(keys.resolve(KeyDirectory.PRIVATE))) {
        throw new UserInputException(keys + " is not a node key directory (no private/): pass the directory"
            + " named by the node's certmail.node.key-directory, e.g. var/local/keys/alpha-1");
      }
      if (!principal.matches("[a-z0-9._+-]+@[a-z0-9.-]+")) {
        throw new UserInputException("not a mailbox id: \"" + principal + "\" (expected e.g. alice@alpha.example)");
      }
      Path privateKey = keys.resolve(KeyDirectory.PRIVATE).resolve(principal + ".key.pem");
      if (!Files.isRegularFile(privateKey)) {
        // Only a node holding the mailbox's key hosts it; a token elsewhere would never be asked for.
        throw new UserInputException("the node of " + keys + " does not host " + principal
            + " (no " + privateKey.getFileName() + "): use the key directory of a node of its organisation");
      }
    }
  }
}
