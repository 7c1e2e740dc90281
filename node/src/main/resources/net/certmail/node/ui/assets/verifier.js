// certmail verify, in the browser: the same checks in the same order as crypto's BundleVerifier,
// EvidenceVerifier and TrustStore, with WebCrypto (Ed25519, ECDSA P-256) for every signature and
// certificate. Nothing leaves the page: the bundle is read from a local file and checked here.

import { enumName, parse, ProtoError } from './protobuf.js';
import { CertificateError, certificateFromFile, OID, parseCertificate, principalOf, rfc2253,
  unknownCriticalExtension } from './x509.js';

export const MAGIC = 'CMBNDL01';
export const VERSION = 1;

/** VerificationFailure's explanations, word for word. */
export const FAILURES = {
  UNKNOWN_SIGNER: "the signer has no certificate in this trust store; import the signer's certificate",
  CERTIFICATE_EXPIRED: "the signer's certificate had expired at the time of signing",
  CERTIFICATE_NOT_YET_VALID: "the signer's certificate was not yet valid at the time of signing",
  FOREIGN_CA: "the signer's certificate was not issued by this network's CA",
  WRONG_KEY: 'the key id or algorithm does not belong to the named signer',
  BAD_SIGNATURE: 'the signature does not match the signed bytes: they were altered or signed by another key',
  WRONG_KIND: 'the evidence is of another kind than expected',
  MALFORMED: 'the input is not a well-formed certmail object',
};

/** EvidenceStatements.etsiEventsOf. */
const ETSI_EVENTS = {
  COP: ['SUBMISSION_ACCEPTANCE'], SUBMISSION_REJECTION: ['SUBMISSION_REJECTION_EVENT'],
  RELAY_ACK: ['RELAY_ACCEPTANCE'], RELAY_REJECTION: ['RELAY_REJECTION_EVENT'], COD: ['CONSIGNMENT_ACCEPTANCE'],
  RECIPIENT_REFUSAL: ['CONSIGNMENT_REJECTION'], CONTENT_HANDOVER: ['CONTENT_HANDOVER_EVENT'],
  ROD_N: ['CONTENT_CONSIGNMENT'], ROD: ['CONTENT_CONSIGNMENT'],
  NDN: ['CONTENT_CONSIGNMENT_FAILURE', 'ACCEPTANCE_REJECTION_EXPIRY', 'RELAY_FAILURE'],
  COMPENSATION_CLAIM: ['CERTMAIL_COMPENSATION_CLAIM'],
};

/** A file that is not a bundle (certmail verify's exit code 2). */
export class NotABundleError extends Error {}

class VerificationError extends Error {
  constructor(failure, detail) {
    super(failure + ': ' + detail);
    this.failure = failure;
    this.detail = detail;
  }
}

const ASCII = new TextEncoder();

export function requireSecureContext() {
  if (!globalThis.crypto || !crypto.subtle) {
    throw new Error('this browser gives the page no WebCrypto: open it over https, or from the node\'s own machine'
      + ' as http://127.0.0.1:<port> (browsers allow WebCrypto only in secure contexts), or use certmail verify');
  }
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

function hex(bytes) {
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
}

function equalBytes(a, b) {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** Java's Instant.toString for epoch milliseconds: seconds precision unless there are milliseconds. */
export function instant(millis) {
  const value = typeof millis === 'bigint' ? Number(millis) : millis;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    return String(millis) + ' ms';
  }
  let text = date.toISOString();
  if (date.getUTCFullYear() > 9999) {
    text = '+' + text.replace(/^\+0*/, '');
  }
  return text.replace('.000Z', 'Z');
}

/** ASN.1 DER ECDSA signature (what Java signs) to the r||s form WebCrypto verifies; null when malformed. */
function ecdsaRaw(der) {
  try {
    if (der[0] !== 0x30 || der[1] !== der.length - 2 || der[1] > 0x7f) {
      return null;
    }
    let pos = 2;
    const parts = [];
    for (let i = 0; i < 2; i++) {
      if (der[pos] !== 0x02) {
        return null;
      }
      const length = der[pos + 1];
      let value = der.subarray(pos + 2, pos + 2 + length);
      if (value.length !== length || length === 0 || value[0] & 0x80
          || (length > 1 && value[0] === 0 && !(value[1] & 0x80))) {
        return null;
      }
      while (value.length > 32 && value[0] === 0) {
        value = value.subarray(1);
      }
      if (value.length > 32) {
        return null;
      }
      const padded = new Uint8Array(32);
      padded.set(value, 32 - value.length);
      parts.push(padded);
      pos += 2 + length;
    }
    if (pos !== der.length) {
      return null;
    }
    const raw = new Uint8Array(64);
    raw.set(parts[0]);
    raw.set(parts[1], 32);
    return raw;
  } catch (e) {
    return null;
  }
}

/** Verifies a signature with a certificate's key; false for any mismatch or malformed input, as Signatures.verify. */
async function verifySignature(algorithm, certificate, data, signature) {
  try {
    if (algorithm === 'ED25519' && certificate.keyAlgorithm === OID.ED25519) {
      const key = await crypto.subtle.importKey('spki', certificate.spki, { name: 'Ed25519' }, false, ['verify']);
      return await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, data);
    }
    if (algorithm === 'ECDSA_P256_SHA256' && certificate.keyAlgorithm === OID.EC_PUBLIC_KEY
        && certificate.keyCurve === OID.P256) {
      const raw = ecdsaRaw(signature);
      if (!raw) {
        return false;
      }
      const key = await crypto.subtle.importKey('spki', certificate.spki, { name: 'ECDSA', namedCurve: 'P-256' },
        false, ['verify']);
      return await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, data);
    }
    return false;
  } catch (e) {
    return false;
  }
}

