package net.certmail.node.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.JsonMappingException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import net.certmail.actors.CertmailEngine;
import net.certmail.actors.InboxView;
import net.certmail.actors.MailStatus;
import net.certmail.crypto.EvidenceBundles;
import net.certmail.crypto.TrustStore;
import net.certmail.persistence.InboxLabels;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.Routing;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.ContentDisposition;
import org.apache.pekko.http.javadsl.model.headers.ContentDispositionTypes;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;

/**
 * The HTTP API of one node, for the mailboxes it hosts: a thin layer over {@link CertmailEngine}.
 * Every request names its mailbox in the path; it is answered only when the mailbox is hosted
 * here (else 404 naming the organisation to ask), the bearer token is that mailbox's (401 / 403),
 * and the mailbox has rate budget left (429). The routes are described in openapi.yaml, which a
 * test keeps in step with {@link #ROUTES}.
 */
public final class HttpApi extends AllDirectives {
  /** Every route this class serves, as OpenAPI paths with methods; OpenApiConsistencyTest checks both ways. */
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
  /** Submission ids become part of persistence ids and URLs: keep them plain. */
  private static final Pattern SUBMISSION_ID = Pattern.compile("[A-Za-z0-9._~-]{1,128}");
  /**
   * A mailbox id as the network's certificates spell it (PrincipalNames): no control character
   * (log forging), no '|' (persistence ids are "mailbox|key"), nothing a path could hide.
   */
  private static final Pattern MAILBOX = Pattern.compile(
      "[a-z0-9][a-z0-9._+-]{0,63}@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");
  /** One path segment of a label (server, id) or a submission id. */
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._~-]{1,128}");
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HttpApi.class);
  private static final Duration DEFAULT_LEAD = Duration.ofHours(1);
  /**
   * The deadlines the API hands to the engine: instants with a four-digit year. Far inside the
   * epoch-millis range, so that the engine's arithmetic on T (minus its margins, plus grace) never
   * overflows; anything the submission policy accepts (max-lead-time ahead) lies well inside.
   */
  public static final Instant EARLIEST_DEADLINE = Instant.parse("0000-01-01T00:00:00Z");
  public static final Instant LATEST_DEADLINE = Instant.parse("9999-12-31T23:59:59.999Z");
  private static final ContentType YAML = MediaTypes.applicationWithFixedCharset("yaml", HttpCharsets.UTF_8)
      .toContentType();

  private final CertmailEngine engine;
  private final InboxLabels inboxLabels;
  private final Set<String> hostedMailboxes;
  private final Set<String> organisations;
  private final Set<String> knownPrincipals;
  private final TrustStore trustStore;
  private final TokenStore tokens;
  private final RateLimiter rateLimiter;
  /** Failed authentications per client address (token guessing). */
  private final RateLimiter authFailures;
  private final HttpSettings settings;
  private final Clock clock;
  private final byte[] openApi;
  /** certmail.engine's submission policy, for messages that say what is accepted. */
  private final Duration minLeadTime;
  private final Duration maxLeadTime;
  private final long maxContentBytes;

  /**
   * @param organisations the organisations this node serves: the public directory answers for their servers
   * @param hostedMailboxes the mailboxes this node serves (with their private keys here)
   */
  public HttpApi(CertmailEngine engine, Collection<String> organisations, Set<String> hostedMailboxes,
                 TrustStore trustStore, TokenStore tokens, HttpSettings settings, Clock clock, InboxLabels inboxLabels) {
    this.engine = engine;
    this.inboxLabels = inboxLabels;
    this.organisations = Set.copyOf(organisations);
    this.hostedMailboxes = Set.copyOf(hostedMailboxes);
    this.knownPrincipals = trustStore.certificates().stream()
        .map(net.certmail.crypto.PrincipalNames::principalOf).collect(java.util.stream.Collectors.toUnmodifiableSet());
    this.trustStore = trustStore;
    this.tokens = tokens;
    this.rateLimiter = new RateLimiter(settings.burst(), settings.perSecond(), System::nanoTime);
    this.authFailures = new RateLimiter(settings.authFailureBurst(), settings.authFailurePerSecond(), System::nanoTime);
    this.settings = settings;
    this.clock = clock;
    this.openApi = openApiDocument();
    com.typesafe.config.Config policy = engine.system().settings().config().getConfig("certmail.engine");
    this.minLeadTime = policy.getDuration("min-lead-time");
    this.maxLeadTime = policy.getDuration("max-lead-time");
    this.maxContentBytes = policy.getBytes("max-content-size");
  }

  public Route routes() {
    return handleExceptions(exceptions(), () -> handleRejections(rejections(settings.maxRequestBytes(), maxContentBytes),
        () -> withSizeLimit(settings.maxRequestBytes(), () -> declaredSizeWithinLimit(() -> concat(
            path(segment("v1").slash("openapi.yaml"), () -> get(() -> complete(
                HttpResponse.create().withEntity(HttpEntities.create(YAML, openApi))))),
            path(segment("v1").slash("directory").slash(segment()).slash(segment()), (server, id) ->
                get(() -> plainLabel(server, id, () -> directory(server, server + "/" + id)))),
            pathPrefix(segment("v1").slash("mailboxes").slash(segment()), this::mailboxRoutes))))));
  }

  /**
   * A request that declares more than max-request-size is answered 413 from its headers, before its
   * body is read: a client that sent Expect: 100-continue then never sends the body, and any other
   * gets the answer while it is still sending, instead of a connection closed under it later.
   * (withSizeLimit still stops bodies without a declared length.)
   */
  private Route declaredSizeWithinLimit(Supplier<Route> inner) {
    return extractRequestEntity(entity -> {
      java.util.OptionalLong declared = entity.getContentLengthOption();
      return declared.isPresent() && declared.getAsLong() > settings.maxRequestBytes()
          ? complete(requestTooLarge()) : inner.get();
    });
  }

  /**
   * The public directory: no token, since COP, ROD, COD and NDN are meant for third parties
   * (anyone holding a label can check what its origin server published). Rate-limited per client
   * address instead of per mailbox.
   */
  private Route directory(String server, String label) {
    if (!organisations.contains(Routing.organisationOf(server))) {
      return complete(Json.error(StatusCodes.NOT_FOUND, "NOT_HOSTED_HERE", "server " + server
          + " is not run by this node: ask a node of organisation " + Routing.organisationOf(server)));
    }
    return extractClientIP(client -> rateLimited("directory " + client.getAddress().map(Object::toString)
        .orElse("unknown"), () -> answer(engine.publicEvidence(server, label).thenApply(entry -> entry.published()
            ? Json.response(StatusCodes.OK, new Json.Directory(server, label, Json.evidence(entry.evidence())))
            : Json.error(StatusCodes.NOT_FOUND, "UNKNOWN_LABEL", server + " issued no label " + label
                + ": check the label (the sender's status shows it) and the server part before the slash")))));
  }

  /**
   * A mailbox's routes: a well-formed name (else 400), then its token (else 401, the same for a
   * mailbox that exists and one that does not: no token, no enumeration), then where it is hosted.
   */
  private Route mailboxRoutes(String mailbox) {
    if (!MAILBOX.matcher(mailbox).matches()) {
      return complete(badRequest("BAD_MAILBOX", "a mailbox id is lower-case letters, digits and . _ + - around one @,"
          + " e.g. alice@alpha.example"));
    }
    return authenticated(mailbox, () -> hostedHere(mailbox, () -> rateLimited(mailbox, () -> concat(
        pathPrefix("outbox", () -> outboxRoutes(mailbox)),
        path("inbox", () -> get(() -> answer(inboxList(mailbox)))),
        pathPrefix(segment("inbox").slash(segment()).slash(segment()),
            (server, id) -> plainLabel(server, id, () -> inboxRoutes(mailbox, server + "/" + id)))))));
  }

  /** A label's two path segments, plain (they become entity ids and log lines), or 400. */
  private Route plainLabel(String server, String id, Supplier<Route> inner) {
    if (!SEGMENT.matcher(server).matches() || !SEGMENT.matcher(id).matches()) {
      return complete(badRequest("BAD_LABEL", "a label is <server>/<id>, e.g. alpha.example/3f2a...:"
          + " letters, digits and . _ ~ - only"));
    }
    return inner.get();
  }

  private Route outboxRoutes(String mailbox) {
    return concat(
        pathEnd(() -> concat(
            post(() -> optionalHeaderValueByName(IDEMPOTENCY_KEY, key ->
                entity(Unmarshaller.entityToString(), body -> answer(submit(mailbox, key, body))))),
            get(() -> answer(outboxList(mailbox))))),
        pathPrefix(segment(), submissionId -> !SUBMISSION_ID.matcher(submissionId).matches()
            ? complete(badRequest("BAD_SUBMISSION_ID", "a submission id is 1 to 128 of A-Z a-z 0-9 . _ ~ -"))
            : concat(
                pathEnd(() -> get(() -> answer(status(mailbox, submissionId)))),
                path("bundle", () -> get(() -> answer(bundle(mailbox, submissionId)))))));
  }

  private Route inboxRoutes(String mailbox, String label) {
    return concat(
        pathEnd(() -> get(() -> answer(inboxEntry(mailbox, label)))),
        path("accept", () -> post(() -> answer(decide(mailbox, label, engine.accept(mailbox, label))))),
        path("refuse", () -> post(() -> entity(Unmarshaller.entityToString(), body ->
            answer(refuse(mailbox, label, body))))),
        path("content", () -> get(() -> answer(content(mailbox, label)))));
  }

  // ---- guards ----

  /** Runs after authentication: a holder of a valid token learns where a mailbox is hosted, nobody else. */
  private Route hostedHere(String mailbox, Supplier<Route> inner) {
    if (hostedMailboxes.contains(mailbox)) {
      return inner.get();
    }
    if (knownPrincipals.contains(mailbox)) {
      return complete(Json.error(StatusCodes.NOT_FOUND, "NOT_HOSTED_HERE", "mailbox " + mailbox
          + " is hosted by organisation " + Routing.organisationOf(mailbox) + ": send this request to one of its nodes"));
    }
    return complete(Json.error(StatusCodes.NOT_FOUND, "UNKNOWN_MAILBOX", "no mailbox " + mailbox
        + " in this network: check the spelling (e.g. alice@alpha.example)"));
  }

  /**
   * The bearer token must be valid; a client address that failed too often gets 429 until its
   * budget refills, whatever token it sends. A valid token of another mailbox goes on to
   * {@link #hostedHere}: 403 for a mailbox hosted here, 404 with where to ask otherwise.
   */
  private Route authenticated(String mailbox, Supplier<Route> inner) {
    return extractClientIP(client -> optionalHeaderValueByName("Authorization", header -> {
      String address = client.getAddress().map(java.net.InetAddress::getHostAddress).orElse("unknown");
      if (!authFailures.hasBudget(address)) {
        long retryAfter = authFailures.retryAfterSeconds();
        return complete(Json.error(StatusCodes.TOO_MANY_REQUESTS, "RATE_LIMITED", "too many failed authentications"
            + " from your address: retry after " + retryAfter + " s with a valid token (limit:"
            + " certmail.http.auth-failure-limit)").addHeader(RawHeader.create("Retry-After", Long.toString(retryAfter))));
      }
      Optional<String> token = header.filter(value -> value.regionMatches(true, 0, "Bearer ", 0, 7))
          .map(value -> value.substring(7).trim());
      if (token.isEmpty()) {
        authFailures.tryAcquire(address);
        return complete(unauthorized("MISSING_TOKEN", "send 'Authorization: Bearer <token>'; a mailbox's token comes"
            + " from: certmail keys token --mailbox <mailbox> --keys <node key directory>"));
      }
      Optional<String> owner = tokens.mailboxOf(token.get());
      if (owner.isEmpty()) {
        authFailures.tryAcquire(address);
        return complete(unauthorized("INVALID_TOKEN", "this token is not known on this node (or was revoked): issue"
            + " one with certmail keys token --mailbox <mailbox> --keys <node key directory>"));
      }
      if (!owner.get().equals(mailbox)) {
        // The token is valid, but for another mailbox: a mailbox never reads or acts on another's data.
        return hostedHere(mailbox, () -> complete(Json.error(StatusCodes.FORBIDDEN, "WRONG_MAILBOX",
            "this token belongs to another mailbox; use the token issued for " + mailbox)));
      }
      return inner.get();
    }));
  }

  private static HttpResponse unauthorized(String reason, String message) {
    return Json.error(StatusCodes.UNAUTHORIZED, reason, message)
        .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", "certmail")));
  }

  /** @param key whose budget: a mailbox, or the public directory's client address */
  private Route rateLimited(String key, Supplier<Route> inner) {
    if (rateLimiter.tryAcquire(key)) {
      return inner.get();
    }
    long retryAfter = rateLimiter.retryAfterSeconds();
    return complete(Json.error(StatusCodes.TOO_MANY_REQUESTS, "RATE_LIMITED", "too many requests for " + key
        + ": retry after " + retryAfter + " s (limit: certmail.http.rate-limit)")
        .addHeader(RawHeader.create("Retry-After", Long.toString(retryAfter))));
  }

  // ---- outbox ----

  private CompletionStage<HttpResponse> submit(String mailbox, Optional<String> keyHeader, String body) {
    Json.SubmitRequest request;
    try {
      request = Json.MAPPER.readValue(body, Json.SubmitRequest.class);
    } catch (JsonProcessingException e) {
      if (e instanceof JsonMappingException mapping && e.getCause() instanceof InputCoercionException
          && mapping.getPath().stream().anyMatch(field -> "leadSeconds".equals(field.getFieldName()))) {
        // A number, but beyond a 64-bit integer: a deadline out of range, not malformed JSON.
        return done(badRequest("BAD_DEADLINE", "\"leadSeconds\" is out of range; " + acceptedDeadlines()));
      }
      return done(badRequest("BAD_JSON", "the body is not a submission: " + Json.problem(e)
          + "; expected {\"recipient\", \"subject\", \"body\", \"deadline\" or \"leadSeconds\", \"flavour\"}"));
    }
    if (request == null || request.recipient() == null || !MAILBOX.matcher(request.recipient()).matches()) {
      return done(badRequest("BAD_RECIPIENT", "give \"recipient\" as a mailbox id: lower-case letters, digits and"
          + " . _ + - around one @, e.g. bob@beta.example"));
    }
    if (keyHeader.isPresent() && request.idempotencyKey() != null && !keyHeader.get().equals(request.idempotencyKey())) {
      return done(badRequest("BAD_IDEMPOTENCY_KEY", "the " + IDEMPOTENCY_KEY
          + " header and the idempotencyKey field differ: give one of them"));
    }
    // The idempotency key is the submission id: resending with it reaches the same outbox entity
    // and so the same label and COP. Without one, every request is a new mail.
    String submissionId = keyHeader.or(() -> Optional.ofNullable(request.idempotencyKey()))
        .orElseGet(() -> UUID.randomUUID().toString());
    if (!SUBMISSION_ID.matcher(submissionId).matches()) {
      return done(badRequest("BAD_IDEMPOTENCY_KEY", "an idempotency key is 1 to 128 of A-Z a-z 0-9 . _ ~ -"));
    }
    Flavour flavour;
    try {
      flavour = Flavour.valueOf((request.flavour() == null ? "CEM" : request.flavour()).toUpperCase(Locale.ROOT));
      if (flavour == Flavour.UNRECOGNIZED || flavour.getNumber() == 0) {
        throw new IllegalArgumentException();
      }
    } catch (IllegalArgumentException e) {
      return done(badRequest("BAD_FLAVOUR", "\"flavour\" is CEM, NSR or IP"));
    }
    long deadline;
    try {
      deadline = deadlineOf(request);
    } catch (IllegalArgumentException e) {
      return done(badRequest("BAD_DEADLINE", e.getMessage()));
    }
    MailItem item = MailItem.newBuilder()
        .setSubject(request.subject() == null ? "" : request.subject())
        .setBody(request.body() == null ? "" : request.body())
        .setContentType(request.contentType() == null ? "text/plain; charset=utf-8" : request.contentType())
        .build();
    return engine.submit(mailbox, submissionId, request.recipient(), item, deadline, flavour).thenApply(status -> {
      if (status.problem() != null) {
        return Json.error(StatusCodes.CONFLICT, "SUBMISSION_CONFLICT", status.problem()
            + ": use a new idempotency key for a new mail; to resend the same mail, send the same recipient,"
            + " content, flavour and absolute deadline (leadSeconds gives a new deadline on every resend)");
      }
      return Json.response(StatusCodes.ACCEPTED, Json.status(status))
          .addHeader(Location.create("/v1/mailboxes/" + mailbox + "/outbox/" + submissionId));
    });
  }

  /**
   * T in epoch milliseconds, from "deadline" or "leadSeconds" (default one hour). Only what cannot
   * be a deadline is refused here (400): unparsable, a negative lead, or beyond the four-digit
   * years (an instant outside epoch milliseconds, or a lead whose sum with now overflows). A
   * deadline that is merely too soon or too far is the origin server's to refuse, with a signed
   * rejection (DEADLINE_NOT_ACCEPTABLE).
   */
  private long deadlineOf(Json.SubmitRequest request) {
    if (request.deadline() != null && request.leadSeconds() != null) {
      throw new IllegalArgumentException("give either \"deadline\" or \"leadSeconds\", not both");
    }
    if (request.deadline() != null) {
      Instant deadline;
      try {
        deadline = Instant.parse(request.deadline());
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("\"deadline\" is an ISO-8601 instant such as 2026-12-01T12:00:00Z; "
            + acceptedDeadlines());
      }
      if (deadline.isBefore(EARLIEST_DEADLINE) || deadline.isAfter(LATEST_DEADLINE)) {
        throw new IllegalArgumentException("\"deadline\" " + request.deadline() + " is out of range; "
            + acceptedDeadlines());
      }
      return deadline.toEpochMilli();
    }
    long now = clock.millis();
    if (request.leadSeconds() == null) {
      return now + DEFAULT_LEAD.toMillis();
    }
    long leadSeconds = request.leadSeconds();
    if (leadSeconds < 0) {
      throw new IllegalArgumentException("\"leadSeconds\" " + leadSeconds + " is negative; " + acceptedDeadlines());
    }
    try {
      long deadline = Math.addExact(now, Math.multiplyExact(leadSeconds, 1000L));
      if (deadline <= LATEST_DEADLINE.toEpochMilli()) {
        return deadline;
      }
    } catch (ArithmeticException overflow) {
      // falls through: as out of range as a deadline after year 9999
    }
    throw new IllegalArgumentException("\"leadSeconds\" " + leadSeconds + " is out of range; " + acceptedDeadlines());
  }

  /** What a deadline may be, for the messages of 400 BAD_DEADLINE. */
  private String acceptedDeadlines() {
    return "the origin server accepts a deadline between " + minLeadTime.toSeconds() + " s and "
        + maxLeadTime.toSeconds() + " s (" + maxLeadTime.toDays() + " days) ahead"
        + " (certmail.engine.min-lead-time and max-lead-time): \"leadSeconds\" from " + minLeadTime.toSeconds()
        + " to " + maxLeadTime.toSeconds() + ", or \"deadline\" an ISO-8601 instant in that window,"
        + " e.g. " + Instant.ofEpochSecond(clock.instant().plus(DEFAULT_LEAD).getEpochSecond());
  }

  /** At most this many submissions in one listing; the answer says when there are more. */
  static final int OUTBOX_LIST_LIMIT = 200;

  /** The mailbox's submissions with their status, read from the journal (every outbox entry persists as mailbox|id). */
  private CompletionStage<HttpResponse> outboxList(String mailbox) {
    return inboxLabels.submissionsOf(mailbox, OUTBOX_LIST_LIMIT + 1).thenCompose(ids -> {
      List<CompletableFuture<Json.Status>> entries = ids.subList(0, Math.min(ids.size(), OUTBOX_LIST_LIMIT)).stream()
          .map(id -> engine.status(mailbox, id).thenApply(Json::status).toCompletableFuture())
          .toList();
      return CompletableFuture.allOf(entries.toArray(CompletableFuture[]::new)).thenApply(done ->
          Json.response(StatusCodes.OK, new Json.OutboxList(mailbox,
              entries.stream().map(CompletableFuture::join).toList(), ids.size() > OUTBOX_LIST_LIMIT)));
    });
  }

  private CompletionStage<HttpResponse> status(String mailbox, String submissionId) {
    return engine.status(mailbox, submissionId).thenApply(status -> unknownSubmission(status)
        .orElseGet(() -> Json.response(StatusCodes.OK, Json.status(status))));
  }

  private CompletionStage<HttpResponse> bundle(String mailbox, String submissionId) {
    return engine.status(mailbox, submissionId).thenApply(status -> unknownSubmission(status).orElseGet(() -> {
      if (status.evidence().isEmpty()) {
        return Json.error(StatusCodes.CONFLICT, "NO_EVIDENCE_YET", "submission " + submissionId
            + " has no evidence yet (status " + status.status() + "): ask again when the origin server has"
            + " answered with its COP or its signed rejection");
      }
      List<SignedEvidence> items = new ArrayList<>();
      for (byte[] bytes : status.evidence()) {
        try {
          items.add(SignedEvidence.parseFrom(bytes));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new IllegalStateException("the engine holds unreadable evidence for " + status.label(), e);
        }
      }
      byte[] bundle = EvidenceBundles.toBytes(EvidenceBundles.of(status.label(), items, trustStore));
      // A rejected submission never got a label: its bundle holds the signed rejection, about no label.
      String file = (status.label().isEmpty() ? submissionId + ".rejection" : status.label().replace('/', '_'))
          + ".cmbundle";
      return HttpResponse.create()
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM, bundle))
          .addHeader(ContentDisposition.create(ContentDispositionTypes.ATTACHMENT, java.util.Map.of("filename", file)));
    }));
  }

  private static Optional<HttpResponse> unknownSubmission(MailStatus status) {
    if (MailStatus.UNKNOWN.equals(status.status())) {
      return Optional.of(Json.error(StatusCodes.NOT_FOUND, "UNKNOWN_SUBMISSION", "no submission "
          + status.submissionId() + " from " + status.sender() + ": check the id the submission answered with"));
    }
    return Optional.empty();
  }

  // ---- inbox ----

  /** At most this many entries in one listing; the answer says when there are more. */
  static final int INBOX_LIST_LIMIT = 200;

  private CompletionStage<HttpResponse> inboxList(String mailbox) {
    return inboxLabels.of(mailbox, INBOX_LIST_LIMIT + 1).thenCompose(labels -> {
      List<String> shown = labels.subList(0, Math.min(labels.size(), INBOX_LIST_LIMIT));
      List<CompletableFuture<Json.InboxEntry>> entries = shown.stream()
          .map(label -> engine.inboxEntry(mailbox, label).thenApply(Json::inboxEntry).toCompletableFuture())
          .toList();
      return CompletableFuture.allOf(entries.toArray(CompletableFuture[]::new)).thenApply(done ->
          Json.response(StatusCodes.OK, new Json.InboxList(mailbox,
              entries.stream().map(CompletableFuture::join).toList(), labels.size() > INBOX_LIST_LIMIT)));
    });
  }

  private CompletionStage<HttpResponse> inboxEntry(String mailbox, String label) {
    return engine.inboxEntry(mailbox, label).thenApply(view -> unknownLabel(view)
        .orElseGet(() -> Json.response(StatusCodes.OK, Json.inboxEntry(view))));
  }

  private CompletionStage<HttpResponse> refuse(String mailbox, String label, String body) {
    String reason = "";
    if (!body.isBlank()) {
      try {
        Json.RefuseRequest request = Json.MAPPER.readValue(body, Json.RefuseRequest.class);
        reason = request.reason() == null ? "" : request.reason();
      } catch (JsonProcessingException e) {
        return done(badRequest("BAD_JSON", "the body is optional; when given it is {\"reason\": \"...\"}: "
            + Json.problem(e)));
      }
    }
    return decide(mailbox, label, engine.refuse(mailbox, label, reason));
  }

  /** Accept and refuse answer the entry as it is after the decision; a decision not taken is 409. */
  private CompletionStage<HttpResponse> decide(String mailbox, String label, CompletionStage<InboxView> decision) {
    return decision.thenApply(view -> unknownLabel(view).orElseGet(() -> view.problem() != null
        ? Json.error(StatusCodes.CONFLICT, "DECISION_NOT_POSSIBLE", view.problem()
            + " (status " + view.status() + "); GET the entry to see where it stands")
        : Json.response(StatusCodes.OK, Json.inboxEntry(view))));
  }

  private CompletionStage<HttpResponse> content(String mailbox, String label) {
    return engine.inboxEntry(mailbox, label).thenApply(view -> unknownLabel(view).orElseGet(() -> {
      if (view.content() == null) {
        return Json.error(StatusCodes.CONFLICT, "CONTENT_NOT_RELEASED", "the content of " + label
            + " is not available (status " + view.status() + "): " + whyNoContent(view.status()));
      }
      try {
        MailItem item = MailItem.parseFrom(view.content());
        return Json.response(StatusCodes.OK, new Json.Content(label, item.getSubject(), item.getBody(),
            item.getContentType()));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new IllegalStateException("the content of " + label + " is not a mail item", e);
      }
    }));
  }

  /** What the owner can do about content not (yet) released, by where the mail stands. */
  private static String whyNoContent(String status) {
    return switch (status) {
      case "AWAITING_DECISION" -> "accept it first (certmail accept); in NSR and IP it arrives shortly after"
          + " your receipt";
      case "ACKNOWLEDGED" -> "your receipt is signed and the content is on its way: ask again in a moment";
      case "REFUSED" -> "you refused this mail, so its content is never released to you";
      case "EXPIRED" -> "the time to accept it has passed, so its content is never released to you";
      default -> "it is released only after your receipt (COD)";
    };
  }

  private static Optional<HttpResponse> unknownLabel(InboxView view) {
    if ("NONE".equals(view.status())) {
      return Optional.of(Json.error(StatusCodes.NOT_FOUND, "UNKNOWN_LABEL", "no mail " + view.label()
          + " for " + view.mailbox() + ": labels look like alpha.example/<32 hex digits>"));
    }
    return Optional.empty();
  }

  // ---- plumbing ----

  /** Completes with the engine's answer; an engine that does not answer in time is 503 (retry). */
  private Route answer(CompletionStage<HttpResponse> response) {
    return completeWithFuture(response.handle((ok, failure) -> {
      if (failure == null) {
        return ok;
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      if (cause instanceof TimeoutException) {
        return Json.error(StatusCodes.SERVICE_UNAVAILABLE, "ENGINE_UNAVAILABLE", "the engine did not answer in time"
            + " (the cluster may be rebalancing): retry in a few seconds");
      }
      // The cause stays in the node's log: its message may name classes, files or other mailboxes.
      String incident = UUID.randomUUID().toString();
      LOG.error("request failed (incident {})", incident, cause);
      return Json.error(StatusCodes.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "the node could not answer;"
          + " its log has the details under incident " + incident);
    }));
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return java.util.concurrent.CompletableFuture.completedFuture(response);
  }

  private static HttpResponse badRequest(String reason, String message) {
    return Json.error(StatusCodes.BAD_REQUEST, reason, message);
  }

  private ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
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
