// X.509 certificates as certmail's network CA issues them (Ed25519 or ECDSA P-256), read from DER.
// Only strict DER is accepted, as certmail verify does: a certificate whose bytes were altered so
// that they still parse but are no longer DER is refused rather than checked over other bytes.

export class CertificateError extends Error {}

export const OID = {
  ED25519: '1.3.101.112',
  EC_PUBLIC_KEY: '1.2.840.10045.2.1',
  P256: '1.2.840.10045.3.1.7',
  ECDSA_SHA256: '1.2.840.10045.4.3.2',
  BASIC_CONSTRAINTS: '2.5.29.19',
  KEY_USAGE: '2.5.29.15',
  COMMON_NAME: '2.5.4.3',
};

/** Extensions a PKIX validator understands; an unknown critical one fails validation. */
const UNDERSTOOD_EXTENSIONS = new Set(['2.5.29.19', '2.5.29.15', '2.5.29.37', '2.5.29.17', '2.5.29.30', '2.5.29.32',
  '2.5.29.33', '2.5.29.36', '2.5.29.54', '2.5.29.14', '2.5.29.35']);

/** RFC 2253 keywords, as Java's X500Principal.getName() prints them. */
const NAME_KEYWORDS = { '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O',
  '2.5.4.11': 'OU', '2.5.4.9': 'STREET', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID' };

/** One TLV: tag, the whole encoding's [start, end) and the value's [valueStart, end). */
function tlv(bytes, pos, limit = bytes.length) {
  if (pos + 2 > limit) {
    throw new CertificateError('truncated DER');
  }
  const tag = bytes[pos];
  if ((tag & 0x1f) === 0x1f) {
    throw new CertificateError('unsupported DER tag');
  }
  let length = bytes[pos + 1];
  let valueStart = pos + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) {
      throw new CertificateError('not DER: indefinite or oversized length');
    }
    if (valueStart + count > limit || bytes[valueStart] === 0) {
      throw new CertificateError('not DER: length not minimal');
    }
    length = 0;
    for (let i = 0; i < count; i++) {
      length = length * 256 + bytes[valueStart + i];
    }
    if (length < 0x80 || (count > 1 && length < 1 << (8 * (count - 1)))) {
      throw new CertificateError('not DER: length not minimal');
    }
    valueStart += count;
  }
  const end = valueStart + length;
  if (end > limit) {
    throw new CertificateError('truncated DER');
  }
  return { tag, start: pos, valueStart, end, bytes };
}

function value(node) {
  return node.bytes.subarray(node.valueStart, node.end);
}

function encoding(node) {
  return node.bytes.subarray(node.start, node.end);
}

/** The children of a constructed node; they must fill it exactly. */
function children(node) {
  const list = [];
  let pos = node.valueStart;
  while (pos < node.end) {
    const child = tlv(node.bytes, pos, node.end);
    list.push(child);
    pos = child.end;
  }
  return list;
}

function expect(node, tag, what) {
  if (!node || node.tag !== tag) {
    throw new CertificateError(what + ' missing or of the wrong type');
  }
  return node;
}

function oid(node) {
  const v = value(expect(node, 0x06, 'object identifier'));
  if (v.length === 0 || v[v.length - 1] & 0x80) {
    throw new CertificateError('malformed object identifier');
  }
  const parts = [];
  let current = 0n;
  for (let i = 0; i < v.length; i++) {
    if (current === 0n && v[i] === 0x80) {
      throw new CertificateError('not DER: object identifier not minimal');
    }
    current = (current << 7n) | BigInt(v[i] & 0x7f);
    if (!(v[i] & 0x80)) {
      parts.push(current);
      current = 0n;
    }
  }
  const first = parts[0] < 80n ? parts[0] / 40n : 2n;
  return [first, parts[0] - first * 40n, ...parts.slice(1)].join('.');
}

function integer(node) {
  const v = value(expect(node, 0x02, 'integer'));
  if (v.length === 0 || (v.length > 1 && ((v[0] === 0 && !(v[1] & 0x80)) || (v[0] === 0xff && v[1] & 0x80)))) {
    throw new CertificateError('not DER: integer not minimal');
  }
  let result = 0n;
  for (const b of v) {
    result = (result << 8n) | BigInt(b);
  }
  return v[0] & 0x80 ? result - (1n << BigInt(8 * v.length)) : result;
}