/** A certificate's signature by an issuer's key (the algorithm named in the certificate). */
function certificateSignedBy(certificate, issuer) {
  if (certificate.algorithmMismatch) {
    return Promise.resolve(false);
  }
  const algorithm = certificate.signatureAlgorithm === OID.ED25519 ? 'ED25519'
    : certificate.signatureAlgorithm === OID.ECDSA_SHA256 ? 'ECDSA_P256_SHA256' : '';
  return verifySignature(algorithm, issuer, certificate.tbs, certificate.signature);
}

/** The network CA certificate from a PEM or DER file; throws with the reason when it cannot be used. */
export function readCa(bytes) {
  const certificate = parseCertificate(certificateFromFile(bytes));
  if (certificate.basicConstraints < 0) {
    throw new CertificateError('it is the certificate of ' + rfc2253(certificate.subject) + ', not of a CA');
  }
  return certificate;
}

/** The bundle file's EvidenceBundle, or NotABundleError with EvidenceBundles.parse's message. */
export function readBundle(bytes, source) {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 32)));
  if (bytes.length < MAGIC.length || !head.startsWith(MAGIC)) {
    throw new NotABundleError(source + ' is not a certmail evidence bundle: it does not start with "CMBNDL01"'
      + describe(bytes, head) + '. Give the file written by certmail\'s evidence export (or evidence sample).');
  }
  let bundle;
  try {
    bundle = parse('EvidenceBundle', bytes.subarray(MAGIC.length));
  } catch (e) {
    if (!(e instanceof ProtoError)) {
      throw e;
    }
    throw new NotABundleError(source + ' starts like a certmail evidence bundle but its content is damaged or'
      + ' truncated (' + e.message + '); export it again from the node that holds the evidence');
  }
  if (bundle.version !== VERSION) {
    throw new NotABundleError(source + ' is a certmail bundle of version ' + bundle.version
      + ', which this certmail does not know (it reads version ' + VERSION + '); use a newer certmail');
  }
  return bundle;
}

function describe(bytes, head) {
  if (bytes.length === 0) {
    return ' (the file is empty)';
  }
  if (head.startsWith('-----BEGIN')) {
    return ' (it is a PEM file: ' + head.split(/\r?\n/)[0] + ')';
  }
  if (head.startsWith('{') || head.startsWith('[')) {
    return ' (it looks like JSON)';
  }
  return bytes.length < MAGIC.length ? ' (the file has only ' + bytes.length + ' bytes)' : '';
}

/**
 * BundleVerifier.verify: a report with the label, the CA used, each item (kind, ETSI event, signer,
 * what it proves, failure and detail) and the bundle's own problems.
 *
 * @param trustedCa a certificate from readCa, or null to check the bundle against its own CA only
 */
