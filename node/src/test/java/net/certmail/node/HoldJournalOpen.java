package net.certmail.node;

import java.sql.Connection;
import java.sql.DriverManager;

/**
 * A stand-in for a running node in its own JVM: opens an H2 journal as a node does (args[0] is
 * the JDBC URL, args[1] the journal's password), says "open" on stdout, and holds it until its stdin closes or it is killed.
 */
public final class HoldJournalOpen {
  private HoldJournalOpen() {}

  public static void main(String[] args) throws Exception {
    try (Connection connection = DriverManager.getConnection(args[0], "sa", args.length > 1 ? args[1] : "")) {
      System.out.println("open");
      System.out.flush();
      while (System.in.read() >= 0) {
        // hold the database until the test closes our stdin
      }
    }
  }
}