function bitString(node) {
  const v = value(expect(node, 0x03, 'bit string'));
  if (v.length === 0 || v[0] > 7 || (v.length === 1 && v[0] !== 0)) {
    throw new CertificateError('malformed bit string');
  }
  if (v[0] && v[v.length - 1] & ((1 << v[0]) - 1)) {
    throw new CertificateError('not DER: bit string padding not zero');
  }
  return { unused: v[0], bytes: v.subarray(1) };
}

function time(node) {
  const text = String.fromCharCode(...value(node));
  let match;
  if (node.tag === 0x17 && (match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    const yy = Number(match[1]);
    return Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, match[2] - 1, match[3], match[4], match[5], match[6]);
  }
  if (node.tag === 0x18 && (match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    return Date.UTC(Number(match[1]), match[2] - 1, match[3], match[4], match[5], match[6]);
  }
  throw new CertificateError('malformed validity time');
}

function algorithm(node) {
  const parts = children(expect(node, 0x30, 'algorithm identifier'));
  return { oid: oid(parts[0]), parameters: parts[1] ? encoding(parts[1]) : null, parameterOid:
    parts[1] && parts[1].tag === 0x06 ? oid(parts[1]) : null, der: encoding(node) };
}

const STRING_DECODERS = {
  0x0c: bytes => new TextDecoder('utf-8', { fatal: true }).decode(bytes),
  0x13: bytes => String.fromCharCode(...bytes),
  0x16: bytes => String.fromCharCode(...bytes),
  0x14: bytes => String.fromCharCode(...bytes),
  0x1e: bytes => { let s = ''; for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes[i] << 8 | bytes[i + 1]); return s; },
};

function name(node) {
  const rdns = children(expect(node, 0x30, 'name')).map(set => children(expect(set, 0x31, 'relative name'))
    .map(pair => {
      const [type, val] = children(expect(pair, 0x30, 'attribute'));
      const decode = STRING_DECODERS[val.tag];
      return { oid: oid(type), value: decode ? decode(value(val)) : null, der: encoding(val) };
    }));
  return { rdns, der: encoding(node) };
}

function hex(bytes) {
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
}

