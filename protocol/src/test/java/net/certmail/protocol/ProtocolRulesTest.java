package net.certmail.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.certmail.crypto.ContentHash;
import net.certmail.crypto.EvidenceStatements;
import net.certmail.crypto.Sha256;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.ReasonCode;
import net.certmail.proto.v1.Submission;
import org.junit.jupiter.api.Test;

/** The protocol's rules as plain functions: no ActorSystem, no real time. */
class ProtocolRulesTest {
  static final Routing ROUTING = new Routing(Set.of("alpha.example", "relay.example", "beta.example", "gamma.example"),
      Map.of("alpha.example", Map.of("beta.example", "relay.example")));
  static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");

  @Test
  void labelsAreStablePerSubmissionAndDistinctAcrossSendersAndKeys() {
    String label = Labels.forSubmission("alpha.example", "alice@alpha.example", "k1");
    assertEquals(label, Labels.forSubmission("alpha.example", "alice@alpha.example", "k1"));
    assertNotEquals(label, Labels.forSubmission("alpha.example", "alice@alpha.example", "k2"));
    assertNotEquals(label, Labels.forSubmission("alpha.example", "anna@alpha.example", "k1"));
    // length prefixes: moving characters between sender and key gives another label
    assertNotEquals(Labels.forSubmission("alpha.example", "ab", "c"), Labels.forSubmission("alpha.example", "a", "bc"));
    assertEquals("alpha.example", Labels.originOf(label));
  }

  @Test
  void routesFollowTheTablesAndFallBackToDirectDelivery() {
    assertEquals(Optional.of(List.of("alpha.example")), ROUTING.route("alpha.example", "anna@alpha.example"));
    assertEquals(Optional.of(List.of("alpha.example", "gamma.example")), ROUTING.route("alpha.example", "gina@gamma.example"));
    assertEquals(Optional.of(List.of("alpha.example", "relay.example", "beta.example")),
        ROUTING.route("alpha.example", "bob@beta.example"));
    assertEquals(Optional.empty(), ROUTING.route("alpha.example", "x@nowhere.example"));
  }

  @Test
  void routingLoopsAreNoRoute() {
    Routing looping = new Routing(Set.of("a.example", "b.example", "c.example"),
        Map.of("a.example", Map.of("c.example", "b.example"), "b.example", Map.of("c.example", "a.example")));
    assertEquals(Optional.empty(), looping.route("a.example", "x@c.example"));
  }

  static final SubmissionPolicy POLICY = new SubmissionPolicy(Duration.ofMinutes(1), Duration.ofDays(30), 1024);

  static Submission.Builder submission() {
    return Submission.newBuilder().setSubmissionId("k1").setSender("alice@alpha.example")
        .setRecipient("bob@beta.example").setContent(ByteString.copyFromUtf8("hello")).setFlavour(Flavour.CEM)
        .setDeadlineMillis(NOW.plus(Duration.ofHours(1)).toEpochMilli());
  }

  @Test
  void submissionPolicyAcceptsAWellFormedMail() {
    assertEquals(Optional.empty(), POLICY.check(submission().build(), "alice@alpha.example", NOW, ROUTING));
  }

  @Test
  void submissionPolicyNamesEachReason() {
    assertEquals(ReasonCode.DEADLINE_NOT_ACCEPTABLE, reason(submission()
        .setDeadlineMillis(NOW.plusSeconds(10).toEpochMilli())));
    assertEquals(ReasonCode.DEADLINE_NOT_ACCEPTABLE, reason(submission()
        .setDeadlineMillis(NOW.plus(Duration.ofDays(31)).toEpochMilli())));
    assertEquals(ReasonCode.UNKNOWN_DOMAIN, reason(submission().setRecipient("x@nowhere.example")));
    assertEquals(ReasonCode.UNKNOWN_RECIPIENT, reason(submission().setRecipient("beta.example")));
    assertEquals(ReasonCode.MESSAGE_TOO_LARGE, reason(submission().setContent(ByteString.copyFrom(new byte[2048]))));
    assertEquals(ReasonCode.POLICY_VIOLATION, reason(submission().setFlavour(Flavour.FLAVOUR_UNSPECIFIED)));
    assertEquals(ReasonCode.POLICY_VIOLATION, POLICY.check(submission().build(), "mallory@alpha.example", NOW, ROUTING)
        .orElseThrow().reason());
  }

  private static ReasonCode reason(Submission.Builder submission) {
    return POLICY.check(submission.build(), "alice@alpha.example", NOW, ROUTING).orElseThrow().reason();
  }