export async function verifyBundle(bundle, trustedCa) {
  requireSecureContext();
  const problems = [];
  if (bundle.unknownFields > 0 || bundle.items.some(item => item.unknownFields > 0)) {
    problems.push('the bundle holds fields this certmail does not know: it was altered or made by a newer version');
  }
  // The first certificate is the bundle's CA by position: one that does not parse leaves the
  // bundle without a CA rather than promoting the next certificate (a signer's) to CA.
  let bundleCa = null;
  const signerCertificates = [];
  bundle.certificates.forEach((der, i) => {
    try {
      const certificate = parseCertificate(der);
      if (i === 0) {
        bundleCa = certificate;
      } else {
        signerCertificates.push(certificate);
      }
    } catch (e) {
      problems.push('certificate ' + (i + 1) + ' of the bundle does not parse (' + e.message + ')');
    }
  });
  const ca = trustedCa || bundleCa;
  if (!ca) {
    problems.push(bundle.certificates.length === 0
      ? 'the bundle carries no CA certificate; pass the network CA with --ca'
      : 'the bundle\'s CA certificate (its first) does not parse; pass the network CA with --ca');
    return report(bundle.label, '', '', Boolean(trustedCa), [], problems);
  }
  if (ca.basicConstraints < 0) {
    problems.push('the CA certificate ' + rfc2253(ca.subject) + ' is not a CA certificate');
  }
  if (!await certificateSignedBy(ca, ca)) {
    problems.push('the CA certificate\'s self-signature does not verify: the certificate was altered');
  }
  if (trustedCa && bundleCa && !equalBytes(bundleCa.der, trustedCa.der)) {
    problems.push('the bundle names another CA (' + rfc2253(bundleCa.subject)
      + ') than the one given; its items are checked against the given CA');
  }
  const trustStore = new TrustStore(ca);
  for (const certificate of signerCertificates) {
    await trustStore.add(certificate);
  }
  if (bundle.items.length === 0) {
    problems.push('the bundle holds no evidence items');
  }
  const items = [];
  for (let i = 0; i < bundle.items.length; i++) {
    items.push(await verifyItem(i + 1, bundle.items[i], bundle.label, trustStore));
  }
  return report(bundle.label, rfc2253(ca.subject), fingerprint(await sha256(ca.der)), Boolean(trustedCa), items,
    problems);
}

function report(label, caSubject, caFingerprint, caTrusted, items, bundleProblems) {
  const allValid = bundleProblems.length === 0 && items.length > 0 && items.every(item => !item.failure);
  return {
    label, caSubject, caFingerprint, caTrusted, items, bundleProblems,
    verdict: !allValid ? 'INVALID' : caTrusted ? 'VALID' : 'SELF_CONSISTENT',
    invalidCount: items.filter(item => item.failure).length,
  };
}

