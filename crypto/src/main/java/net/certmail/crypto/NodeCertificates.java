package net.certmail.crypto;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A cluster node's TLS identity: the certificate with which it proves to the other nodes (mutual
 * TLS over Artery) that the network CA let it join, and which organisations (cluster roles) it
 * may serve. It lives beside the node's principal keys:
 * <pre>
 *   &lt;node&gt;/tls/node.pem        the node's certificate (ECDSA P-256, issued by the network CA)
 *   &lt;node&gt;/tls/node.key.pem    its PKCS#8 private key (600; the directory is 700)
 * </pre>
 * What the certificate says, as subject alternative names: {@code urn:certmail:node:<name>}
 * once, {@code urn:certmail:organisation:<organisation>} per organisation; and extended key
 * usage serverAuth + clientAuth. A principal's certificate carries none of these, so a mailbox's
 * or server's signing key can never stand in for a node. The subject's CN ({@code certmail node
 * <name>}) is no principal id, so a node certificate can never sign evidence either.
 *
 * <p>The key is ECDSA P-256 whatever the network's signing algorithm: every TLS 1.3 stack
 * speaks it; the CA may sign with Ed25519.
 */
public final class NodeCertificates {
  public static final String DIRECTORY = "tls";
  public static final String CERTIFICATE_FILE = "node.pem";
  public static final String KEY_FILE = "node.key.pem";
  static final String NODE_URI = "urn:certmail:node:";
  static final String ORGANISATION_URI = "urn:certmail:organisation:";
  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final int URI_NAME = 6;
  private static final Pattern NODE_NAME = Pattern.compile("[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?");

  private NodeCertificates() {}

  /** Who a node certificate admits: the node's name and the organisations it may serve. */
  public record NodeIdentity(String node, Set<String> organisations) {
    /** The organisations of {@code roles} this certificate does not name. */
    public Set<String> notNamed(Collection<String> roles) {
      Set<String> missing = new LinkedHashSet<>(roles);
      missing.removeAll(organisations);
      return missing;
    }
  }

  /** A node's TLS key material, as JDK objects ready for a key store. */
  public record NodeKeys(X509Certificate certificate, PrivateKey privateKey, X509Certificate caCertificate,
                         NodeIdentity identity) {}

  public static String requireValidNodeName(String node) {
    if (node == null || !NODE_NAME.matcher(node).matches()) {
      throw new IllegalArgumentException("not a valid node name: '" + node
          + "' (lowercase letters, digits, '.', '_' and '-', e.g. alpha-1)");
    }
    return node;
  }

  static String commonName(String node) {
    return "certmail node " + node;
  }

  /**
   * Issues a node certificate with a fresh key and writes it into {@code nodeDirectory/tls/}.
   *
   * @param replace whether an existing certificate and key are replaced (else it is an error)
   */
  public static NodeIdentity issue(NetworkCa ca, Path nodeDirectory, String node, List<String> organisations,
                                   Duration validity, boolean replace) throws IOException {
    KeyPair keyPair = KeyAlgorithm.ECDSA_P256.generateKeyPair();
    X509Certificate certificate = ca.certifyNode(node, organisations, keyPair.getPublic(), validity);
    Path directory = nodeDirectory.resolve(DIRECTORY);
    if (replace) {
      SecureFiles.deleteRecursively(directory);
    }
    if (Files.exists(directory)) {
      throw new IllegalStateException(directory + " exists: the node already has a certificate (replace it explicitly)");
    }
    SecureFiles.createDirectory(directory, SecureFiles.OWNER_DIRECTORY);
    SecureFiles.writeNew(directory.resolve(KEY_FILE), Pem.privateKey(keyPair.getPrivate()), SecureFiles.OWNER_FILE);
    SecureFiles.writeNew(directory.resolve(CERTIFICATE_FILE), Pem.certificate(certificate), SecureFiles.PUBLIC_FILE);
    return identityOf(certificate).orElseThrow();
  }

