package net.certmail.actors;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import net.certmail.crypto.EnvelopeOpener;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.EvidenceVerifier;
import net.certmail.crypto.PrincipalKeys;
import net.certmail.crypto.TrustStore;
import net.certmail.persistence.inbox.InboxIndex;
import net.certmail.persistence.reminders.ReminderStore;
import net.certmail.protocol.Routing;
import net.certmail.protocol.Signatures;
import net.certmail.protocol.server.ServerRules;
import net.certmail.protocol.SubmissionPolicy;
import net.certmail.protocol.Timings;

/**
 * Everything the entities of one node share: the clock, the rules' settings, the trust store,
 * the signers of the principals this node hosts (and only those), and the transport.
 */
public final class ProtocolServices {
  final Clock clock;
  final Timings timings;
  final SubmissionPolicy submissionPolicy;
  final Routing routing;
  final TrustStore trustStore;
  final EvidenceVerifier verifier;
  final EnvelopeOpener opener;
  final Transport transport;
  final EnvelopeMetrics metrics;
  final MailboxPolicies mailboxPolicies;
  /** Durable reminders of every entity of this node, and their meters. */
  final ReminderStore reminders;
  final ReminderMetrics reminderMetrics;
  /** An entity whose next due instant is further away than this sleeps (passivates) until its reminder. */
  final long stayAwakeMillis;
  /** How long an entity stays in memory after it could sleep (0: it passivates at once). */
  final long lingerMillis;
  /** The labels delivered to each mailbox, written by inbox entries before their notification. */
  final InboxIndex inboxIndex;
  private final Map<String, EvidenceSigner> signers;

  ProtocolServices(Clock clock, Timings timings, SubmissionPolicy submissionPolicy, Routing routing,
                   TrustStore trustStore, EnvelopeOpener opener, Transport transport, EnvelopeMetrics metrics,
                   MailboxPolicies mailboxPolicies, Map<String, PrincipalKeys> hostedKeys,
                   ReminderStore reminders, ReminderMetrics reminderMetrics, Duration stayAwake,
                   Duration linger, InboxIndex inboxIndex) {
    this.clock = clock;
    this.timings = timings;
    this.submissionPolicy = submissionPolicy;
    this.routing = routing;
    this.trustStore = trustStore;
    this.verifier = new EvidenceVerifier(trustStore);
    this.opener = opener;
    this.transport = transport;
    this.metrics = metrics;
    this.mailboxPolicies = mailboxPolicies;
    this.reminders = reminders;
    this.reminderMetrics = reminderMetrics;
    this.stayAwakeMillis = stayAwake.toMillis();
    this.lingerMillis = linger.toMillis();
    this.inboxIndex = inboxIndex;
    this.signers = Map.copyOf(hostedKeys.entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> new EvidenceSigner(e.getValue()))));
  }

  long now() {
    return clock.millis();
  }

  /** The signer of a principal hosted here; an entity only ever runs where its keys are. */
  EvidenceSigner signer(String principal) {
    EvidenceSigner signer = signers.get(principal);
    if (signer == null) {
      throw new IllegalStateException("this node holds no private key of " + principal
          + "; its entities must run only on nodes of organisation " + Routing.organisationOf(principal));
    }
    return signer;
  }

  /** A server's protocol settings: time model, policy, routes, and which principals the network has. */
  ServerRules serverRules() {
    return new ServerRules(timings, submissionPolicy, routing, trustStore::knows);
  }

  /** The protocol core's evidence crypto for a principal hosted here. */
  Signatures signatures(String principal) {
    return new NodeSignatures(() -> signer(principal), verifier);
  }
}
