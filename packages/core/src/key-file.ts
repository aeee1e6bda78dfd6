import { KeyFileError } from './errors.js';
import { denoInspect, nodeInspect, REDACTED } from './redact.js';
import { isJsonObject } from './validate.js';

/** The JSON key file as Drillster's console downloads it. Unknown fields are ignored. */
export interface ServiceAccountKeyFile {
  /** PKCS#8 PEM of the RSA private key. */
  privateKey: string;
  /** Id of the key pair; sent as the assertion's `kid`. */
  keyId: string;
  /** Id of the service account; the assertion's `iss` (and default `sub`). */
  serviceAccountId: string;
}

let readPrivateKeyPem: (key: ServiceAccountKey) => string;

/**
 * A validated service account key. The private key is held privately: it does not show in
 * `JSON.stringify`, `String()`, `util.inspect` or `Deno.inspect`.
 *
 * Create one with {@link parseServiceAccountKey}.
 */
export class ServiceAccountKey {
  /** Id of the key pair (the assertion's `kid`). */
  readonly keyId: string;
  /** Id of the service account (the assertion's `iss`). */
  readonly serviceAccountId: string;
  /** JWS algorithm the key signs with. */
  readonly algorithm = 'RS256' as const;
  /** Size of the RSA modulus in bits. */
  readonly modulusLength: number;
  readonly #privateKeyPem: string;

  static {
    readPrivateKeyPem = (key) => key.#privateKeyPem;
  }

  /** @internal Use {@link parseServiceAccountKey}. */
  constructor(fields: {
    keyId: string;
    serviceAccountId: string;
    modulusLength: number;
    privateKeyPem: string;
  }) {
    this.keyId = fields.keyId;
    this.serviceAccountId = fields.serviceAccountId;
    this.modulusLength = fields.modulusLength;
    this.#privateKeyPem = fields.privateKeyPem;
    Object.freeze(this);
  }

  toJSON(): Record<string, string | number> {
    return {
      keyId: this.keyId,
      serviceAccountId: this.serviceAccountId,
      algorithm: this.algorithm,
      modulusLength: this.modulusLength,
      privateKey: REDACTED,
    };
  }

  toString(): string {
    return `ServiceAccountKey(keyId=${this.keyId}, serviceAccountId=${this.serviceAccountId}, RSA ${this.modulusLength})`;
  }

  [nodeInspect](): string {
    return this.toString();
  }

  [denoInspect](): string {
    return this.toString();
  }
}

/**
 * @internal The PKCS#8 DER of a parsed key (checked by {@link parseServiceAccountKey}), for the
 * signer only.
 */
export function privateKeyDer(key: ServiceAccountKey): Uint8Array<ArrayBuffer> {
  return decodePem(readPrivateKeyPem(key));
}

/** Smallest RSA modulus accepted, in bits (NIST SP 800-131A). */
export const MIN_MODULUS_LENGTH = 2048;

/**
 * Parses and validates a Drillster service account JSON key file.
 *
 * Accepts the file's text or the parsed object (or an already parsed {@link ServiceAccountKey},
 * returned as is). A leading UTF-8 byte order mark, literal `\n` escapes and CRLF line ends in
 * the PEM are tolerated. The key must
 * be an unencrypted PKCS#8 RSA private key of at least 2048 bits.
 *
 * @throws {KeyFileError} naming the field and what is wrong with it; never key material.
 */
export function parseServiceAccountKey(input: string | object): ServiceAccountKey {
  if (input instanceof ServiceAccountKey) return input;
  let file: unknown = input;
  if (typeof input === 'string') {
    try {
      // Editors on Windows save a byte order mark, which JSON.parse refuses.
      file = JSON.parse(input.startsWith('\uFEFF') ? input.slice(1) : input);
    } catch {
      // The parser's message quotes the text it choked on, which may be key material.
      throw new KeyFileError(
        'ERR_KEY_FILE_INVALID_JSON',
        'The service account key file is not valid JSON',
      );
    }
  }
  if (!isJsonObject(file)) {
    throw new KeyFileError(
      'ERR_KEY_FILE_INVALID_JSON',
      'The service account key file must be a JSON object with privateKey, keyId and serviceAccountId',
    );
  }
  const fields = file;
  const keyId = requireString(fields, 'keyId');
  const serviceAccountId = requireString(fields, 'serviceAccountId');
  const pem = normalizePem(requireString(fields, 'privateKey'));
  const der = decodePem(pem);
  const modulusLength = rsaModulusLength(der);
  if (modulusLength < MIN_MODULUS_LENGTH) {
    throw new KeyFileError(
      'ERR_KEY_FILE_WEAK_KEY',
      `privateKey is a ${modulusLength}-bit RSA key; at least ${MIN_MODULUS_LENGTH} bits are required`,
      { field: 'privateKey' },
    );
  }
  return new ServiceAccountKey({ keyId, serviceAccountId, modulusLength, privateKeyPem: pem });
}

function requireString(
  fields: Record<string, unknown>,
  name: 'privateKey' | 'keyId' | 'serviceAccountId',
): string {
  const value = fields[name];
  if (value === undefined || value === null) {
    throw new KeyFileError(
      'ERR_KEY_FILE_MISSING_FIELD',
      `The service account key file has no ${name}`,
      {
        field: name,
      },
    );
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new KeyFileError(
      'ERR_KEY_FILE_INVALID_FIELD',
      `${name} in the service account key file must be a non-empty string`,
      { field: name },
    );
  }
  if (name !== 'privateKey' && /\s/.test(value)) {
    throw new KeyFileError(
      'ERR_KEY_FILE_INVALID_FIELD',
      `${name} in the service account key file must not contain white space`,
      { field: name },
    );
  }
  return value;
}