  /**
   * Loads a node's TLS keys. Refuses a key that group or others can access, a key that is not the
   * certificate's, and a certificate that is not a node certificate of the directory's CA.
   */
  public static NodeKeys load(Path nodeDirectory) throws IOException {
    Path directory = nodeDirectory.resolve(DIRECTORY);
    Path certificateFile = directory.resolve(CERTIFICATE_FILE);
    Path keyFile = directory.resolve(KEY_FILE);
    if (!Files.isRegularFile(certificateFile) || !Files.isRegularFile(keyFile)) {
      throw new IllegalStateException("no node certificate in " + directory + " (" + CERTIFICATE_FILE + ", " + KEY_FILE
          + "): issue one with `certmail keys init` (every node of a network description) or `certmail keys node`");
    }
    for (Path path : List.of(directory, keyFile)) {
      if (SecureFiles.accessibleByOthers(path)) {
        throw new IllegalStateException("refusing to load the node's TLS key: group or others can access " + path
            + " (mode " + PosixFilePermissions.toString(Files.getPosixFilePermissions(path)) + "); run: chmod "
            + (path.equals(directory) ? "700 " : "600 ") + path);
      }
    }
    X509Certificate ca = jdk(Pem.readCertificate(read(nodeDirectory.resolve(KeyDirectory.CA_FILE)),
        nodeDirectory.resolve(KeyDirectory.CA_FILE).toString()));
    X509Certificate certificate = jdk(Pem.readCertificate(read(certificateFile), certificateFile.toString()));
    NodeIdentity identity = identityOf(certificate).orElseThrow(() -> new IllegalStateException(certificateFile
        + " is not a certmail node certificate (no urn:certmail:node name or no TLS key usage); issue one with"
        + " `certmail keys node`"));
    try {
      certificate.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(certificateFile + " was not issued by the network CA in "
          + nodeDirectory.resolve(KeyDirectory.CA_FILE) + "; issue it again with `certmail keys node`", e);
    }
    PrivateKey key = jdkEcKey(Pem.readPrivateKey(read(keyFile), keyFile.toString()), keyFile);
    requireMatching(certificate, key, keyFile);
    return new NodeKeys(certificate, key, ca, identity);
  }

  /**
   * The identity a node certificate states, or empty when it is no node certificate: it must name
   * exactly one node, at least one organisation, and allow both TLS client and server use.
   */
  public static Optional<NodeIdentity> identityOf(X509Certificate certificate) {
    try {
      List<String> usages = certificate.getExtendedKeyUsage();
      if (usages == null || !usages.contains(SERVER_AUTH) || !usages.contains(CLIENT_AUTH)) {
        return Optional.empty();
      }
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      if (names == null) {
        return Optional.empty();
      }
      List<String> nodes = new java.util.ArrayList<>();
      Set<String> organisations = new LinkedHashSet<>();
      for (List<?> name : names) {
        if (name.size() < 2 || !(name.get(0) instanceof Integer type) || type != URI_NAME
            || !(name.get(1) instanceof String uri)) {
          continue;
        }
        if (uri.startsWith(NODE_URI)) {
          nodes.add(uri.substring(NODE_URI.length()));
        } else if (uri.startsWith(ORGANISATION_URI)) {
          organisations.add(uri.substring(ORGANISATION_URI.length()));
        }
      }
      if (nodes.size() != 1 || organisations.isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(new NodeIdentity(nodes.get(0), Set.copyOf(organisations)));
    } catch (CertificateParsingException e) {
      return Optional.empty();
    }
  }

  private static void requireMatching(X509Certificate certificate, PrivateKey key, Path keyFile) {
    byte[] probe = "certmail/v1/node-key-check\0".getBytes(StandardCharsets.US_ASCII);
    byte[] signature = Signatures.sign(SignatureCounts.Use.KEY_CHECK, KeyAlgorithm.ECDSA_P256, key, probe);
    if (!Signatures.verify(SignatureCounts.Use.KEY_CHECK, KeyAlgorithm.ECDSA_P256, certificate.getPublicKey(), probe, signature)) {
      throw new IllegalStateException(keyFile + " is not the key of the node certificate beside it; issue both again"
          + " with `certmail keys node`");
    }
  }

  /** The JDK's own certificate object: what its TLS stack and PKIX validation work with. */
  private static X509Certificate jdk(X509Certificate certificate) throws IOException {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(certificate.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read certificate " + certificate.getSubjectX500Principal() + ": " + e.getMessage(), e);
    }
  }

  private static PrivateKey jdkEcKey(PrivateKey key, Path file) {
    try {
      return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(file + " is not an ECDSA P-256 key; issue it again with `certmail keys node`", e);
    }
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8);
  }
}
