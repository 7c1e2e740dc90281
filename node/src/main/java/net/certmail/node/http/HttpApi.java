package net.certmail.node.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import net.certmail.actors.CertmailEngine;
import net.certmail.crypto.TrustStore;
import net.certmail.persistence.MailboxIndex;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;

/**
 * The HTTP API of one node, for the mailboxes it hosts: a thin layer over {@link CertmailEngine}.
 * Every request names its mailbox in the path; it is answered only when the mailbox is hosted
 * here (else 404 naming the organisation to ask), the bearer token is that mailbox's (401 / 403),
 * and the mailbox has rate budget left (429): {@link AccessGuards}. What the client sends is checked
 * by {@link RequestValidation} (400); each resource ({@link OutboxResource}, {@link InboxResource},
 * {@link DirectoryResource}) maps its routes to the engine. This class puts them together, with
 * the size limit and the JSON shape of every error. The routes are described in openapi.yaml,
 * which HttpApiTest keeps in step with {@link #ROUTES}.
 */
public final class HttpApi extends AllDirectives {
  /** Every route this API serves, as OpenAPI paths with methods; HttpApiTest checks both ways against openapi.yaml. */
  public static final List<String> ROUTES = List.of(
      "GET /v1/openapi.yaml",
      "GET /v1/directory/{labelServer}/{labelId}",
      "POST /v1/mailboxes/{mailbox}/outbox",
      "GET /v1/mailboxes/{mailbox}/outbox",
      "GET /v1/mailboxes/{mailbox}/outbox/{submissionId}",
      "GET /v1/mailboxes/{mailbox}/outbox/{submissionId}/bundle",
      "GET /v1/mailboxes/{mailbox}/inbox",
      "GET /v1/mailboxes/{mailbox}/inbox/{labelServer}/{labelId}",
      "POST /v1/mailboxes/{mailbox}/inbox/{labelServer}/{labelId}/accept",
      "POST /v1/mailboxes/{mailbox}/inbox/{labelServer}/{labelId}/refuse",
      "GET /v1/mailboxes/{mailbox}/inbox/{labelServer}/{labelId}/content");

  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
  /**
   * The longest wait a status request may ask for ({@code waitSeconds}): below pekko-http's
   * request-timeout (20 s), which would otherwise answer 503 first.
   */
  public static final int MAX_STATUS_WAIT_SECONDS = 15;
  /**
   * The deadlines the API hands to the engine: instants with a four-digit year. Far inside the
   * epoch-millis range, so that the engine's arithmetic on T (minus its margins, plus grace) never
   * overflows; anything the submission policy accepts (max-lead-time ahead) lies well inside.
   */
  public static final Instant EARLIEST_DEADLINE = Instant.parse("0000-01-01T00:00:00Z");
  public static final Instant LATEST_DEADLINE = Instant.parse("9999-12-31T23:59:59.999Z");
  private static final ContentType YAML = MediaTypes.applicationWithFixedCharset("yaml", HttpCharsets.UTF_8)
      .toContentType();

  private final AccessGuards guards;
  private final OutboxResource outbox;
  private final InboxResource inbox;
  private final DirectoryResource directory;
  private final HttpSettings settings;
  private final byte[] openApi;
  /** certmail.engine.max-content-size, for the message of 413. */
  private final long maxContentBytes;

  /**
   * @param organisations the organisations this node serves: the public directory answers for their servers
   * @param hostedMailboxes the mailboxes this node serves (with their private keys here)
   */
  public HttpApi(CertmailEngine engine, Collection<String> organisations, Set<String> hostedMailboxes,
                 TrustStore trustStore, TokenStore tokens, HttpSettings settings, Clock clock, MailboxIndex mailboxIndex) {
    com.typesafe.config.Config policy = engine.system().settings().config().getConfig("certmail.engine");
    RequestValidation validation = new RequestValidation(clock, policy.getDuration("min-lead-time"),
        policy.getDuration("max-lead-time"));
    this.guards = new AccessGuards(organisations, hostedMailboxes, trustStore, tokens, settings);
    this.outbox = new OutboxResource(engine, validation, trustStore, mailboxIndex);
    this.inbox = new InboxResource(engine, mailboxIndex);
    this.directory = new DirectoryResource(engine);
    this.settings = settings;
    this.openApi = openApiDocument();
    this.maxContentBytes = policy.getBytes("max-content-size");
  }

