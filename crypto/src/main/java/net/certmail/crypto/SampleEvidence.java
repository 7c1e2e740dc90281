package net.certmail.crypto;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import net.certmail.proto.v1.EvidenceBundle;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.Flavour;
import net.certmail.proto.v1.SignedEvidence;

/**
 * A realistic evidence chain for one CEM mail from alice@alpha.example to bob@beta.example via
 * relay.example (COP, ACK, COD, ROD_n, ROD), signed with real keys. It is a sample for trying
 * {@code certmail verify} and OpenSSL, not protocol output: no mail was sent.
 */
public final class SampleEvidence {
  public static final String SENDER = "alice@alpha.example";
  public static final String ORIGIN = "alpha.example";
  public static final String RELAY = "relay.example";
  public static final String DESTINATION = "beta.example";
  public static final String RECIPIENT = "bob@beta.example";
  public static final List<String> SIGNERS = List.of(ORIGIN, RELAY, RECIPIENT, DESTINATION);

  private SampleEvidence() {}

  public static EvidenceBundle bundle(Map<String, PrincipalKeys> keys, TrustStore trustStore, Clock clock) {
    for (String signer : SIGNERS) {
      if (!keys.containsKey(signer)) {
        throw new IllegalArgumentException("the sample needs the private key of " + signer
            + "; point --keys at the output directory of keys init for the sample network (networks/local-network.conf)");
      }
    }
    long now = clock.millis();
    String label = ORIGIN + "/" + Ulid.next(clock);
    byte[] content = "Subject: lunch\r\n\r\nThursday, noon, usual place?\r\n".getBytes(StandardCharsets.UTF_8);
    byte[] contentHash = ContentHash.of(content);
    long deadline = now + Duration.ofDays(2).toMillis();

    EvidenceStatement cop = EvidenceStatements.cop(ORIGIN, label, SENDER, RECIPIENT, contentHash, deadline, Flavour.CEM,
        "sample-" + now, List.of(ORIGIN, RELAY, DESTINATION), now);
    EvidenceStatement ack = EvidenceStatements.relayAck(RELAY, ORIGIN, label, SENDER, RECIPIENT, now + 120);
    EvidenceStatement cod = EvidenceStatements.cod(RECIPIENT, DESTINATION, label, SENDER, Flavour.CEM, contentHash, now + 900);
    SignedEvidence signedCod = sign(keys, cod);
    byte[] codBytes = signedCod.getStatement().toByteArray();
    EvidenceStatement rodN = EvidenceStatements.rodN(DESTINATION, label, SENDER, RECIPIENT, codBytes, now + 950);
    EvidenceStatement rod = EvidenceStatements.rod(ORIGIN, DESTINATION, label, SENDER, RECIPIENT, codBytes, now + 1100);

    List<SignedEvidence> items = List.of(sign(keys, cop), sign(keys, ack), signedCod, sign(keys, rodN), sign(keys, rod));
    return EvidenceBundles.of(label, items, trustStore);
  }

  private static SignedEvidence sign(Map<String, PrincipalKeys> keys, EvidenceStatement statement) {
    return new EvidenceSigner(keys.get(statement.getIssuer())).sign(statement);
  }
}
