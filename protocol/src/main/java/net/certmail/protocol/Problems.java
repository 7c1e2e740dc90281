package net.certmail.protocol;

import java.util.Optional;

/** The shape of every rule check: the first problem found, or empty when all hold. */
public final class Problems {
  private Problems() {}

  @SafeVarargs
  public static Optional<String> first(Optional<String>... problems) {
    for (Optional<String> problem : problems) {
      if (problem.isPresent()) {
        return problem;
      }
    }
    return Optional.empty();
  }

  public static Optional<String> expect(boolean condition, String problem) {
    return condition ? Optional.empty() : Optional.of(problem);
  }
}
