package net.certmail.node;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import net.certmail.persistence.JournalBackend;
import picocli.CommandLine.Option;

/** Which journal a command opens: the options {@code certmail audit} and {@code certmail bench journal} share. */
final class JournalOptions {
  @Option(names = "--journal", required = true, paramLabel = "embedded|cassandra",
      description = "The journal backend: embedded (an H2 file) or cassandra.")
  String journal;

  @Option(names = "--contact-points", paramLabel = "H:P[,H:P...]",
      description = "Cassandra: contact points (default 127.0.0.1:9042).")
  String contactPoints;

  JournalBackend backend() {
    try {
      return JournalBackend.valueOf(journal.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--journal must be \"embedded\" or \"cassandra\", not \"" + journal + "\"");
    }
  }

  /** The contact points given, if any. */
  Optional<List<String>> contactPoints() {
    if (contactPoints == null) {
      return Optional.empty();
    }
    List<String> points = Arrays.stream(contactPoints.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    if (points.isEmpty()) {
      throw new UserInputException("--contact-points is host:port[,host:port...], e.g. 127.0.0.1:9042");
    }
    return Optional.of(points);
  }
}
