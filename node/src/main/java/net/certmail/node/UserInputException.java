package net.certmail.node;

/** The user's input (a file, a directory, an option) is unusable; exit code 2, with what to do instead. */
public final class UserInputException extends RuntimeException {
  public UserInputException(String message) {
    super(message);
  }

  public UserInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
