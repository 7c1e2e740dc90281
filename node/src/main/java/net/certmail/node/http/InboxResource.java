package net.certmail.node.http;

import static net.certmail.node.http.Replies.answer;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import net.certmail.actors.CertmailEngine;
import net.certmail.actors.InboxView;
import net.certmail.persistence.MailboxIndex;
import net.certmail.proto.v1.MailItem;
import net.certmail.protocol.recipient.RecipientView;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * A recipient's mails: /v1/mailboxes/{mailbox}/inbox (the listing) and, per label, the entry,
 * accept, refuse and the released content.
 */
final class InboxResource extends AllDirectives {
  /** At most this many entries in one listing; the answer says when there are more. */
  static final int INBOX_LIST_LIMIT = 200;

  private final CertmailEngine engine;
  private final MailboxIndex mailboxIndex;

  InboxResource(CertmailEngine engine, MailboxIndex mailboxIndex) {
    this.engine = engine;
    this.mailboxIndex = mailboxIndex;
  }

  /** The routes under .../inbox, for a mailbox the guards let through. */
  Route routes(String mailbox) {
    return concat(
        pathEnd(() -> get(() -> parameterOptional("after", after -> parameterOptional("limit", limit ->
            answer(list(mailbox, RequestValidation.inboxCursor(after),
                RequestValidation.pageSize(limit, INBOX_LIST_LIMIT))))))),
        pathPrefix(segment().slash(segment()), (server, id) -> labelRoutes(mailbox, RequestValidation.label(server, id))));
  }

  private Route labelRoutes(String mailbox, String label) {
    return concat(
        pathEnd(() -> get(() -> answer(entry(mailbox, label)))),
        path("accept", () -> post(() -> answer(decide(mailbox, label, engine.accept(mailbox, label))))),
        path("refuse", () -> post(() -> entity(Unmarshaller.entityToString(), body ->
            answer(decide(mailbox, label, engine.refuse(mailbox, label, RequestValidation.refusalReason(body))))))),
        path("content", () -> get(() -> answer(content(mailbox, label)))));
  }

  /**
   * One page of the mailbox's mails, read from the inbox index (one keyed read of the mailbox's
   * own rows) and each entry asked for its view: the cost is the page's, whatever the journal
   * holds. A row whose entry knows nothing (its notification was never persisted) is skipped.
   */
  private CompletionStage<HttpResponse> list(String mailbox, String after, int limit) {
    return mailboxIndex.of(mailbox, after, limit + 1).thenCompose(labels -> {
      List<String> shown = labels.subList(0, Math.min(labels.size(), limit));
      List<CompletableFuture<InboxView>> entries = shown.stream()
          .map(label -> engine.inboxEntry(mailbox, label).toCompletableFuture())
          .toList();
      boolean more = labels.size() > limit;
      String next = more ? shown.get(shown.size() - 1) : null;
      return CompletableFuture.allOf(entries.toArray(CompletableFuture[]::new)).thenApply(done ->
          Json.response(StatusCodes.OK, new Json.InboxList(mailbox, entries.stream().map(CompletableFuture::join)
              .filter(view -> !view.isUnknown()).map(Json::inboxEntry).toList(), more, next)));
    });
  }

  private CompletionStage<HttpResponse> entry(String mailbox, String label) {
    return engine.inboxEntry(mailbox, label).thenApply(view -> unknownLabel(view)
        .orElseGet(() -> Json.response(StatusCodes.OK, Json.inboxEntry(view))));
  }

  /** Accept and refuse answer the entry as it is after the decision; a decision not taken is 409. */
  private static CompletionStage<HttpResponse> decide(String mailbox, String label, CompletionStage<InboxView> decision) {
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
  private static String whyNoContent(RecipientView.Status status) {
    return switch (status) {
      case AWAITING_DECISION -> "accept it first (certmail accept); in NSR and IP it arrives shortly after"
          + " your receipt";
      case ACKNOWLEDGED -> "your receipt is signed and the content is on its way: ask again in a moment";
      case REFUSED -> "you refused this mail, so its content is never released to you";
      case EXPIRED -> "the time to accept it has passed, so its content is never released to you";
      default -> "it is released only after your receipt (COD)";
    };
  }

  private static Optional<HttpResponse> unknownLabel(InboxView view) {
    if (view.isUnknown()) {
      return Optional.of(Json.error(StatusCodes.NOT_FOUND, "UNKNOWN_LABEL", "no mail " + view.label()
          + " for " + view.mailbox() + ": labels look like alpha.example/<32 hex digits>"));
    }
    return Optional.empty();
  }
}