function fingerprint(digest) {
  return Array.from(digest, b => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

/** TrustStore: the signers' certificates by key id, each validated against the CA at the signed time. */
class TrustStore {
  constructor(ca) {
    this.ca = ca;
    this.byKeyId = new Map();
  }

  async add(certificate) {
    this.byKeyId.set(hex(await sha256(certificate.spki)), certificate);
  }

  knows(principal) {
    return [...this.byKeyId.values()].some(certificate => principalOf(certificate) === principal);
  }

  certificateOf(signer, keyId) {
    const certificate = this.byKeyId.get(keyId);
    if (!certificate) {
      if (this.knows(signer)) {
        throw new VerificationError('WRONG_KEY', 'key id ' + keyId + ' is not a key of ' + signer);
      }
      throw new VerificationError('UNKNOWN_SIGNER', 'no certificate for ' + signer);
    }
    const owner = principalOf(certificate);
    if (owner !== signer) {
      throw new VerificationError('WRONG_KEY', 'key id ' + keyId + ' belongs to ' + owner + ', not ' + signer);
    }
    return certificate;
  }

  async checkValidAt(certificate, at) {
    checkPeriod(certificate, at, 'certificate of ' + principalOf(certificate));
    checkPeriod(this.ca, at, 'network CA certificate');
    const why = certificate.algorithmMismatch ? 'Signature algorithm mismatch'
      : !equalBytes(certificate.issuer.der, this.ca.subject.der) ? 'subject/issuer name chaining check failed'
      : unknownCriticalExtension(certificate) ? 'unrecognized critical extension(s)'
        : !await certificateSignedBy(certificate, this.ca) ? 'signature check failed' : null;
    if (why) {
      throw new VerificationError('FOREIGN_CA', 'certificate of ' + principalOf(certificate) + ' does not chain to '
        + rfc2253(this.ca.subject) + ': ' + why);
    }
  }
}

function checkPeriod(certificate, at, what) {
  if (at > certificate.notAfter) {
    throw new VerificationError('CERTIFICATE_EXPIRED', what + ' expired ' + instant(certificate.notAfter)
      + ', before ' + instant(at));
  }
  if (at < certificate.notBefore) {
    throw new VerificationError('CERTIFICATE_NOT_YET_VALID', what + ' valid only from '
      + instant(certificate.notBefore) + ', after ' + instant(at));
  }
}

function parseStatement(bytes) {
  try {
    return parse('EvidenceStatement', bytes);
  } catch (e) {
    if (e instanceof ProtoError) {
      return null;
    }
    throw e;
  }
}

async function verifyItem(number, item, bundleLabel, trustStore) {
  const statement = parseStatement(item.statement);
  const kind = statement ? enumName('EvidenceKind', statement.kind) : 'EVIDENCE_KIND_UNSPECIFIED';
  const etsiEvent = statement ? enumName('EtsiEvent', statement.etsiEvent) : 'ETSI_EVENT_UNSPECIFIED';
  const proves = statement ? provesOf(statement) : '(the statement does not parse)';
  const result = { number, kind, etsiEvent, signer: item.signer, proves, failure: null, detail: '', statement };
  try {
    await verifyEvidence(item, trustStore);
    if (statement.label !== bundleLabel) {
      return { ...result, failure: 'MALFORMED', detail: 'the item is about label ' + statement.label
        + ', the bundle about ' + bundleLabel };
    }
    if (!(ETSI_EVENTS[kind] || []).includes(etsiEvent)) {
      return { ...result, failure: 'MALFORMED', detail: 'the signer tagged a ' + kind + ' with ETSI event '
        + etsiEvent + ', which is not that kind\'s event' };
    }
    return result;
  } catch (e) {
    if (e instanceof VerificationError) {
      return { ...result, failure: e.failure, detail: e.detail };
    }
    return { ...result, failure: 'MALFORMED', detail: 'malformed input: ' + e.message };
  }
}

/** EvidenceVerifier.verify: statement, signer, key, signature over prefix + exact bytes, then validity at issue time. */
async function verifyEvidence(item, trustStore) {
  let statement;
  try {
    statement = parse('EvidenceStatement', item.statement);
  } catch (e) {
    throw new VerificationError('MALFORMED', 'statement does not parse: ' + e.message);
  }
  const kind = enumName('EvidenceKind', statement.kind);
  if (kind === 'EVIDENCE_KIND_UNSPECIFIED' || kind === 'UNRECOGNIZED') {
    throw new VerificationError('MALFORMED', 'statement has no known kind');
  }
  if (statement.issuer !== item.signer) {
    throw new VerificationError('MALFORMED', 'statement issued by ' + statement.issuer + ' but signed as ' + item.signer);
  }
  const algorithm = enumName('SignatureAlgorithm', item.algorithm);
  if (algorithm !== 'ED25519' && algorithm !== 'ECDSA_P256_SHA256') {
    throw new VerificationError('MALFORMED', 'unsupported signature algorithm ' + algorithm);
  }
  const certificate = trustStore.certificateOf(item.signer, item.keyId);
  const prefix = ASCII.encode('certmail/v1/evidence/' + kind + '\0');
  const signed = new Uint8Array(prefix.length + item.statement.length);
  signed.set(prefix);
  signed.set(item.statement, prefix.length);
  if (!await verifySignature(algorithm, certificate, signed, item.signature)) {
    throw new VerificationError('BAD_SIGNATURE', kind + ' for label ' + statement.label + ' signed as ' + item.signer);
  }
  await trustStore.checkValidAt(certificate, Number(statement.issuedAtMillis));
}

/** BundleVerifier.proves: one sentence from the signed statement's fields. */
export function provesOf(s) {
  const kind = enumName('EvidenceKind', s.kind);
  const label = s.label;
  const flavour = enumName('Flavour', s.flavour);
  let sentence;
  switch (kind) {
    case 'COP':
      sentence = s.issuer + ' accepted mail ' + label + ' from ' + s.sender + ' for ' + s.recipient
        + ', content hash ' + shortHash(s.contentHash) + ', to be delivered by ' + instant(s.deadlineMillis)
        + ' (' + flavourName(flavour) + ')';
      break;
    case 'SUBMISSION_REJECTION':
      sentence = s.issuer + ' refused a submission from ' + s.sender + ' for ' + s.recipient + ': ' + reason(s);
      break;
    case 'RELAY_ACK':
      sentence = s.issuer + ' took over mail ' + label + ' for ' + s.recipient + ' from ' + s.counterparty;
      break;
    case 'RELAY_REJECTION':
      sentence = s.issuer + ' refused to relay mail ' + label + ' from ' + s.counterparty + ': ' + reason(s);
      break;
    case 'COD':
      sentence = s.issuer + ' certifies receipt of label ' + label + ' from ' + s.counterparty
        + (flavour === 'CEM' ? ', content hash ' + shortHash(s.contentHash)
          : flavour === 'IP' ? ', labelled content hash H(L,M) ' + shortHash(s.contentHash)
            : flavour === 'NSR' ? ' (NSR: signed before seeing the content)' : '');
      break;
    case 'RECIPIENT_REFUSAL':
      sentence = s.issuer + ' refused mail ' + label + ' offered by ' + s.counterparty + ': ' + reason(s);
      break;
    case 'CONTENT_HANDOVER':
      sentence = s.issuer + ' released the content of mail ' + label + ' to '
        + (s.counterparty === '' ? s.recipient : s.counterparty) + ', content hash ' + shortHash(s.contentHash);
      break;
    case 'ROD_N':
      sentence = s.issuer + ' reports that mail ' + label + ' from ' + s.sender + ' was delivered to ' + s.recipient;
      break;
    case 'ROD':
      sentence = s.issuer + ' confirms that mail ' + label + ' from ' + s.sender + ' was delivered to ' + s.recipient
        + ' by ' + s.counterparty;
      break;
    case 'NDN':
      sentence = s.issuer + ' declares mail ' + label + ' for ' + s.recipient + ' not delivered: ' + reason(s);
      break;
    case 'COMPENSATION_CLAIM':
      sentence = s.issuer + ' claims mail ' + label + ' lost: no report of delivery or non-delivery by '
        + instant(s.deadlineMillis) + ' plus ' + (s.graceMillis / 1000n) + ' s grace';
      break;
    default:
      sentence = 'an item of unknown kind ' + kind + ' by ' + s.issuer;
  }
  return sentence + ', at ' + instant(s.issuedAtMillis);
}

function reason(s) {
  const name = enumName('ReasonCode', s.reason);
  return s.reasonDetail === '' ? name : name + ' (' + s.reasonDetail + ')';
}

function flavourName(flavour) {
  return { CEM: 'CEM', NSR: 'CEM-nsr', IP: 'CEM-ip' }[flavour] || 'flavour unset';
}

function shortHash(bytes) {
  if (bytes.length === 0) {
    return '(none)';
  }
  const text = hex(bytes);
  return text.length > 16 ? text.substring(0, 16) + '…' : text;
}

/** The lines certmail verify prints for this report (VerifyCommand), file names as given. */
export function reportLines(result, file, caSource) {
  const lines = [];
  lines.push('Bundle ' + file + ': ' + (result.label === '' ? 'no label (a submission rejected before one was issued)'
    : 'label ' + result.label) + ', ' + result.items.length + ' items');
  if (result.caTrusted) {
    lines.push('Trusted CA: ' + result.caSubject + ' (from ' + caSource + ')');
  } else {
    lines.push('CA NOT CHECKED: the bundle\'s own CA certificate, ' + result.caSubject + ', SHA-256 '
      + result.caFingerprint + ', is used; anyone can make a CA of that name. Pass --ca <network ca.pem>.');
  }
  lines.push('');
  for (const item of result.items) {
    lines.push(String(item.number).padStart(2, ' ') + '. ' + item.kind + ' (ETSI ' + item.etsiEvent + ') signed by '
      + item.signer);
    lines.push('    proves: ' + item.proves);
    if (item.failure) {
      lines.push('    INVALID: ' + item.failure + ': ' + item.detail);
      lines.push('    check: ' + FAILURES[item.failure]);
    } else {
      lines.push(result.caTrusted ? '    VALID' : '    consistent (against the bundle\'s own CA)');
    }
  }
  for (const problem of result.bundleProblems) {
    lines.push('BUNDLE INVALID: ' + problem);
  }
  lines.push('');
  lines.push(verdictLine(result));
  return lines;
}

export function verdictLine(result) {
  switch (result.verdict) {
    case 'VALID':
      return 'All ' + result.items.length + ' items VALID.';
    case 'SELF_CONSISTENT':
      return 'SELF-CONSISTENT (CA not checked: pass --ca): all ' + result.items.length + ' items check out against'
        + ' the CA inside the bundle. That proves nothing until that CA is the network\'s: run again with --ca'
        + ' <the network\'s ca.pem>.';
    default:
      return 'NOT VALID: ' + result.invalidCount + ' of ' + result.items.length + ' items invalid'
        + (result.bundleProblems.length === 0 ? '' : ', ' + result.bundleProblems.length + ' bundle problem(s)')
        + '. Do not rely on this bundle; ask its issuer for a fresh export.';
  }
}

/** Decodes one evidence item (base64 of SignedEvidence, as the API lists it) for display; null when unreadable. */
export function decodeEvidence(base64) {
  try {
    const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
    const item = parse('SignedEvidence', bytes);
    const statement = parse('EvidenceStatement', item.statement);
    return { item, statement, kind: enumName('EvidenceKind', statement.kind),
      etsiEvent: enumName('EtsiEvent', statement.etsiEvent), proves: provesOf(statement) };
  } catch (e) {
    return null;
  }
}
