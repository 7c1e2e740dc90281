package net.certmail.crypto;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A node's key directory:
 * <pre>
 *   &lt;node&gt;/ca.pem                        the network CA certificate (trust anchor)
 *   &lt;node&gt;/certs/&lt;principal&gt;.pem         every principal's certificate
 *   &lt;node&gt;/private/&lt;principal&gt;.key.pem   PKCS#8 keys of the principals this node's organisation hosts
 *   &lt;node&gt;/tls/                          the node's TLS certificate and key ({@link NodeCertificates})
 * </pre>
 * The node directory and {@code private/} are 700, key files 600, set when they are created.
 * {@link #initNetwork} lays out one such directory per node of a {@link NetworkDescription} and
 * keeps the CA's own key apart in {@code <out>/ca/}, never in a node directory.
 */
public final class KeyDirectory {
  public static final String CA_FILE = "ca.pem";
  public static final String CERTS = "certs";
  public static final String PRIVATE = "private";
  public static final String CA_DIRECTORY = "ca";
  public static final String CA_KEY_FILE = "ca.key.pem";
  private static final String CERT_SUFFIX = ".pem";
  private static final String KEY_SUFFIX = ".key.pem";

  private KeyDirectory() {}

  /** What a node loads: the network's certificates and the keys of the principals it hosts. */
  public record Loaded(TrustStore trustStore, Map<String, PrincipalKeys> keys) {}

  /** How {@link #initNetwork} issues keys; {@code progress} receives one line per step. */
  public record InitOptions(KeyAlgorithm algorithm, Duration validity, Clock clock, boolean replaceExisting,
                            Consumer<String> progress) {
    public static InitOptions defaults() {
      return new InitOptions(KeyAlgorithm.ED25519, Duration.ofDays(365), Clock.systemUTC(), false, line -> {});
    }
  }

  /** What {@link #initNetwork} wrote: the CA directory and, per node, its directory and private keys. */
  public record InitResult(Path caDirectory, int certificates, Map<String, Path> nodeDirectories,
                           Map<String, List<String>> privateKeysByNode) {}

  public static InitResult initNetwork(NetworkDescription network, Path out, InitOptions options) throws IOException {
    Files.createDirectories(out);
    Path caDirectory = out.resolve(CA_DIRECTORY);
    if (options.replaceExisting()) {
      SecureFiles.deleteRecursively(caDirectory);
      for (String node : network.nodes().keySet()) {
        SecureFiles.deleteRecursively(out.resolve(node));
      }
    }
    // The CA outlives the certificates it issues, so renewing them does not need a new CA.
    Duration caValidity = options.validity().multipliedBy(2);
    options.progress().accept("creating network CA '" + network.caName() + "' (" + name(options.algorithm()) + ")");
    NetworkCa ca = NetworkCa.create(network.caName(), options.algorithm(), caValidity, options.clock());
    SecureFiles.createDirectory(caDirectory, SecureFiles.OWNER_DIRECTORY);
    SecureFiles.writeNew(caDirectory.resolve(CA_FILE), Pem.certificate(ca.certificate()), SecureFiles.PUBLIC_FILE);
    SecureFiles.writeNew(caDirectory.resolve(CA_KEY_FILE), Pem.privateKey(ca.privateKey()), SecureFiles.OWNER_FILE);

    Map<String, PrincipalKeys> issued = new LinkedHashMap<>();
    for (NetworkDescription.Organisation organisation : network.organisations()) {
      for (String server : organisation.servers()) {
        issued.put(server, issue(ca, server, organisation.name(), options.algorithm(), options, List.of(server)));
      }
      for (NetworkDescription.Mailbox mailbox : organisation.mailboxes()) {
        KeyAlgorithm algorithm = mailbox.keyAlgorithm().orElse(options.algorithm());
        issued.put(mailbox.id(), issue(ca, mailbox.id(), organisation.name(), algorithm, options, List.of()));
      }
    }

    Map<String, Path> nodeDirectories = new LinkedHashMap<>();
    Map<String, List<String>> privateKeysByNode = new LinkedHashMap<>();
    for (Map.Entry<String, NetworkDescription.Organisation> node : network.nodes().entrySet()) {
      List<String> hosted = node.getValue().principals();
      Path directory = out.resolve(node.getKey());
      write(directory, ca.certificate(), issued, hosted);
      NodeCertificates.issue(ca, directory, node.getKey(), List.of(node.getValue().name()), options.validity(), false);
      nodeDirectories.put(node.getKey(), directory);
      privateKeysByNode.put(node.getKey(), hosted);
      options.progress().accept("wrote " + directory + " (" + issued.size() + " certificates, private keys of "
          + String.join(", ", hosted) + ", TLS certificate for " + node.getValue().name() + ")");
    }
    return new InitResult(caDirectory, issued.size(), nodeDirectories, privateKeysByNode);
  }

  private static PrincipalKeys issue(NetworkCa ca, String principal, String organisation, KeyAlgorithm algorithm,
                                     InitOptions options, List<String> dnsNames) {
    options.progress().accept("issuing " + name(algorithm) + " certificate for " + principal + " (" + organisation + ")");
    return ca.issue(principal, organisation, algorithm, options.validity(), dnsNames);
  }

  /** Writes one node directory: all certificates, and the private keys of {@code hosted} only. */
  public static void write(Path directory, X509Certificate caCertificate, Map<String, PrincipalKeys> everyone,
                           List<String> hosted) throws IOException {
    SecureFiles.createDirectory(directory, SecureFiles.OWNER_DIRECTORY);
    SecureFiles.writeNew(directory.resolve(CA_FILE), Pem.certificate(caCertificate), SecureFiles.PUBLIC_FILE);
    Path certs = directory.resolve(CERTS);
    SecureFiles.createDirectory(certs, SecureFiles.PUBLIC_DIRECTORY);
    for (PrincipalKeys keys : everyone.values()) {
      SecureFiles.writeNew(certs.resolve(keys.principalId() + CERT_SUFFIX), Pem.certificate(keys.certificate()),
          SecureFiles.PUBLIC_FILE);
    }
    Path privateDirectory = directory.resolve(PRIVATE);
    SecureFiles.createDirectory(privateDirectory, SecureFiles.OWNER_DIRECTORY);
    for (String principal : hosted) {
      PrincipalKeys keys = everyone.get(principal);
      if (keys == null) {
        throw new IllegalArgumentException("no key issued for hosted principal " + principal);
      }
      SecureFiles.writeNew(privateDirectory.resolve(principal + KEY_SUFFIX), Pem.privateKey(keys.privateKey()),
          SecureFiles.OWNER_FILE);
    }
  }

  /**
   * Loads a node's key directory. Refuses private key files that group or others can access, and
   * keys that do not match their certificate.
   */
  public static Loaded load(Path directory) throws IOException {
    Path caFile = directory.resolve(CA_FILE);
    if (!Files.isRegularFile(caFile)) {
      throw new IllegalArgumentException(directory + " is not a certmail key directory (no " + CA_FILE
          + "); create one with: certmail keys init --network <file> --out <dir>");
    }
    X509Certificate caCertificate = Pem.readCertificate(read(caFile), caFile.toString());
    List<X509Certificate> certificates = new ArrayList<>();
    Map<String, X509Certificate> byPrincipal = new TreeMap<>();
    for (Path file : list(directory.resolve(CERTS), CERT_SUFFIX)) {
      X509Certificate certificate = Pem.readCertificate(read(file), file.toString());
      certificates.add(certificate);
      byPrincipal.put(PrincipalNames.principalOf(certificate), certificate);
    }
    TrustStore trustStore = new TrustStore(caCertificate, certificates);

    Map<String, PrincipalKeys> keys = new TreeMap<>();
    for (Path file : list(directory.resolve(PRIVATE), KEY_SUFFIX)) {
      if (SecureFiles.accessibleByOthers(file)) {
        throw new IllegalStateException("refusing to load private key " + file + ": group or others can access it (mode "
            + PosixFilePermissions.toString(Files.getPosixFilePermissions(file))
            + "); run: chmod 600 " + file);
      }
      String fileName = file.getFileName().toString();
      String principal = fileName.substring(0, fileName.length() - KEY_SUFFIX.length());
      X509Certificate certificate = byPrincipal.get(principal);
      if (certificate == null) {
        throw new IllegalStateException("private key " + file + " has no certificate " + directory.resolve(CERTS)
            .resolve(principal + CERT_SUFFIX) + "; copy it from the directory `keys init` wrote");
      }
      PrivateKey privateKey = Pem.readPrivateKey(read(file), file.toString());
      PrincipalKeys principalKeys = new PrincipalKeys(principal, algorithmOf(certificate), privateKey, certificate);
      requireMatching(principalKeys, file);
      keys.put(principal, principalKeys);
    }
    return new Loaded(trustStore, keys);
  }

  /** The CA of an {@code initNetwork} output directory ({@code <out>/ca/}), to issue further certificates. */
  public static NetworkCa loadCa(Path out, Clock clock) throws IOException {
    Path caDirectory = out.resolve(CA_DIRECTORY);
    X509Certificate certificate = Pem.readCertificate(read(caDirectory.resolve(CA_FILE)), caDirectory.resolve(CA_FILE).toString());
    Path keyFile = caDirectory.resolve(CA_KEY_FILE);
    if (SecureFiles.accessibleByOthers(keyFile)) {
      throw new IllegalStateException("refusing to load CA key " + keyFile + ": group or others can access it; run: chmod 600 " + keyFile);
    }
    return new NetworkCa(certificate, Pem.readPrivateKey(read(keyFile), keyFile.toString()), algorithmOf(certificate), clock);
  }

  /**
   * Issues (or with {@code replace}, replaces) the TLS certificate of a node, signed by the CA of
   * an {@code initNetwork} output directory: for a node that serves several organisations, or a
   * node added after {@code keys init}.
   */
  public static NodeCertificates.NodeIdentity issueNodeCertificate(Path out, Path nodeDirectory, String node,
      List<String> organisations, Duration validity, Clock clock, boolean replace) throws IOException {
    if (!Files.isRegularFile(nodeDirectory.resolve(CA_FILE))) {
      throw new IllegalArgumentException(nodeDirectory + " is not a certmail key directory (no " + CA_FILE
          + "); create node directories with: certmail keys init --network <file> --out <dir>");
    }
    return NodeCertificates.issue(loadCa(out, clock), nodeDirectory, node, organisations, validity, replace);
  }

  public static KeyAlgorithm algorithmOf(X509Certificate certificate) {
    String algorithm = certificate.getPublicKey().getAlgorithm();
    return switch (algorithm) {
      case "Ed25519", "EdDSA" -> KeyAlgorithm.ED25519;
      case "EC", "ECDSA" -> KeyAlgorithm.ECDSA_P256;
      default -> throw new IllegalArgumentException("certificate of " + PrincipalNames.principalOf(certificate)
          + " has an unsupported key type " + algorithm + " (certmail uses Ed25519 or ECDSA P-256)");
    };
  }

  /** A key file that belongs to another certificate would make every signature fail later, far from the cause. */
  private static void requireMatching(PrincipalKeys keys, Path file) {
    byte[] probe = "certmail/v1/key-check\0".getBytes(StandardCharsets.US_ASCII);
    byte[] signature = Signatures.sign(SignatureCounts.Use.KEY_CHECK, keys.algorithm(), keys.privateKey(), probe);
    if (!Signatures.verify(SignatureCounts.Use.KEY_CHECK, keys.algorithm(), keys.certificate().getPublicKey(), probe, signature)) {
      throw new IllegalStateException("private key " + file + " does not match the certificate of " + keys.principalId()
          + "; the key directory is inconsistent, recreate it with certmail keys init");
    }
  }

  private static List<Path> list(Path directory, String suffix) throws IOException {
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(directory)) {
      return files.filter(file -> file.getFileName().toString().endsWith(suffix)).sorted().toList();
    }
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  private static String name(KeyAlgorithm algorithm) {
    return algorithm == KeyAlgorithm.ED25519 ? "Ed25519" : "ECDSA P-256";
  }
}