  static final Timings TIMINGS = new Timings(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMillis(500),
      Duration.ofSeconds(30), Duration.ofMinutes(2), Duration.ofMinutes(10), Duration.ofMinutes(2), Duration.ofSeconds(10),
      Duration.ofMinutes(2), Duration.ofMinutes(1));

  @Test
  void cutOffsAreStaggeredSoOneVerdictComesBeforeTheDeadline() {
    long deadline = NOW.plus(Duration.ofHours(1)).toEpochMilli();
    long accepted = NOW.toEpochMilli();
    assertTrue(TIMINGS.codCutoff(deadline) < TIMINGS.verdictCutoff(deadline), "Pn stops before P1 decides");
    assertTrue(TIMINGS.verdictCutoff(deadline) < deadline, "P1 decides before T");
    assertTrue(TIMINGS.lostAfter(deadline) > deadline, "A claims only after T");
    assertEquals(accepted + Duration.ofMinutes(2).toMillis(), TIMINGS.relayGiveUp(accepted, deadline));
    long closeDeadline = accepted + Duration.ofMinutes(1).toMillis();
    assertEquals(TIMINGS.codCutoff(closeDeadline), TIMINGS.deliveryGiveUp(accepted, closeDeadline),
        "no delivery attempt outlives the COD cut-off");
    assertTrue(TIMINGS.check().isEmpty(), () -> "the defaults are consistent: " + TIMINGS.check());
  }

  @Test
  void backoffDoublesUpToItsCap() {
    assertEquals(500, TIMINGS.backoffMillis(0));
    assertEquals(1000, TIMINGS.backoffMillis(1));
    assertEquals(4000, TIMINGS.backoffMillis(3));
    assertEquals(30_000, TIMINGS.backoffMillis(10));
    assertEquals(30_000, TIMINGS.backoffMillis(60));
  }

  static final byte[] CONTENT = "the mail".getBytes();
  static final String LABEL = "alpha.example/00ff";
  static final long T = 10_000;

  static MailFacts mail(Flavour flavour) {
    return new MailFacts(LABEL, "alice@alpha.example", "bob@beta.example", "alpha.example",
        List.of("alpha.example", "relay.example", "beta.example"), flavour, T, ContentHash.of(CONTENT), "k1");
  }

  static EvidenceStatement cod(Flavour flavour, byte[] hash) {
    return EvidenceStatements.cod("bob@beta.example", "beta.example", LABEL, "alice@alpha.example", flavour, hash, 1);
  }

  @Test
  void codMustCarryTheHashOfItsFlavour() {
    assertEquals(Optional.empty(), Entitlements.cod(cod(Flavour.CEM, ContentHash.of(CONTENT)), mail(Flavour.CEM), CONTENT));
    assertEquals(Optional.empty(), Entitlements.cod(cod(Flavour.NSR, new byte[0]), mail(Flavour.NSR), CONTENT));
    EvidenceStatement ip = cod(Flavour.IP, ContentHash.labelled(LABEL, CONTENT));
    assertEquals(Optional.empty(), Entitlements.cod(ip, mail(Flavour.IP), CONTENT));
    // IP's COD over H(M) instead of H(L,M), or a CEM COD presented for an IP mail, is refused
    EvidenceStatement ipOverPlainHash = ip.toBuilder().setContentHash(ByteString.copyFrom(ContentHash.of(CONTENT))).build();
    assertEquals(Optional.of("COD over another content hash"), Entitlements.cod(ipOverPlainHash, mail(Flavour.IP), CONTENT));
    assertEquals(Optional.of("COD of another flavour"),
        Entitlements.cod(cod(Flavour.CEM, ContentHash.of(CONTENT)), mail(Flavour.IP), CONTENT));
    EvidenceStatement forRelay = cod(Flavour.CEM, ContentHash.of(CONTENT)).toBuilder().setCounterparty("relay.example")
        .build();
    assertEquals(Optional.of("COD names another delivering server"), Entitlements.cod(forRelay, mail(Flavour.CEM), CONTENT));
    EvidenceStatement byCarol = cod(Flavour.CEM, ContentHash.of(CONTENT)).toBuilder().setIssuer("carol@beta.example")
        .build();
    assertEquals(Optional.of("COD signed by carol@beta.example, not the recipient"),
        Entitlements.cod(byCarol, mail(Flavour.CEM), CONTENT));
  }

