package net.certmail.node.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import net.certmail.actors.InboxView;
import net.certmail.actors.MailStatus;
import net.certmail.protocol.recipient.RecipientView;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.SignedEvidence;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;

/** The JSON shapes of the API (described in openapi.yaml) and their rendering. */
final class Json {
  static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
          // A second "recipient" must not silently win over the first (it redirected a mail): refuse it.
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .build())
      // A misspelt field must not be silently ignored (e.g. "dealine"): the client hears about it.
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      // Nor a second JSON value after the first ({"recipient": "bob@..."} {"recipient": "eve@..."}).
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
      .build();

  /** Fully qualified Java names (net.certmail.node.http.Json$SubmitRequest, java.lang.Long, ...). */
  private static final Pattern CLASS_NAME = Pattern.compile(
      "`?\\b(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*`?|\\b[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\\b:?");

  private Json() {}

  /** POST /outbox. Either {@code deadline} (ISO-8601 instant) or {@code leadSeconds}. */
  record SubmitRequest(String recipient, String subject, String body, String contentType, String deadline,
                       Long leadSeconds, String flavour, String idempotencyKey) {}

  /** POST /inbox/.../refuse; the body is optional. */
  record RefuseRequest(String reason) {}

  /**
   * One evidence item: the exact SignedEvidence bytes (base64) and, for reading, what its statement
   * says. The decoded fields are NOT verified by this answer: verify the bundle offline.
   */
  record Evidence(String kind, String etsiEvent, String issuer, String label, String signer, String base64) {}

  record Status(String sender, String submissionId, String label, String status, String reason,
                List<Evidence> evidence, List<Evidence> lateEvidence) {}

  /** {@code acceptUntil}: while AWAITING_DECISION, the last instant to accept (ISO-8601); null otherwise. */
  record InboxEntry(String mailbox, String label, String sender, String agent, String flavour, String status,
                    String acceptUntil, boolean contentAvailable, List<Evidence> evidence) {}

  /** GET /outbox: the mailbox's submissions; {@code truncated} when there were more than listed. */
  record OutboxList(String mailbox, List<Status> entries, boolean truncated) {}

  /** GET /inbox: the mailbox's mails, by label; {@code truncated} when there were more than listed. */
  /** {@code next}: the {@code after} of the following page, null on the last page. */
  record InboxList(String mailbox, List<InboxEntry> entries, boolean truncated, String next) {}

  /** GET /v1/directory/...: what the origin server published about a label. */
  record Directory(String server, String label, List<Evidence> evidence) {}

  record Content(String label, String subject, String body, String contentType) {}

  static Status status(MailStatus status) {
    return new Status(status.sender(), status.submissionId(), status.label(), status.status().name(), reason(status),
        evidence(status.evidence()), evidence(status.lateEvidence()));
  }

  /** A reason on the wire: the name of the protocol's ReasonCode, "" when the mail has none. */
  static String reason(MailStatus status) {
    return status.hasReason() ? status.reason().name() : "";
  }

  static InboxEntry inboxEntry(InboxView view) {
    String acceptUntil = view.acceptsUntilMillis() > 0 && view.status() == RecipientView.Status.AWAITING_DECISION
        ? java.time.Instant.ofEpochMilli(view.acceptsUntilMillis()).toString() : null;
    String flavour = view.flavour() == Flavour.FLAVOUR_UNSPECIFIED ? "" : view.flavour().name();
    return new InboxEntry(view.mailbox(), view.label(), view.sender(), view.agent(), flavour,
        view.status().name(), acceptUntil, view.content() != null, evidence(view.evidence()));
  }

  static List<Evidence> evidence(List<byte[]> items) {
    return items.stream().map(Json::evidence).toList();
  }

  private static Evidence evidence(byte[] bytes) {
    String base64 = Base64.getEncoder().encodeToString(bytes);
    try {
      SignedEvidence signed = SignedEvidence.parseFrom(bytes);
      EvidenceStatement statement = EvidenceStatement.parseFrom(signed.getStatement());
      return new Evidence(statement.getKind().name(), statement.getEtsiEvent().name(), statement.getIssuer(),
          statement.getLabel(), signed.getSigner(), base64);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      // The engine only holds evidence it parsed and verified; show the bytes rather than fail.
      return new Evidence("UNREADABLE", "", "", "", "", base64);
    }
  }

  /** What is wrong with a JSON body, in the client's terms: field names and JSON types, never Java classes. */
  static String problem(JsonProcessingException e) {
    String field = e instanceof JsonMappingException mapping ? mapping.getPath().stream()
        .map(reference -> reference.getFieldName() != null ? reference.getFieldName() : "[" + reference.getIndex() + "]")
        .collect(Collectors.joining(".")) : "";
    if (e instanceof UnrecognizedPropertyException unknown) {
      return "unknown field \"" + unknown.getPropertyName() + "\"";
    }
    if (e instanceof MismatchedInputException mismatch && !field.isEmpty()) {
      return "field \"" + field + "\" must be " + jsonType(mismatch.getTargetType());
    }
    if (e instanceof MismatchedInputException) {
      return "the body must be a JSON object";
    }
    String where = e.getLocation() == null ? ""
        : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
    String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
    if (original.startsWith("Duplicate field '")) {
      return withoutClassNames(original) + where + ": give each field once";
    }
    // Jackson's other parse messages name its own settings; where the JSON breaks is what helps.
    return "not valid JSON" + where;
  }

  private static String jsonType(Class<?> type) {
    if (type == null) {
      return "of another JSON type";
    }
    if (type == String.class) {
      return "a string";
    }
    if (Number.class.isAssignableFrom(type) || type.isPrimitive()) {
      return "a number";
    }
    return "a JSON object";
  }

  /** Jackson's "(start marker at [Source: ...])" and "at [Source: ...]": its own settings, not the client's input. */
  private static final Pattern SOURCE = Pattern.compile("\\s*(?:\\(start marker at )?\\[Source:[^\\]]*][)]?");
  /** Names Jackson puts in backticks: Java types, its own feature flags. */
  private static final Pattern QUOTED = Pattern.compile("`[^`]*`");

  /** A message with every Java class name replaced, for text that came from a library. */
  static String withoutClassNames(String message) {
    if (message == null) {
      return "";
    }
    String text = SOURCE.matcher(message).replaceAll("");
    text = QUOTED.matcher(text).replaceAll("a value");
    return CLASS_NAME.matcher(text).replaceAll("a value");
  }

  static HttpResponse response(StatusCode code, Object body) {
    try {
      return HttpResponse.create().withStatus(code)
          .withEntity(ContentTypes.APPLICATION_JSON, MAPPER.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render " + body.getClass().getSimpleName() + " as JSON", e);
    }
  }

  static HttpResponse error(StatusCode code, String reason, String message) {
    return response(code, new ApiError(reason, message));
  }
}
