package net.certmail.node.http;

import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * A request that cannot be what it claims (a malformed path segment or body): 400 with a stable
 * reason code and what to send instead. Thrown by {@link RequestValidation}, answered by
 * {@link HttpApi}'s exception handler, so that no resource repeats the rendering.
 */
final class BadRequest extends RuntimeException {
  private final String reason;

  BadRequest(String reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  HttpResponse response() {
    return Json.error(StatusCodes.BAD_REQUEST, reason, getMessage());
  }
}
