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

/** The universal primitive types a certificate parser reads (Bouncy Castle's ASN1InputStream). */
const KNOWN_PRIMITIVES = new Set([1, 2, 3, 4, 5, 6, 7, 10, 12, 13, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 30]);

/** One TLV: tag, the whole encoding's [start, end) and the value's [valueStart, end). */
function tlv(bytes, pos, limit = bytes.length) {
  if (pos + 2 > limit) {
    throw new CertificateError('truncated DER');
  }
  const tag = bytes[pos];
  if ((tag & 0x1f) === 0x1f) {
    throw new CertificateError('unsupported DER tag');
  }
  if ((tag & 0xe0) === 0x20 && tag !== 0x30 && tag !== 0x31) {
    // A constructed encoding of a primitive type (a string in pieces): BER, never DER.
    throw new CertificateError('unknown tag ' + (tag & 0x1f) + ' encountered');
  }
  if ((tag & 0xe0) === 0 && !KNOWN_PRIMITIVES.has(tag)) {
    // A universal type Bouncy Castle does not read (REAL, EMBEDDED PDV, a primitive SEQUENCE...).
    throw new CertificateError('unknown tag ' + tag + ' encountered');
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
  let year;
  if (node.tag === 0x17 && (match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    year = Number(match[1]) < 50 ? 2000 + Number(match[1]) : 1900 + Number(match[1]);
  } else if (node.tag === 0x18 && (match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    year = Number(match[1]);
  } else {
    throw new CertificateError('invalid ' + (node.tag === 0x17 ? 'UTCTime' : 'time') + ' format');
  }
  const [month, day, hour, minute, second] = match.slice(2).map(Number);
  const millis = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(millis);
  // A day, hour or second out of range must not roll over into another date.
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour
      || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) {
    throw new CertificateError('invalid UTCTime format');
  }
  return millis;
}

function algorithm(node) {
  const parts = children(expect(node, 0x30, 'algorithm identifier'));
  return { oid: oid(parts[0]), parameters: parts[1] ? encoding(parts[1]) : null, parameterOid:
    parts[1] && parts[1].tag === 0x06 ? oid(parts[1]) : null, der: encoding(node) };
}

const STRING_DECODERS = {
  0x0c: bytes => new TextDecoder('utf-8').decode(bytes),
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
      return { oid: oid(type), value: decode ? decode(value(val)) : null, der: encoding(val),
        validUtf8: val.tag !== 0x0c || isUtf8(value(val)) };
    }));
  return { rdns, der: encoding(node) };
}