  @Test
  void deliveryReportMustBeBoundToItsCod() {
    EvidenceStatement cod = cod(Flavour.CEM, ContentHash.of(CONTENT));
    byte[] codBytes = cod.toByteArray();
    EvidenceStatement rodN = EvidenceStatements.rodN("beta.example", LABEL, "alice@alpha.example", "bob@beta.example",
        codBytes, 2);
    assertEquals(Optional.empty(), Entitlements.check(rodN, mail(Flavour.CEM)));
    assertEquals(Optional.empty(), Entitlements.boundToCod(rodN, codBytes));
    EvidenceStatement otherCod = cod.toBuilder().setIssuedAtMillis(3).build();
    assertEquals(Optional.of("ROD_N is not bound to this COD"), Entitlements.boundToCod(rodN, otherCod.toByteArray()));
    EvidenceStatement rodNFromRelay = rodN.toBuilder().setIssuer("relay.example").build();
    assertEquals(Optional.of("ROD_n from relay.example, not beta.example"),
        Entitlements.check(rodNFromRelay, mail(Flavour.CEM)));
    assertEquals(32, Sha256.hash(codBytes).length);
  }

  @Test
  void ackMustComeFromTheNextHopForThisHop() {
    EvidenceStatement ack = EvidenceStatements.relayAck("relay.example", "alpha.example", LABEL, "alice@alpha.example",
        "bob@beta.example", 1);
    assertEquals(Optional.empty(), Entitlements.hop(ack, mail(Flavour.CEM)));
    EvidenceStatement fromGamma = ack.toBuilder().setIssuer("gamma.example").build();
    assertTrue(Entitlements.hop(fromGamma, mail(Flavour.CEM)).orElseThrow().contains("not a later hop"));
    EvidenceStatement skippingAHop = ack.toBuilder().setIssuer("beta.example").build();
    assertEquals(Optional.of("RELAY_ACK names alpha.example, not the previous hop"),
        Entitlements.hop(skippingAHop, mail(Flavour.CEM)));
  }

  @Test
  void nonDeliveryNoticeMustComeFromTheRouteWithAReasonThatFitsItsPlaceBeforeT() {
    EvidenceStatement pn = EvidenceStatements.ndn("beta.example", LABEL, "alice@alpha.example", "bob@beta.example",
        net.certmail.proto.v1.EtsiEvent.CONTENT_CONSIGNMENT_FAILURE, ReasonCode.RECIPIENT_REFUSED, "", 5);
    assertEquals(Optional.empty(), Entitlements.ndn(pn, mail(Flavour.CEM)));
    EvidenceStatement fromErin = pn.toBuilder().setIssuer("erin@alpha.example").build();
    assertTrue(Entitlements.ndn(fromErin, mail(Flavour.CEM)).orElseThrow().contains("not on the route"));
    EvidenceStatement relaySaysRefused = pn.toBuilder().setIssuer("relay.example").build();
    assertTrue(Entitlements.ndn(relaySaysRefused, mail(Flavour.CEM)).orElseThrow().contains("does not fit"));
    EvidenceStatement afterT = pn.toBuilder().setIssuedAtMillis(T).build();
    assertEquals(Optional.of("NDN issued at or after T"), Entitlements.ndn(afterT, mail(Flavour.CEM)));
  }

  @Test
  void copMustComeFromTheSendersHomeServerForTheDerivedLabel() {
    String label = Labels.forSubmission("alpha.example", "alice@alpha.example", "k1");
    EvidenceStatement cop = EvidenceStatements.cop("alpha.example", label, "alice@alpha.example", "bob@beta.example",
        ContentHash.of(CONTENT), T, Flavour.CEM, "k1", List.of("alpha.example", "relay.example", "beta.example"), 1);
    assertEquals(Optional.empty(), Entitlements.cop(cop));
    assertTrue(Entitlements.cop(cop.toBuilder().setIssuer("relay.example").build()).orElseThrow()
        .contains("for a label of alpha.example"));
    assertEquals(Optional.of("COP label is not the one derived from sender and submission id"),
        Entitlements.cop(cop.toBuilder().setSubmissionId("k2").build()));
    assertEquals(Optional.of("COP route does not lead from the origin to the recipient's server without loops"),
        Entitlements.cop(cop.toBuilder().clearRoute().addRoute("alpha.example").build()),
        "a route that does not reach the recipient's server");
    assertEquals(Optional.of("COP route does not lead from the origin to the recipient's server without loops"),
        Entitlements.cop(cop.toBuilder().clearRoute().addAllRoute(List.of("alpha.example", "relay.example",
            "alpha.example", "beta.example")).build()),
        "a route through the origin twice");
  }
}
