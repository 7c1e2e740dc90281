package net.certmail.node.http;

import static net.certmail.node.http.Replies.answer;

import net.certmail.actors.CertmailEngine;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The public directory, /v1/directory/{labelServer}/{labelId}: what an origin server published
 * about a label (COP, then ROD, COD or NDN), for anyone holding the label.
 */
final class DirectoryResource {
  private final CertmailEngine engine;

  DirectoryResource(CertmailEngine engine) {
    this.engine = engine;
  }

  /** The answer for one label, for a request the guards let through. */
  Route label(String server, String label) {
    return answer(engine.publicEvidence(server, label).thenApply(entry -> entry.published()
        ? Json.response(StatusCodes.OK, new Json.Directory(server, label, Json.evidence(entry.evidence())))
        : Json.error(StatusCodes.NOT_FOUND, "UNKNOWN_LABEL", server + " issued no label " + label
            + ": check the label (the sender's status shows it) and the server part before the slash")));
  }
}
