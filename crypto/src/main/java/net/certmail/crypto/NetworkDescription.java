package net.certmail.crypto;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Who is in a certmail network: the CA's name and the organisations, each with the nodes it runs
 * and the principals (mail servers and mailboxes) it hosts. It decides which private keys go to
 * which node: a node receives the keys of its own organisation's principals only.
 *
 * <p>Read from HOCON under {@code certmail.network}; the sample is
 * {@code cluster-config/src/main/resources/networks/local-network.conf}.
 */
public record NetworkDescription(String caName, List<Organisation> organisations) {
  public static final String ROOT = "certmail.network";

  /** A provider (or a self-hosted mailbox): a trust domain and a cluster role. */
  public record Organisation(String name, List<String> nodes, List<String> servers, List<Mailbox> mailboxes) {
    public List<String> principals() {
      List<String> all = new ArrayList<>(servers);
      mailboxes.forEach(mailbox -> all.add(mailbox.id()));
      return all;
    }
  }

  /**
   * A mailbox principal. {@code keyAlgorithm} overrides the network's default for this mailbox;
   * {@code settings} holds the mailbox's other optional settings, read by the engine.
   */
  public record Mailbox(String id, String displayName, Optional<KeyAlgorithm> keyAlgorithm, Config settings) {}

  public NetworkDescription {
    organisations = List.copyOf(organisations);
    Set<String> principals = new HashSet<>();
    Set<String> nodes = new HashSet<>();
    for (Organisation organisation : organisations) {
      for (String principal : organisation.principals()) {
        PrincipalNames.requireValid(principal);
        if (!principals.add(principal)) {
          throw new IllegalArgumentException("principal " + principal + " is listed twice; each principal belongs to one organisation");
        }
      }
      if (organisation.nodes().isEmpty()) {
        throw new IllegalArgumentException("organisation " + organisation.name() + " has no nodes; list at least one under nodes");
      }
      for (String node : organisation.nodes()) {
        if (!node.matches("[A-Za-z0-9][A-Za-z0-9._-]*") || !nodes.add(node)) {
          throw new IllegalArgumentException("node name '" + node + "' is invalid or listed twice (letters, digits, '.', '-', '_'; unique in the network)");
        }
      }
    }
  }

  public static NetworkDescription load(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("network description " + file + " does not exist or is not a file");
    }
    try {
      return fromConfig(ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)).resolve());
    } catch (ConfigException e) {
      throw new IllegalArgumentException("cannot read network description " + file + ": " + e.getMessage(), e);
    }
  }

  public static NetworkDescription parse(String hocon) {
    try {
      return fromConfig(ConfigFactory.parseString(hocon).resolve());
    } catch (ConfigException e) {
      throw new IllegalArgumentException("cannot read network description: " + e.getMessage(), e);
    }
  }

  /** Reads {@code certmail.network} from an already parsed configuration (a node's, for instance). */
  public static NetworkDescription fromConfig(Config root) {
    if (!root.hasPath(ROOT)) {
      throw new IllegalArgumentException("no " + ROOT + " section; see networks/local-network.conf in cluster-config for the format");
    }
    try {
      Config network = root.getConfig(ROOT);
      List<Organisation> organisations = new ArrayList<>();
      for (Config organisation : network.getConfigList("organisations")) {
        List<Mailbox> mailboxes = new ArrayList<>();
        if (organisation.hasPath("mailboxes")) {
          for (Config mailbox : organisation.getConfigList("mailboxes")) {
            mailboxes.add(mailbox(mailbox));
          }
        }
        organisations.add(new Organisation(organisation.getString("name"), organisation.getStringList("nodes"),
            organisation.hasPath("servers") ? organisation.getStringList("servers") : List.of(), mailboxes));
      }
      return new NetworkDescription(network.getString("ca-name"), organisations);
    } catch (ConfigException e) {
      throw new IllegalArgumentException("invalid network description: " + e.getMessage(), e);
    }
  }

  private static Mailbox mailbox(Config mailbox) {
    String id = mailbox.getString("id");
    String displayName = mailbox.hasPath("display-name") ? mailbox.getString("display-name") : id;
    Optional<KeyAlgorithm> algorithm = mailbox.hasPath("key-algorithm")
        ? Optional.of(algorithmNamed(mailbox.getString("key-algorithm"))) : Optional.empty();
    Config settings = mailbox.hasPath("settings") ? mailbox.getConfig("settings") : ConfigFactory.empty();
    return new Mailbox(id, displayName, algorithm, settings);
  }

  /** "ed25519" or "ecdsa-p256", as on the command line and in network descriptions. */
  public static KeyAlgorithm algorithmNamed(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "ed25519" -> KeyAlgorithm.ED25519;
      case "ecdsa-p256", "ecdsa_p256", "p-256", "p256" -> KeyAlgorithm.ECDSA_P256;
      default -> throw new IllegalArgumentException("unknown key algorithm '" + name + "'; use ed25519 or ecdsa-p256");
    };
  }

  /** Every principal id, in description order. */
  public List<String> principals() {
    return organisations.stream().flatMap(organisation -> organisation.principals().stream()).toList();
  }

  /** node name -> its organisation, in description order. */
  public Map<String, Organisation> nodes() {
    Map<String, Organisation> nodes = new LinkedHashMap<>();
    organisations.forEach(organisation -> organisation.nodes().forEach(node -> nodes.put(node, organisation)));
    return nodes;
  }

  public Optional<Organisation> organisationOf(String principalId) {
    return organisations.stream().filter(organisation -> organisation.principals().contains(principalId)).findFirst();
  }

  public Optional<Mailbox> mailbox(String principalId) {
    return organisations.stream().flatMap(organisation -> organisation.mailboxes().stream())
        .filter(mailbox -> mailbox.id().equals(principalId)).findFirst();
  }
}