function isUtf8(bytes) {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch (e) {
    return false;
  }
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
  // Bouncy Castle reads any explicitly tagged field first in the TBS as the version, whatever its
  // tag number (the JDK's stricter parser then refuses the certificate when the chain is checked).
  if (tbs[i] && (tbs[i].tag & 0xe0) === 0xa0) {
    const [versionNode] = children(tbs[i++]);
    version = Number(integer(versionNode)) + 1;
    if (version === 1) {
      throw new CertificateError('not DER: default version encoded');
    }
    if (version > 3) {
      throw new CertificateError('version number not recognised');
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
  if (extensions.length && version !== 3) {
    throw new CertificateError('version ' + version + ' certificate contains extensions');
  }
  const keyUsage = extensions.find(e => e.oid === OID.KEY_USAGE);
  if (keyUsage) {
    // Bouncy Castle reads the key usage while parsing: a damaged one makes the certificate unreadable.
    const bits = tlv(keyUsage.value, 0);
    const content = value(bits);
    if (bits.tag !== 0x03 || bits.end !== keyUsage.value.length || content.length === 0 || content[0] > 7
        || (content.length === 1 && content[0] !== 0)) {
      throw new CertificateError('cannot construct KeyUsage');
    }
  }
  const outer = algorithm(outerAlgorithm);
  const signature = bitString(signatureNode);
  const certificate = {
    der, version, serial, issuer, subject,
    notBefore: time(validity[0]), notAfter: time(validity[1]),
    tbs: encoding(tbsNode), signatureAlgorithm: outer.oid, signature: signature.bytes,
    spki: encoding(spkiNode), keyAlgorithm: keyAlgorithm.oid, keyCurve: keyAlgorithm.parameterOid,
    extensions,
    // Parsed as Bouncy Castle does; the validator refuses it later (certmail verify: FOREIGN_CA).
    algorithmMismatch: hex(outer.der) !== hex(innerAlgorithm.der),
  };
  checkPublicKey(certificate, keyBits);
  certificate.basicConstraints = basicConstraints(certificate);
  return certificate;
}

/**
 * The public key must be one Bouncy Castle can recover (an Ed25519 point that decodes, a P-256 point
 * on the curve), as certmail verify requires of every certificate in a bundle.
 */
function checkPublicKey(certificate, keyBits) {
  const key = bitString(keyBits);
  if (certificate.keyAlgorithm === OID.ED25519 && !certificate.keyCurve) {
    if (key.unused || key.bytes.length !== 32 || !ed25519PointDecodes(key.bytes)) {
      throw new CertificateError('failed to recover public key: malformed public key');
    }
    return;
  }
  if (certificate.keyAlgorithm === OID.EC_PUBLIC_KEY && certificate.keyCurve === OID.P256) {
    if (key.unused || !p256PointValid(key.bytes)) {
      throw new CertificateError('failed to recover public key: malformed public key');
    }
    return;
  }
  throw new CertificateError('its public key is of an unknown type');
}

function modPow(base, exponent, modulus) {
  let result = 1n;
  base %= modulus;
  while (exponent > 0n) {
    if (exponent & 1n) {
      result = result * base % modulus;
    }
    base = base * base % modulus;
    exponent >>= 1n;
  }
  return result;
}

function littleEndian(bytes) {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) {
    value = (value << 8n) | BigInt(bytes[i]);
  }
  return value;
}

/** RFC 8032, 5.1.3: the encoded y is below p and x^2 = (y^2 - 1) / (d y^2 + 1) has a root. */
function ed25519PointDecodes(bytes) {
  const p = (1n << 255n) - 19n;
  const encoded = littleEndian(bytes);
  const sign = encoded >> 255n;
  const y = encoded & ((1n << 255n) - 1n);
  if (y >= p) {
    return false;
  }
  const d = (p - 121665n) * modPow(121666n, p - 2n, p) % p;
  const u = (y * y - 1n + p) % p;
  const v = (d * y * y + 1n) % p;
  let x = u * modPow(v, 3n, p) % p * modPow(u * modPow(v, 7n, p) % p, (p - 5n) / 8n, p) % p;
  const check = v * x % p * x % p;
  if (check !== u) {
    if (check !== (p - u) % p) {
      return false;
    }
    x = x * modPow(2n, (p - 1n) / 4n, p) % p;
  }
  return !(x === 0n && sign === 1n);
}

/** An uncompressed or compressed P-256 point with coordinates below p, on the curve. */
function p256PointValid(bytes) {
  const p = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
  const b = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
  const bigEndian = slice => slice.reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
  if (bytes.length === 65 && bytes[0] === 4) {
    const x = bigEndian(bytes.subarray(1, 33));
    const y = bigEndian(bytes.subarray(33));
    return x < p && y < p && (y * y - (x * x * x - 3n * x + b)) % p === 0n;
  }
  if (bytes.length === 33 && (bytes[0] === 2 || bytes[0] === 3)) {
    const x = bigEndian(bytes.subarray(1));
    const rhs = ((x * x * x - 3n * x + b) % p + p) % p;
    return x < p && modPow(rhs, (p - 1n) / 2n, p) <= 1n;
  }
  return false;
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
  // Read leniently, as the JDK does: inside an extension's OCTET STRING any non-zero byte is TRUE.
  if (flag.length !== 1 || flag[0] === 0) {
    return -1;
  }
  return parts[1] ? Number(integer(parts[1])) : 2147483647;
}

/** The subject's common name: a principal's id (PrincipalNames.principalOf). */
export function principalOf(certificate) {
  for (const rdn of certificate.subject.rdns) {
    const ava = rdn[0];
    if (ava.oid === OID.COMMON_NAME) {
      if (!ava.validUtf8) {
        // Bouncy Castle throws here too: certmail verify then calls the item malformed.
        throw new Error('invalid UTF-8 in the common name of the certificate of ' + rfc2253(certificate.subject));
      }
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
