package net.certmail.node.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Requests that pekko-http refuses before any route sees them (headers too large: 431, URI too
 * long: 414, an unknown method: 501, a malformed request: 400) answered in the API's JSON error shape, like every other
 * error. Named by {@code pekko.http.server.parsing.error-handler} (NodeEndpoints sets it).
 */
public final class JsonParsingErrorHandler extends ParsingErrorHandler {
  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo error, LoggingAdapter log, ServerSettings settings) {
    log.debug("refused a malformed request: {}", error.formatPretty());
    String reason;
    String message;
    switch (status.intValue()) {
      case 431 -> {
        reason = "HEADERS_TOO_LARGE";
        message = "the request's headers are too large or too many: send fewer and shorter headers";
      }
      case 414 -> {
        reason = "URI_TOO_LONG";
        message = "the request's URI is too long: the routes are described at GET /v1/openapi.yaml";
      }
      case 501 -> {
        reason = "UNSUPPORTED_METHOD";
        message = "this HTTP method is not supported: the API uses GET and POST (GET /v1/openapi.yaml)";
      }
      case 413 -> {
        reason = "REQUEST_TOO_LARGE";
        message = "the request is too large: send a smaller mail";
      }
      default -> {
        reason = "BAD_REQUEST";
        message = "the request is not valid HTTP/1.1: " + Json.withoutClassNames(error.summary());
      }
    }
    return Json.error(StatusCodes.get(status.intValue()), reason, message);
  }
}