  public Route routes() {
    return handleExceptions(exceptions(), () -> handleRejections(rejections(settings.maxRequestBytes(), maxContentBytes),
        () -> withSizeLimit(settings.maxRequestBytes(), () -> declaredSizeWithinLimit(() -> concat(
            path(segment("v1").slash("openapi.yaml"), () -> get(() -> complete(
                HttpResponse.create().withEntity(HttpEntities.create(YAML, openApi))))),
            path(segment("v1").slash("directory").slash(segment()).slash(segment()), (server, id) -> get(() -> {
              String label = RequestValidation.label(server, id);
              return guards.publicDirectory(server, () -> directory.label(server, label));
            })),
            pathPrefix(segment("v1").slash("mailboxes").slash(segment()), this::mailboxRoutes))))));
  }

  /** A mailbox's routes: a well-formed name (else 400), then the guards, then its outbox and inbox. */
  private Route mailboxRoutes(String mailbox) {
    RequestValidation.mailbox(mailbox);
    return guards.mailboxOwner(mailbox, () -> concat(
        pathPrefix("outbox", () -> outbox.routes(mailbox)),
        pathPrefix("inbox", () -> inbox.routes(mailbox))));
  }

  /**
   * A request that declares more than max-request-size is answered 413 from its headers, before its
   * body is read: a client that sent Expect: 100-continue then never sends the body, and any other
   * gets the answer while it is still sending, instead of a connection closed under it later.
   * (withSizeLimit still stops bodies without a declared length.)
   */
  private Route declaredSizeWithinLimit(Supplier<Route> inner) {
    return extractRequestEntity(entity -> {
      OptionalLong declared = entity.getContentLengthOption();
      return declared.isPresent() && declared.getAsLong() > settings.maxRequestBytes()
          ? complete(requestTooLarge()) : inner.get();
    });
  }

  private ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
        .match(BadRequest.class, e -> complete(e.response()))
        .match(EntityStreamSizeException.class, e -> complete(requestTooLarge()))
        .build();
  }

  /**
   * 413: the request is over certmail.http.max-request-size. Below it, a mail whose content is over
   * max-content-size reaches the origin server, which refuses it with a signed MESSAGE_TOO_LARGE.
   */
  private HttpResponse requestTooLarge() {
    return Json.error(StatusCodes.PAYLOAD_TOO_LARGE, "REQUEST_TOO_LARGE",
        tooLargeMessage(settings.maxRequestBytes(), maxContentBytes));
  }

  private static String tooLargeMessage(long maxRequestBytes, long maxContentBytes) {
    return "the request is larger than " + maxRequestBytes + " bytes (certmail.http.max-request-size); a mail's"
        + " content (subject, body and content type) may be at most " + maxContentBytes
        + " bytes (certmail.engine.max-content-size): send a smaller mail";
  }

  /** pekko-http's rejections (no such route, wrong method, ...) as JSON errors like every other answer. */
  private static RejectionHandler rejections(long maxRequestBytes, long maxContentBytes) {
    Function<HttpResponse, HttpResponse> asJson = response -> {
      if (response.entity().getContentType().equals(ContentTypes.APPLICATION_JSON)) {
        return response;
      }
      String text = response.entity() instanceof HttpEntity.Strict strict ? strict.getData().utf8String() : "";
      String reason = switch (response.status().intValue()) {
        case 404 -> "NOT_FOUND";
        case 405 -> "METHOD_NOT_ALLOWED";
        case 413 -> "REQUEST_TOO_LARGE";
        case 415 -> "UNSUPPORTED_MEDIA_TYPE";
        default -> "BAD_REQUEST";
      };
      String message = switch (response.status().intValue()) {
        case 404 -> "no such resource: the routes are described at GET /v1/openapi.yaml";
        // An entity over the size limit: the same answer as when the exception reaches us.
        case 413 -> tooLargeMessage(maxRequestBytes, maxContentBytes);
        default -> Json.withoutClassNames(text);
      };
      return Json.error(response.status(), reason, message).addHeaders(response.getHeaders());
    };
    return RejectionHandler.defaultHandler().mapRejectionResponse(asJson::apply);
  }

  private static byte[] openApiDocument() {
    try (InputStream in = HttpApi.class.getResourceAsStream("openapi.yaml")) {
      if (in == null) {
        throw new IllegalStateException("openapi.yaml is missing from the jar; rebuild with ./mvnw package");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read openapi.yaml from the jar", e);
    }
  }
}
