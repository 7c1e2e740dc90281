// A small reader of the protobuf wire format for certmail's evidence messages (evidence.proto),
// strict the way protobuf-java is when certmail verify parses a bundle: a truncated or malformed
// input is an error, a string must be UTF-8, a field of unknown number (or of a known number with
// another wire type) is kept as an unknown field.

export class ProtoError extends Error {}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The schemas: field number -> [name, type]; "repeated " marks lists, "message:" nested messages. */
export const SCHEMAS = {
  EvidenceBundle: { 1: ['version', 'uint32'], 2: ['label', 'string'], 5: ['items', 'repeated message:SignedEvidence'],
    6: ['certificates', 'repeated bytes'] },
  SignedEvidence: { 1: ['statement', 'bytes'], 2: ['signer', 'string'], 3: ['keyId', 'string'],
    4: ['algorithm', 'enum'], 5: ['signature', 'bytes'] },
  EvidenceStatement: { 1: ['version', 'uint32'], 2: ['kind', 'enum'], 3: ['etsiEvent', 'enum'], 4: ['label', 'string'],
    5: ['issuer', 'string'], 6: ['sender', 'string'], 7: ['recipient', 'string'], 8: ['counterparty', 'string'],
    9: ['flavour', 'enum'], 10: ['contentHash', 'bytes'], 11: ['deadlineMillis', 'int64'],
    12: ['issuedAtMillis', 'int64'], 13: ['reason', 'enum'], 14: ['reasonDetail', 'string'],
    15: ['submissionId', 'string'], 16: ['codStatementHash', 'bytes'], 17: ['claimedCop', 'message:SignedEvidence'],
    18: ['graceMillis', 'int64'], 19: ['route', 'repeated string'], 20: ['issuerHead', 'message:StreamHead'] },
  // The issuer's journal head a statement names (the audit's witness); parsed, as protobuf-java does.
  StreamHead: { 1: ['sequenceNr', 'int64'], 2: ['chainHash', 'bytes'] },
};

const DEFAULTS = { uint32: 0, enum: 0, int64: 0n, string: '', bytes: new Uint8Array(0) };

const WIRE_OF = { uint32: 0, enum: 0, int64: 0, string: 2, bytes: 2 };

/** Parses bytes as the named message: an object with every field (defaults when absent) and unknownFields. */
export function parse(type, bytes) {
  const schema = SCHEMAS[type];
  const message = { unknownFields: 0 };
  for (const [name, kind] of Object.values(schema)) {
    message[name] = kind.startsWith('repeated ') ? [] : kind.startsWith('message:') ? null : DEFAULTS[kind];
  }
  const reader = new Reader(bytes);
  while (!reader.done()) {
    const tag = BigInt.asUintN(32, reader.varint());
    const number = Number(tag >> 3n);
    if (number === 0) {
      throw new ProtoError('Protocol message contained an invalid tag (zero).');
    }
    const wire = Number(tag & 7n);
    const field = schema[number];
    const repeated = field && field[1].startsWith('repeated ');
    const kind = field && (repeated ? field[1].substring(9) : field[1]);
    const expectedWire = kind && (kind.startsWith('message:') ? 2 : WIRE_OF[kind]);
    if (!field || wire !== expectedWire) {
      reader.skip(wire, number);
      message.unknownFields++;
      continue;
    }
    const value = readValue(reader, kind, message[field[0]]);
    if (repeated) {
      message[field[0]].push(value);
    } else {
      message[field[0]] = value;
    }
  }
  return message;
}

