package net.certmail.node.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.JsonMappingException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.MailItem;
import net.certmail.protocol.SubmissionId;

/**
 * Everything a client sends, checked in one place before it reaches the engine: path segments
 * (mailbox ids, labels, submission ids) and JSON bodies. Each method answers a well-formed value
 * or throws {@link BadRequest} saying what to send instead.
 */
final class RequestValidation {
  /**
   * A mailbox id as the network's certificates spell it (PrincipalNames): no control character
   * (log forging), no '|' (persistence ids are "mailbox|key"), nothing a path could hide.
   */
  private static final Pattern MAILBOX = Pattern.compile(
      "[a-z0-9][a-z0-9._+-]{0,63}@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");
  /** One path segment of a label (server, id): as plain as a submission id. */
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._~-]{1,128}");
  private static final Duration DEFAULT_LEAD = Duration.ofHours(1);

  private final Clock clock;
  /** certmail.engine's submission policy, for messages that say what is accepted. */
  private final Duration minLeadTime;
  private final Duration maxLeadTime;

  RequestValidation(Clock clock, Duration minLeadTime, Duration maxLeadTime) {
    this.clock = clock;
    this.minLeadTime = minLeadTime;
    this.maxLeadTime = maxLeadTime;
  }

  /** A submission as the engine takes it. */
  record Submission(String submissionId, String recipient, MailItem item, long deadlineMillis, Flavour flavour) {}

  static String mailbox(String mailbox) {
    if (!MAILBOX.matcher(mailbox).matches()) {
      throw new BadRequest("BAD_MAILBOX", "a mailbox id is lower-case letters, digits and . _ + - around one @,"
          + " e.g. alice@alpha.example");
    }
    return mailbox;
  }

  /** A label's two path segments, plain (they become entity ids and log lines), as "server/id". */
  static String label(String server, String id) {
    if (!SEGMENT.matcher(server).matches() || !SEGMENT.matcher(id).matches()) {
      throw new BadRequest("BAD_LABEL", "a label is <server>/<id>, e.g. alpha.example/3f2a...:"
          + " letters, digits and . _ ~ - only");
    }
    return server + "/" + id;
  }

  /** The cursor of an inbox page: empty (the first page) or a label, as {@code next} gave it. */
  static String inboxCursor(java.util.Optional<String> after) {
    if (after.isEmpty() || after.get().isEmpty()) {
      return "";
    }
    int slash = after.get().indexOf('/');
    if (slash < 0) {
      throw new BadRequest("BAD_CURSOR", "after must be a label (alpha.example/<id>) as the previous page's next gave it");
    }
    return label(after.get().substring(0, slash), after.get().substring(slash + 1));
  }

  /** How many entries an inbox page may hold: 1 to {@code max}, {@code max} when not given. */
  static int pageSize(java.util.Optional<String> limit, int max) {
    if (limit.isEmpty()) {
      return max;
    }
    try {
      int size = Integer.parseInt(limit.get());
      if (size >= 1 && size <= max) {
        return size;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new BadRequest("BAD_LIMIT", "limit must be a whole number from 1 to " + max);
  }

  /** A long poll on a submission's status: answer once it is no longer {@code unchanged}, waiting at most {@code longest}. */
  record StatusWait(net.certmail.proto.v1.DeliveryStatus unchanged, Duration longest) {}

  private static final int MAX_WAIT_SECONDS = HttpApi.MAX_STATUS_WAIT_SECONDS;

  /**
   * {@code ?waitWhile=STATUS[&waitSeconds=N]} on a status request: empty without waitWhile (a
   * plain read). STATUS is one a mail can be in; N is 1 to MAX_WAIT_SECONDS, that when not given.
   */
  static Optional<StatusWait> statusWait(Optional<String> waitWhile, Optional<String> waitSeconds) {
    if (waitWhile.isEmpty()) {
      if (waitSeconds.isPresent()) {
        throw new BadRequest("BAD_WAIT", "waitSeconds goes with waitWhile=<status>: the status to wait for a change of,"
            + " e.g. ?waitWhile=IN_DELIVERY&waitSeconds=10");
      }
      return Optional.empty();
    }
    java.util.List<net.certmail.proto.v1.DeliveryStatus> statuses = java.util.Arrays.stream(
            net.certmail.proto.v1.DeliveryStatus.values())
        .filter(status -> status != net.certmail.proto.v1.DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED
            && status != net.certmail.proto.v1.DeliveryStatus.UNRECOGNIZED)
        .toList();
    net.certmail.proto.v1.DeliveryStatus unchanged = statuses.stream()
        .filter(status -> status.name().equals(waitWhile.get())).findFirst()
        .orElseThrow(() -> new BadRequest("BAD_WAIT", "waitWhile must be a status a mail can be in: "
            + statuses.stream().map(Enum::name).collect(java.util.stream.Collectors.joining(", "))));
    int seconds = MAX_WAIT_SECONDS;
    if (waitSeconds.isPresent()) {
      try {
        seconds = Integer.parseInt(waitSeconds.get());
      } catch (NumberFormatException e) {
        seconds = 0; // answered below
      }
      if (seconds < 1 || seconds > MAX_WAIT_SECONDS) {
        throw new BadRequest("BAD_WAIT", "waitSeconds must be a whole number from 1 to " + MAX_WAIT_SECONDS);
      }
    }
    return Optional.of(new StatusWait(unchanged, Duration.ofSeconds(seconds)));
  }

  static String submissionId(String submissionId) {
    SubmissionId.check(submissionId).ifPresent(problem -> {
      throw new BadRequest("BAD_SUBMISSION_ID", problem);
    });
    return submissionId;
  }

  /**
   * POST /outbox's body, with the Idempotency-Key header if one was sent. The idempotency key is
   * the submission id: resending with it reaches the same outbox entity and so the same label and
   * COP. Without one, every request is a new mail.
   */
  Submission submission(Optional<String> keyHeader, String body) {
    Json.SubmitRequest request;
    try {
      request = Json.MAPPER.readValue(body, Json.SubmitRequest.class);
    } catch (JsonProcessingException e) {
      if (e instanceof JsonMappingException mapping && e.getCause() instanceof InputCoercionException
          && mapping.getPath().stream().anyMatch(field -> "leadSeconds".equals(field.getFieldName()))) {
        // A number, but beyond a 64-bit integer: a deadline out of range, not malformed JSON.
        throw new BadRequest("BAD_DEADLINE", "\"leadSeconds\" is out of range; " + acceptedDeadlines());
      }
      throw new BadRequest("BAD_JSON", "the body is not a submission: " + Json.problem(e)
          + "; expected {\"recipient\", \"subject\", \"body\", \"deadline\" or \"leadSeconds\", \"flavour\"}");
    }
    if (request == null || request.recipient() == null || !MAILBOX.matcher(request.recipient()).matches()) {
      throw new BadRequest("BAD_RECIPIENT", "give \"recipient\" as a mailbox id: lower-case letters, digits and"
          + " . _ + - around one @, e.g. bob@beta.example");
    }
    if (keyHeader.isPresent() && request.idempotencyKey() != null && !keyHeader.get().equals(request.idempotencyKey())) {
      throw new BadRequest("BAD_IDEMPOTENCY_KEY", "the " + HttpApi.IDEMPOTENCY_KEY
          + " header and the idempotencyKey field differ: give one of them");
    }
    String submissionId = keyHeader.or(() -> Optional.ofNullable(request.idempotencyKey()))
        .orElseGet(() -> UUID.randomUUID().toString());
    SubmissionId.check(submissionId).ifPresent(problem -> {
      throw new BadRequest("BAD_IDEMPOTENCY_KEY", "the idempotency key becomes the submission id: " + problem);
    });
    Flavour flavour = flavourOf(request.flavour());
    long deadline = deadlineOf(request);
    MailItem item = MailItem.newBuilder()
        .setSubject(request.subject() == null ? "" : request.subject())
        .setBody(request.body() == null ? "" : request.body())
        .setContentType(request.contentType() == null ? "text/plain; charset=utf-8" : request.contentType())
        .build();
    return new Submission(submissionId, request.recipient(), item, deadline, flavour);
  }

  /** POST /inbox/.../refuse's optional body: the reason, "" when none is given. */
  static String refusalReason(String body) {
    if (body.isBlank()) {
      return "";
    }
    try {
      Json.RefuseRequest request = Json.MAPPER.readValue(body, Json.RefuseRequest.class);
      return request.reason() == null ? "" : request.reason();
    } catch (JsonProcessingException e) {
      throw new BadRequest("BAD_JSON", "the body is optional; when given it is {\"reason\": \"...\"}: "
          + Json.problem(e));
    }
  }

  private static Flavour flavourOf(String name) {
    try {
      Flavour flavour = Flavour.valueOf((name == null ? "CEM" : name).toUpperCase(Locale.ROOT));
      if (flavour == Flavour.UNRECOGNIZED || flavour.getNumber() == 0) {
        throw new IllegalArgumentException();
      }
      return flavour;
    } catch (IllegalArgumentException e) {
      throw new BadRequest("BAD_FLAVOUR", "\"flavour\" is CEM, NSR or IP");
    }
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
      throw badDeadline("give either \"deadline\" or \"leadSeconds\", not both");
    }
    if (request.deadline() != null) {
      Instant deadline;
      try {
        deadline = Instant.parse(request.deadline());
      } catch (DateTimeParseException e) {
        throw badDeadline("\"deadline\" is an ISO-8601 instant such as 2026-12-01T12:00:00Z; " + acceptedDeadlines());
      }
      if (deadline.isBefore(HttpApi.EARLIEST_DEADLINE) || deadline.isAfter(HttpApi.LATEST_DEADLINE)) {
        throw badDeadline("\"deadline\" " + request.deadline() + " is out of range; " + acceptedDeadlines());
      }
      return deadline.toEpochMilli();
    }
    long now = clock.millis();
    if (request.leadSeconds() == null) {
      return now + DEFAULT_LEAD.toMillis();
    }
    long leadSeconds = request.leadSeconds();
    if (leadSeconds < 0) {
      throw badDeadline("\"leadSeconds\" " + leadSeconds + " is negative; " + acceptedDeadlines());
    }
    try {
      long deadline = Math.addExact(now, Math.multiplyExact(leadSeconds, 1000L));
      if (deadline <= HttpApi.LATEST_DEADLINE.toEpochMilli()) {
        return deadline;
      }
    } catch (ArithmeticException overflow) {
      // falls through: as out of range as a deadline after year 9999
    }
    throw badDeadline("\"leadSeconds\" " + leadSeconds + " is out of range; " + acceptedDeadlines());
  }

  private static BadRequest badDeadline(String message) {
    return new BadRequest("BAD_DEADLINE", message);
  }

  /** What a deadline may be, for the messages of 400 BAD_DEADLINE. */
  private String acceptedDeadlines() {
    return "the origin server accepts a deadline between " + minLeadTime.toSeconds() + " s and "
        + maxLeadTime.toSeconds() + " s (" + maxLeadTime.toDays() + " days) ahead"
        + " (certmail.engine.min-lead-time and max-lead-time): \"leadSeconds\" from " + minLeadTime.toSeconds()
        + " to " + maxLeadTime.toSeconds() + ", or \"deadline\" an ISO-8601 instant in that window,"
        + " e.g. " + Instant.ofEpochSecond(clock.instant().plus(DEFAULT_LEAD).getEpochSecond());
  }
}
