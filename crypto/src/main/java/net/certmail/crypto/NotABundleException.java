package net.certmail.crypto;

import java.io.IOException;

/** A file that is not (or no longer) a certmail evidence bundle. The message says what is wrong with it. */
public final class NotABundleException extends IOException {
  public NotABundleException(String message) {
    super(message);
  }

  public NotABundleException(String message, Throwable cause) {
    super(message, cause);
  }
}
