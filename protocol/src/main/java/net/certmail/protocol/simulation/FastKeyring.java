package net.certmail.protocol.simulation;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import net.certmail.crypto.EvidenceSigner;
import net.certmail.crypto.Sha256;
import net.certmail.proto.v1.EvidenceKind;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.SignatureAlgorithm;
import net.certmail.proto.v1.SignedEvidence;
import net.certmail.protocol.Signatures;

/**
 * A deterministic stand-in for Ed25519 with the same contract: HMAC-SHA256 under a per-principal
 * key over the same bytes an Ed25519 signature covers (the kind's domain prefix and the
 * statement's exact bytes). Signing as another principal is refused, as EvidenceSigner refuses it;
 * verification checks kind, signer = issuer, a known signer and its key id, and the MAC. About
 * 50x cheaper than BC Ed25519 verification, so a schedule costs microseconds of crypto.
 *
 * <p>Not thread-safe (one Mac per principal): a simulation runs on one thread.
 */
public final class FastKeyring implements Keyring {
  private final Map<String, byte[]> keys = new HashMap<>();
  private final Map<String, String> keyIds = new HashMap<>();
  private final Map<String, Mac> macs = new HashMap<>();
  private final Map<String, Signatures> signatures = new HashMap<>();
  private final Signatures verifier = new Verifier();
  private static final int CACHE_LIMIT = 100_000;
  private final Map<SignedEvidence, Object> verified = new HashMap<>();

  public FastKeyring(Collection<String> principals) {
    for (String principal : principals) {
      byte[] key = Sha256.hash("certmail/simulation/key\0".getBytes(StandardCharsets.US_ASCII),
          principal.getBytes(StandardCharsets.UTF_8));
      keys.put(principal, key);
      keyIds.put(principal, "sim:" + Sha256.hex(Sha256.hash(key)).substring(0, 16));
      try {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        macs.put(principal, mac);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("this JDK has no HmacSHA256", e);
      }
      signatures.put(principal, new Signer(principal));
    }
  }

  @Override
  public Signatures of(String principal) {
    Signatures signer = signatures.get(principal);
    if (signer == null) {
      throw new IllegalArgumentException("no key for " + principal);
    }
    return signer;
  }

  @Override
  public Signatures verifier() {
    return verifier;
  }

  private byte[] mac(String principal, EvidenceStatement statement, byte[] statementBytes) {
    return macs.get(principal).doFinal(EvidenceSigner.signedBytes(statement, statementBytes));
  }

  /**
   * Verification is a pure function of the item, so its outcome is remembered (an item is checked
   * by every party it reaches, and again by the invariants): the statement, or why it fails.
   */
  private EvidenceStatement verify(SignedEvidence item, EvidenceKind kind) throws Signatures.InvalidEvidence {
    Object outcome = verified.get(item);
    if (outcome == null) {
      try {
        outcome = verifyOnce(item);
      } catch (Signatures.InvalidEvidence e) {
        outcome = e.getMessage();
      }
      if (verified.size() >= CACHE_LIMIT) {
        verified.clear();
      }
      verified.put(item, outcome);
    }
    if (outcome instanceof String failure) {
      throw new Signatures.InvalidEvidence(failure);
    }
    EvidenceStatement statement = (EvidenceStatement) outcome;
    if (statement.getKind() != kind) {
      throw new Signatures.InvalidEvidence("expected " + kind + ", got " + statement.getKind());
    }
    return statement;
  }

  private EvidenceStatement verifyOnce(SignedEvidence item) throws Signatures.InvalidEvidence {
    EvidenceStatement statement;
    byte[] statementBytes = item.getStatement().toByteArray();
    try {
      statement = EvidenceStatement.parseFrom(statementBytes);
    } catch (InvalidProtocolBufferException e) {
      throw new Signatures.InvalidEvidence("statement does not parse");
    }
    if (statement.getKind() == EvidenceKind.EVIDENCE_KIND_UNSPECIFIED || statement.getKind() == EvidenceKind.UNRECOGNIZED) {
      throw new Signatures.InvalidEvidence("statement has no known kind");
    }
    if (!statement.getIssuer().equals(item.getSigner())) {
      throw new Signatures.InvalidEvidence("issued by " + statement.getIssuer() + " but signed as " + item.getSigner());
    }
    if (!keys.containsKey(item.getSigner())) {
      throw new Signatures.InvalidEvidence("no certificate for " + item.getSigner());
    }
    if (!keyIds.get(item.getSigner()).equals(item.getKeyId())) {
      throw new Signatures.InvalidEvidence("key id " + item.getKeyId() + " is not a key of " + item.getSigner());
    }
    if (!MessageDigest.isEqual(mac(item.getSigner(), statement, statementBytes), item.getSignature().toByteArray())) {
      throw new Signatures.InvalidEvidence(statement.getKind() + " for label " + statement.getLabel() + " signed as "
          + item.getSigner());
    }
    return statement;
  }

  private final class Signer implements Signatures {
    private final String principal;

    Signer(String principal) {
      this.principal = principal;
    }

    @Override
    public SignedEvidence sign(EvidenceStatement statement) {
      if (!statement.getIssuer().equals(principal)) {
        throw new IllegalArgumentException(principal + " cannot sign a statement issued by " + statement.getIssuer());
      }
      byte[] statementBytes = statement.toByteArray();
      return SignedEvidence.newBuilder()
          .setStatement(ByteString.copyFrom(statementBytes))
          .setSigner(principal)
          .setKeyId(keyIds.get(principal))
          .setAlgorithm(SignatureAlgorithm.SIGNATURE_ALGORITHM_UNSPECIFIED)
          .setSignature(ByteString.copyFrom(mac(principal, statement, statementBytes)))
          .build();
    }

    @Override
    public EvidenceStatement verify(SignedEvidence item, EvidenceKind kind) throws InvalidEvidence {
      return FastKeyring.this.verify(item, kind);
    }
  }

  private final class Verifier implements Signatures {
    @Override
    public SignedEvidence sign(EvidenceStatement statement) {
      throw new UnsupportedOperationException("the invariants' verifier signs nothing");
    }

    @Override
    public EvidenceStatement verify(SignedEvidence item, EvidenceKind kind) throws InvalidEvidence {
      return FastKeyring.this.verify(item, kind);
    }
  }
}
