package net.certmail.node.http;

import static net.certmail.node.http.Replies.answer;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import net.certmail.actors.CertmailEngine;
import net.certmail.actors.MailStatus;
import net.certmail.crypto.EvidenceBundles;
import net.certmail.crypto.TrustStore;
import net.certmail.persistence.MailboxIndex;
import net.certmail.proto.v1.SignedEvidence;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.ContentDisposition;
import org.apache.pekko.http.javadsl.model.headers.ContentDispositionTypes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * A sender's mails: /v1/mailboxes/{mailbox}/outbox (submit, list), .../{submissionId} (status) and
 * .../bundle.
 */
final class OutboxResource extends AllDirectives {
  /** At most this many submissions in one listing; the answer says when there are more. */
  static final int OUTBOX_LIST_LIMIT = 200;

  private final CertmailEngine engine;
  private final RequestValidation validation;
  private final TrustStore trustStore;
  private final MailboxIndex mailboxIndex;

  OutboxResource(CertmailEngine engine, RequestValidation validation, TrustStore trustStore, MailboxIndex mailboxIndex) {
    this.engine = engine;
    this.validation = validation;
    this.trustStore = trustStore;
    this.mailboxIndex = mailboxIndex;
  }

  /** The routes under .../outbox, for a mailbox the guards let through. */
  Route routes(String mailbox) {
    return concat(
        pathEnd(() -> concat(
            post(() -> optionalHeaderValueByName(HttpApi.IDEMPOTENCY_KEY, key ->
                entity(Unmarshaller.entityToString(), body -> answer(submit(mailbox, key, body))))),
            get(() -> answer(list(mailbox))))),
        pathPrefix(segment(), segment -> {
          String submissionId = RequestValidation.submissionId(segment);
          return concat(
              pathEnd(() -> get(() -> parameterOptional("waitWhile", waitWhile ->
                  parameterOptional("waitSeconds", waitSeconds ->
                      answer(status(mailbox, submissionId, RequestValidation.statusWait(waitWhile, waitSeconds))))))),
              path("bundle", () -> get(() -> answer(bundle(mailbox, submissionId)))));
        }));
  }

  /** The mailbox's submissions with their status, read from the mailbox index (every outbox entry writes its id there before it persists). */
  private CompletionStage<HttpResponse> list(String mailbox) {
    return mailboxIndex.submissionsOf(mailbox, OUTBOX_LIST_LIMIT + 1).thenCompose(ids -> {
      List<CompletableFuture<Json.Status>> entries = ids.subList(0, Math.min(ids.size(), OUTBOX_LIST_LIMIT)).stream()
          .map(id -> engine.status(mailbox, id).thenApply(Json::status).toCompletableFuture())
          .toList();
      return CompletableFuture.allOf(entries.toArray(CompletableFuture[]::new)).thenApply(done ->
          Json.response(StatusCodes.OK, new Json.OutboxList(mailbox,
              entries.stream().map(CompletableFuture::join).toList(), ids.size() > OUTBOX_LIST_LIMIT)));
    });
  }

  private CompletionStage<HttpResponse> submit(String mailbox, Optional<String> keyHeader, String body) {
    RequestValidation.Submission submission = validation.submission(keyHeader, body);
    return engine.submit(mailbox, submission.submissionId(), submission.recipient(), submission.item(),
        submission.deadlineMillis(), submission.flavour()).thenApply(status -> {
          if (status.problem() != null) {
            return Json.error(StatusCodes.CONFLICT, "SUBMISSION_CONFLICT", status.problem()
                + ": use a new idempotency key for a new mail; to resend the same mail, send the same recipient,"
                + " content, flavour and absolute deadline (leadSeconds gives a new deadline on every resend)");
          }
          return Json.response(StatusCodes.ACCEPTED, Json.status(status))
              .addHeader(Location.create("/v1/mailboxes/" + mailbox + "/outbox/" + submission.submissionId()));
        });
  }

  /** The status now, or with a wait: once it is no longer the given one, or when the wait is over (then as it is). */
  private CompletionStage<HttpResponse> status(String mailbox, String submissionId,
                                               Optional<RequestValidation.StatusWait> wait) {
    CompletionStage<MailStatus> status = wait.isEmpty() ? engine.status(mailbox, submissionId)
        : engine.statusChange(mailbox, submissionId, wait.get().unchanged(), wait.get().longest());
    return status.thenApply(found -> unknownSubmission(found)
        .orElseGet(() -> Json.response(StatusCodes.OK, Json.status(found))));
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
          .addHeader(ContentDisposition.create(ContentDispositionTypes.ATTACHMENT, Map.of("filename", file)));
    }));
  }

  private static Optional<HttpResponse> unknownSubmission(MailStatus status) {
    if (status.isUnknown()) {
      return Optional.of(Json.error(StatusCodes.NOT_FOUND, "UNKNOWN_SUBMISSION", "no submission "
          + status.submissionId() + " from " + status.sender() + ": check the id the submission answered with"));
    }
    return Optional.empty();
  }
}