function normalizePem(raw: string): string {
  return raw.replaceAll('\\r', '').replaceAll('\\n', '\n').replaceAll('\r', '').trim();
}

const PEM_PATTERN = /^-----BEGIN ([A-Z0-9 ]+)-----\n?([\s\S]*?)\n?-----END \1-----$/;

function decodePem(pem: string): Uint8Array<ArrayBuffer> {
  const match = PEM_PATTERN.exec(pem);
  if (!match) {
    throw new KeyFileError(
      'ERR_KEY_FILE_MALFORMED_KEY',
      'privateKey is not a PEM block (expected -----BEGIN PRIVATE KEY----- … -----END PRIVATE KEY-----)',
      { field: 'privateKey' },
    );
  }
  const label = match[1];
  if (label === 'RSA PRIVATE KEY') {
    throw new KeyFileError(
      'ERR_KEY_FILE_NOT_PKCS8',
      'privateKey is a PKCS#1 "RSA PRIVATE KEY"; convert it to PKCS#8 ("PRIVATE KEY"), e.g. with openssl pkcs8 -topk8 -nocrypt',
      { field: 'privateKey' },
    );
  }
  if (label === 'EC PRIVATE KEY') {
    throw new KeyFileError(
      'ERR_KEY_FILE_UNSUPPORTED_KEY_TYPE',
      'privateKey is an EC key; Drillster service accounts use RSA keys (RS256)',
      { field: 'privateKey' },
    );
  }
  if (label !== 'PRIVATE KEY') {
    throw new KeyFileError(
      'ERR_KEY_FILE_NOT_PKCS8',
      `privateKey is a PEM "${label}"; an unencrypted PKCS#8 "PRIVATE KEY" is required`,
      { field: 'privateKey' },
    );
  }
  const body = (match[2] ?? '').replace(/\s+/g, '');
  if (body === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) {
    throw malformed('its base64 body is not valid base64');
  }
  const binary = atob(body);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function malformed(why: string): KeyFileError {
  return new KeyFileError(
    'ERR_KEY_FILE_MALFORMED_KEY',
    `privateKey is not a well-formed PKCS#8 private key: ${why}`,
    { field: 'privateKey' },
  );
}

const OID_RSA_ENCRYPTION = '2a864886f70d010101';
/** Other key algorithms by OID, with the article each takes in a sentence ("a DSA key"). */
const OID_NAMES: Record<string, string> = {
  '2a864886f70d01010a': 'an RSASSA-PSS',
  '2a8648ce3d0201': 'an EC',
  '2b6570': 'an Ed25519',
  '2b6571': 'an Ed448',
  '2a8648ce380401': 'a DSA',
};

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** Reads one DER element at `offset`, bounded by `limit`. */
function readTlv(der: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw malformed('it ends early');
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || start + count > limit) throw malformed('a length is invalid');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!;
    start += count;
  }
  const end = start + length;
  if (end > limit) throw malformed('an element runs past its container');
  return { tag, start, end };
}

function expectTag(tlv: Tlv, tag: number, what: string): Tlv {
  if (tlv.tag !== tag) throw malformed(`${what} has the wrong ASN.1 type`);
  return tlv;
}

/** Walks PKCS#8 PrivateKeyInfo (RFC 5208) down to the RSAPrivateKey (RFC 8017 A.1.2) and returns the modulus size in bits. */
function rsaModulusLength(der: Uint8Array): number {
  const outer = expectTag(readTlv(der, 0, der.length), 0x30, 'the PrivateKeyInfo');
  if (outer.end !== der.length) throw malformed('there are bytes after the key');
  const version = expectTag(readTlv(der, outer.start, outer.end), 0x02, 'the version');
  const algorithm = expectTag(
    readTlv(der, version.end, outer.end),
    0x30,
    'the algorithm identifier',
  );
  const oid = expectTag(readTlv(der, algorithm.start, algorithm.end), 0x06, 'the algorithm OID');
  const oidHex = hex(der.subarray(oid.start, oid.end));
  if (oidHex !== OID_RSA_ENCRYPTION) {
    throw new KeyFileError(
      'ERR_KEY_FILE_UNSUPPORTED_KEY_TYPE',
      `privateKey is ${OID_NAMES[oidHex] ?? 'a non-RSA'} key; Drillster service accounts use RSA keys (RS256)`,
      { field: 'privateKey' },
    );
  }
  const octets = expectTag(readTlv(der, algorithm.end, outer.end), 0x04, 'the private key');
  const rsa = expectTag(readTlv(der, octets.start, octets.end), 0x30, 'the RSAPrivateKey');
  if (rsa.end !== octets.end) throw malformed('there are bytes after the RSAPrivateKey');
  let offset = rsa.start;
  let modulus: Tlv | undefined;
  // version, modulus, publicExponent, privateExponent, prime1, prime2, exponent1, exponent2, coefficient
  for (let i = 0; i < 9; i++) {
    const integer = expectTag(readTlv(der, offset, rsa.end), 0x02, `RSAPrivateKey field ${i + 1}`);
    if (integer.end === integer.start) throw malformed(`RSAPrivateKey field ${i + 1} is empty`);
    if (i === 1) modulus = integer;
    offset = integer.end;
  }
  if (offset !== rsa.end) throw malformed('the RSAPrivateKey has extra fields');
  return bitLength(der.subarray(modulus!.start, modulus!.end));
}

function bitLength(integer: Uint8Array): number {
  let i = 0;
  while (i < integer.length && integer[i] === 0) i++;
  if (i === integer.length) return 0;
  return (integer.length - i) * 8 - Math.clz32(integer[i]!) + 24;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}
