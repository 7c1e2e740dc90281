package net.certmail.crypto;

import java.security.cert.X509Certificate;
import net.certmail.proto.v1.EvidenceStatement;
import net.certmail.proto.v1.SignedEvidence;

/** An evidence item whose signature and signer certificate were checked, with its parsed statement. */
public record VerifiedEvidence(SignedEvidence signed, EvidenceStatement statement, X509Certificate signerCertificate) {}
