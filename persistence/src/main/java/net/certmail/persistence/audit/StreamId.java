package net.certmail.persistence.audit;

import net.certmail.protocol.Labels;
import net.certmail.protocol.Routing;

/**
 * What a persistence id says about its stream, without reading it: whose it is, which role, and
 * which label it belongs to. Entity ids are {@code <principal>|<key>}: a server's key is the
 * label; a mailbox's key is a label (B's inbox entry, labels contain '/') or a submission id
 * (A's outbox entry, which may not contain '/'). A's label follows from the submission id, as
 * the origin derives it ({@link Labels#forSubmission}): so every stream of one mail is found
 * before any event is read, and the audit reads one label at a time.
 */
public record StreamId(String persistenceId, String principal, Role role, String label) {

  public enum Role { SENDER, SERVER, RECIPIENT }

  /** The stream of a certmail entity, or null for anything else in the journal (e.g. cluster sharding's). */
  public static StreamId parse(String persistenceId) {
    if (!isEntityId(persistenceId)) {
      return null;
    }
    int bar = persistenceId.indexOf('|');
    String principal = persistenceId.substring(0, bar);
    String key = persistenceId.substring(bar + 1);
    if (!Routing.isMailbox(principal)) {
      return new StreamId(persistenceId, principal, Role.SERVER, key);
    }
    if (key.contains("/")) {
      return new StreamId(persistenceId, principal, Role.RECIPIENT, key);
    }
    return new StreamId(persistenceId, principal, Role.SENDER,
        Labels.forSubmission(Routing.domainOf(principal), principal, key));
  }

  /** The organisation that keeps this stream in its journal: a server, or a mailbox's domain. */
  public String organisation() {
    return Routing.organisationOf(principal);
  }

  /** {@code parse(persistenceId).organisation()}, or null where parse gives null; without the label. */
  static String organisationOf(String persistenceId) {
    return isEntityId(persistenceId) ? Routing.organisationOf(principalOf(persistenceId)) : null;
  }

  private static boolean isEntityId(String persistenceId) {
    int bar = persistenceId.indexOf('|');
    return bar > 0 && bar < persistenceId.length() - 1 && !persistenceId.startsWith("/");
  }

  static String principalOf(String persistenceId) {
    int bar = persistenceId.indexOf('|');
    return bar < 0 ? persistenceId : persistenceId.substring(0, bar);
  }

  static String keyOf(String persistenceId) {
    int bar = persistenceId.indexOf('|');
    return bar < 0 ? "" : persistenceId.substring(bar + 1);
  }
}
