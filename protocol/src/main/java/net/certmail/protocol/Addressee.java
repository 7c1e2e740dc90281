package net.certmail.protocol;

/**
 * Where a message goes: one principal's entity for one mail. A sender's entity is keyed by its
 * submission id (it has no label before the COP); a server's and a recipient's by the label.
 */
public record Addressee(Role role, String principal, String key) {

  /** The three roles a principal plays for one mail. */
  public enum Role { SENDER, SERVER, RECIPIENT }

  public static Addressee sender(String mailbox, String submissionId) {
    return new Addressee(Role.SENDER, mailbox, submissionId);
  }

  public static Addressee server(String server, String label) {
    return new Addressee(Role.SERVER, server, label);
  }

  public static Addressee recipient(String mailbox, String label) {
    return new Addressee(Role.RECIPIENT, mailbox, label);
  }
}