/** A value as RFC 2253 escapes it (X500Principal.getName(), Bouncy Castle's IETFUtils). */
function escapeValue(text) {
  let escaped = text.replace(/[,+"\\<>;=]/g, c => '\\' + c);
  if (escaped.startsWith('#') || escaped.startsWith(' ')) {
    escaped = '\\' + escaped;
  }
  if (escaped.endsWith(' ') && !escaped.endsWith('\\ ')) {
    escaped = escaped.slice(0, -1) + '\\ ';
  }
  return escaped;
}

/** The name as Java's X500Principal.getName() prints it: RDNs last first, "CN=...,O=...". */
export function rfc2253(parsedName) {
  return parsedName.rdns.slice().reverse().map(rdn => rdn.map(ava => {
    const keyword = NAME_KEYWORDS[ava.oid];
    if (keyword && ava.value !== null) {
      return keyword + '=' + escapeValue(ava.value);
    }
    return ava.oid + '=#' + hex(ava.der);
  }).join('+')).join(',');
}

/** Parses one DER certificate; throws CertificateError for anything that is not a strict DER X.509 v3 certificate. */
export function parseCertificate(der) {
  const root = tlv(der, 0);
  if (root.end !== der.length) {
    throw new CertificateError('trailing bytes after the certificate');
  }
  const [tbsNode, outerAlgorithm, signatureNode, ...extra] = children(expect(root, 0x30, 'certificate'));
  if (extra.length) {
    throw new CertificateError('unexpected fields after the signature');
  }
  const tbs = children(expect(tbsNode, 0x30, 'to-be-signed certificate'));
  let i = 0;
  let version = 1;
  if (tbs[i] && tbs[i].tag === 0xa0) {
    const [versionNode] = children(tbs[i++]);
    version = Number(integer(versionNode)) + 1;
    if (version === 1) {
      throw new CertificateError('not DER: default version encoded');
    }
  }
  const serial = integer(tbs[i++]);
  const innerAlgorithm = algorithm(tbs[i++]);
  const issuer = name(tbs[i++]);
  const validity = children(expect(tbs[i++], 0x30, 'validity'));
  if (validity.length !== 2) {
    throw new CertificateError('malformed validity');
  }
  const subject = name(tbs[i++]);
  const spkiNode = expect(tbs[i++], 0x30, 'subject public key info');
  const [keyAlgorithmNode, keyBits] = children(spkiNode);
  const keyAlgorithm = algorithm(keyAlgorithmNode);
  bitString(keyBits);
  while (tbs[i] && (tbs[i].tag === 0x81 || tbs[i].tag === 0x82)) {
    i++;
  }
  const extensions = [];
  if (tbs[i] && tbs[i].tag === 0xa3) {
    const [list] = children(tbs[i++]);
    for (const extension of children(expect(list, 0x30, 'extensions'))) {
      const parts = children(expect(extension, 0x30, 'extension'));
      let critical = false;
      let k = 1;
      if (parts[k] && parts[k].tag === 0x01) {
        const flag = value(parts[k++]);
        if (flag.length !== 1 || flag[0] !== 0xff) {
          throw new CertificateError('not DER: boolean or default value encoded');
        }
        critical = true;
      }
      extensions.push({ oid: oid(parts[0]), critical, value: value(expect(parts[k], 0x04, 'extension value')) });
    }
  }
  if (i !== tbs.length) {
    throw new CertificateError('unexpected fields in the certificate');
  }
  const outer = algorithm(outerAlgorithm);
  if (hex(outer.der) !== hex(innerAlgorithm.der)) {
    throw new CertificateError('signature algorithm mismatch');
  }
  const signature = bitString(signatureNode);
  const certificate = {
    der, version, serial, issuer, subject,
    notBefore: time(validity[0]), notAfter: time(validity[1]),
    tbs: encoding(tbsNode), signatureAlgorithm: outer.oid, signature: signature.bytes,
    spki: encoding(spkiNode), keyAlgorithm: keyAlgorithm.oid, keyCurve: keyAlgorithm.parameterOid,
    extensions,
  };
  certificate.basicConstraints = basicConstraints(certificate);
  return certificate;
}

/** As Java's getBasicConstraints(): -1 for no CA, else the path length (MAX_VALUE when unlimited). */
function basicConstraints(certificate) {
  const extension = certificate.extensions.find(e => e.oid === OID.BASIC_CONSTRAINTS);
  if (!extension) {
    return -1;
  }
  const node = tlv(extension.value, 0);
  const parts = children(expect(node, 0x30, 'basic constraints'));
  if (!parts[0] || parts[0].tag !== 0x01) {
    return -1;
  }
  const flag = value(parts[0]);
  if (flag.length !== 1 || flag[0] !== 0xff) {
    throw new CertificateError('not DER: basic constraints');
  }
  return parts[1] ? Number(integer(parts[1])) : 2147483647;
}

/** The subject's common name: a principal's id (PrincipalNames.principalOf). */
export function principalOf(certificate) {
  for (const rdn of certificate.subject.rdns) {
    const ava = rdn[0];
    if (ava.oid === OID.COMMON_NAME) {
      return ava.value === null ? '#' + hex(ava.der) : escapeValue(ava.value);
    }
  }
  return '';
}

export function unknownCriticalExtension(certificate) {
  return certificate.extensions.find(e => e.critical && !UNDERSTOOD_EXTENSIONS.has(e.oid));
}

/** A PEM file's first certificate as DER, or the bytes themselves when they are DER already. */
export function certificateFromFile(bytes) {
  const text = new TextDecoder('latin1').decode(bytes);
  const match = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(text);
  if (match) {
    const binary = atob(match[1].replace(/\s+/g, ''));
    return Uint8Array.from(binary, c => c.charCodeAt(0));
  }
  if (bytes[0] === 0x30) {
    return bytes;
  }
  throw new CertificateError('it holds no certificate (expected a PEM "BEGIN CERTIFICATE" block or DER)');
}
