package net.certmail.actors;

import net.certmail.protocol.Routing;

/**
 * The three kinds of entity a principal runs, one per mail. Each organisation gets its own
 * entity type per kind, sharded only over the nodes with that organisation's role.
 */
public enum EntityKind {
  /** A's side of one submission: {@code <mailbox>|<submission id>}. */
  OUTBOX("outbox"),
  /** A server's part in one label: {@code <server>|<label>}. */
  SERVER("server"),
  /** B's side of one label: {@code <mailbox>|<label>}. */
  INBOX("inbox");

  private final String prefix;

  EntityKind(String prefix) {
    this.prefix = prefix;
  }

  /** Entity type name of this kind for the organisation hosting {@code principal}. */
  public String typeName(String principal) {
    return prefix + "@" + Routing.organisationOf(principal);
  }

  /** The kind of an entity type name ({@link #typeName}); IllegalArgumentException for any other name. */
  public static EntityKind ofTypeName(String typeName) {
    int at = typeName.indexOf('@');
    String prefix = at < 0 ? typeName : typeName.substring(0, at);
    for (EntityKind kind : values()) {
      if (kind.prefix.equals(prefix)) {
        return kind;
      }
    }
    throw new IllegalArgumentException("no entity kind of type " + typeName);
  }

  public static String entityId(String principal, String key) {
    return principal + "|" + key;
  }

  public static String principalOf(String entityId) {
    return entityId.substring(0, entityId.indexOf('|'));
  }

  public static String keyOf(String entityId) {
    return entityId.substring(entityId.indexOf('|') + 1);
  }
}
