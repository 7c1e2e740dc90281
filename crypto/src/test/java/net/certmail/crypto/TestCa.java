package net.certmail.crypto;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A small network for tests: a CA and Ed25519 keys for the sample principals, at a fixed time. */
final class TestCa {
  static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  final NetworkCa ca;
  final Map<String, PrincipalKeys> keys = new LinkedHashMap<>();
  final TrustStore trustStore;

  TestCa() {
    this(KeyAlgorithm.ED25519);
  }

  TestCa(KeyAlgorithm algorithm) {
    ca = NetworkCa.create("test network CA", algorithm, Duration.ofDays(3650), at(NOW.minus(Duration.ofDays(1000))));
    // Issued a day ago, so that envelopes dated a few minutes back meet a valid certificate.
    NetworkCa issuing = new NetworkCa(ca.certificate(), ca.privateKey(), algorithm, at(NOW.minus(Duration.ofDays(1))));
    for (String principal : List.of("alpha.example", "alice@alpha.example", "relay.example", "beta.example", "bob@beta.example")) {
      String organisation = principal.contains("@") ? principal.substring(principal.indexOf('@') + 1) : principal;
      keys.put(principal, issuing.issue(principal, organisation, algorithm, Duration.ofDays(365)));
    }
    trustStore = new TrustStore(ca.certificate(), keys.values().stream().map(PrincipalKeys::certificate).toList());
  }

  PrincipalKeys keys(String principal) {
    return keys.get(principal);
  }

  /** The same CA, issuing at another time (for expired and not-yet-valid certificates). */
  NetworkCa caAt(Instant instant) {
    return new NetworkCa(ca.certificate(), ca.privateKey(), KeyAlgorithm.ED25519, at(instant));
  }

  static Clock at(Instant instant) {
    return Clock.fixed(instant, ZoneOffset.UTC);
  }
}