function readValue(reader, kind, previous) {
  switch (kind) {
    case 'uint32':
    case 'enum':
      return Number(BigInt.asIntN(32, reader.varint()));
    case 'int64':
      return BigInt.asIntN(64, reader.varint());
    case 'bytes':
      return reader.lengthDelimited();
    case 'string':
      try {
        return UTF8.decode(reader.lengthDelimited());
      } catch (e) {
        throw new ProtoError('Protocol message had invalid UTF-8.');
      }
    default: {
      const nested = parse(kind.substring(8), reader.lengthDelimited());
      // A singular message given twice is merged, as protobuf does; certmail's messages never do it.
      return previous && !Array.isArray(previous) ? Object.assign(previous, nested) : nested;
    }
  }
}

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }

  done() {
    return this.pos >= this.bytes.length;
  }

  truncated() {
    return new ProtoError('While parsing a protocol message, the input ended unexpectedly in the middle of a field.');
  }

  varint() {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) {
        throw this.truncated();
      }
      const b = this.bytes[this.pos++];
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) {
        return BigInt.asUintN(64, result);
      }
    }
    throw new ProtoError('CodedInputStream encountered a malformed varint.');
  }

  lengthDelimited() {
    const length = BigInt.asIntN(32, this.varint());
    if (length < 0n) {
      throw new ProtoError('CodedInputStream encountered an embedded string or message which claimed to have negative size.');
    }
    const end = this.pos + Number(length);
    if (end > this.bytes.length) {
      throw this.truncated();
    }
    const value = this.bytes.subarray(this.pos, end);
    this.pos = end;
    return value;
  }

  skip(wire, number, depth = 0) {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.fixed(8);
        return;
      case 2:
        this.lengthDelimited();
        return;
      case 3: {
        if (depth > 100) {
          throw new ProtoError('Protocol message had too many levels of nesting.');
        }
        for (;;) {
          if (this.done()) {
            throw this.truncated();
          }
          const tag = BigInt.asUintN(32, this.varint());
          const innerWire = Number(tag & 7n);
          if (innerWire === 4) {
            if (Number(tag >> 3n) !== number) {
              throw new ProtoError('Protocol message end-group tag did not match expected tag.');
            }
            return;
          }
          if (tag >> 3n === 0n) {
            throw new ProtoError('Protocol message contained an invalid tag (zero).');
          }
          this.skip(innerWire, Number(tag >> 3n), depth + 1);
        }
      }
      case 5:
        this.fixed(4);
        return;
      default:
        throw new ProtoError('Protocol message tag had invalid wire type.');
    }
  }

  fixed(size) {
    if (this.pos + size > this.bytes.length) {
      throw this.truncated();
    }
    this.pos += size;
  }
}

/** protobuf-java's enum names (evidence.proto, envelope.proto); a number it does not know is UNRECOGNIZED. */
export const ENUMS = {
  EvidenceKind: ['EVIDENCE_KIND_UNSPECIFIED', 'COP', 'SUBMISSION_REJECTION', 'RELAY_ACK', 'RELAY_REJECTION', 'COD',
    'RECIPIENT_REFUSAL', 'CONTENT_HANDOVER', 'ROD_N', 'ROD', 'NDN', 'COMPENSATION_CLAIM'],
  EtsiEvent: ['ETSI_EVENT_UNSPECIFIED', 'SUBMISSION_ACCEPTANCE', 'SUBMISSION_REJECTION_EVENT', 'RELAY_ACCEPTANCE',
    'RELAY_REJECTION_EVENT', 'RELAY_FAILURE', 'NOTIFICATION_FOR_ACCEPTANCE', 'CONSIGNMENT_ACCEPTANCE',
    'CONSIGNMENT_REJECTION', 'CONTENT_HANDOVER_EVENT', 'CONTENT_CONSIGNMENT', 'CONTENT_CONSIGNMENT_FAILURE',
    'ACCEPTANCE_REJECTION_EXPIRY', 'CERTMAIL_COMPENSATION_CLAIM'],
  Flavour: ['FLAVOUR_UNSPECIFIED', 'CEM', 'NSR', 'IP'],
  ReasonCode: ['REASON_UNSPECIFIED', 'UNKNOWN_RECIPIENT', 'UNKNOWN_DOMAIN', 'DEADLINE_NOT_ACCEPTABLE',
    'MESSAGE_TOO_LARGE', 'RELAY_UNREACHABLE', 'RELAY_REJECTED', 'RECIPIENT_DID_NOT_ACKNOWLEDGE', 'RECIPIENT_REFUSED',
    'DEADLINE_EXPIRED', 'INVALID_SIGNATURE', 'POLICY_VIOLATION', 'TECHNICAL_MALFUNCTION'],
  SignatureAlgorithm: ['SIGNATURE_ALGORITHM_UNSPECIFIED', 'ED25519', 'ECDSA_P256_SHA256'],
};

export function enumName(type, number) {
  const names = ENUMS[type];
  return number >= 0 && number < names.length ? names[number] : 'UNRECOGNIZED';
}
