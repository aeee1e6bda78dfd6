// Pins the key-file parser's DER walk: which check refuses each broken key (by its message, since
// many share ERR_KEY_FILE_MALFORMED_KEY), the long-form length limits, the algorithm names, and
// the exact wording of field errors and of the key's own description. key-file.test.ts checks the
// codes; these tell the branches apart. Found by mutation testing (`pnpm mutation`).
import { beforeAll, describe, expect, it } from 'vitest';
import { KeyFileError, parseServiceAccountKey } from '../src/index.js';
import { generateKeyFile, pem, pemBody } from './helpers.js';

let good: { privateKey: string; keyId: string; serviceAccountId: string };
let der: Uint8Array;

beforeAll(async () => {
  ({ keyFile: good } = await generateKeyFile());
  der = pemBody(good.privateKey);
});

function refusal(input: string | object): KeyFileError {
  try {
    parseServiceAccountKey(input);
  } catch (error) {
    expect(error).toBeInstanceOf(KeyFileError);
    return error as KeyFileError;
  }
  throw new Error('expected a KeyFileError');
}

/** The refusal of `bytes` as the key's DER. */
function derRefusal(bytes: Iterable<number>): KeyFileError {
  const error = refusal({ ...good, privateKey: pem('PRIVATE KEY', Uint8Array.from(bytes)) });
  expect(error.field).toBe('privateKey');
  return error;
}

const malformed = (why: string) => `privateKey is not a well-formed PKCS#8 private key: ${why}`;

/** `der` with the 9 bytes of the rsaEncryption OID replaced by `oid` (also 9 bytes, or shorter). */
function withOid(oid: number[]): Uint8Array {
  const rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
  const at = der.findIndex((_, i) => rsa.every((b, j) => der[i + j] === b));
  const copy = Uint8Array.from(der);
  copy.set(oid, at);
  return copy;
}

describe('the DER walk refuses', () => {
  it('a key cut short, by the element that runs past its container', () => {
    const error = derRefusal(der.subarray(0, 600));
    expect(error.code).toBe('ERR_KEY_FILE_MALFORMED_KEY');
    expect(error.message).toBe(malformed('an element runs past its container'));
  });

  it('bytes after the key', () => {
    expect(derRefusal([...der, 0]).message).toBe(malformed('there are bytes after the key'));
  });

  it('a key of one byte, or an outer element that holds nothing', () => {
    expect(derRefusal([0x30]).message).toBe(malformed('it ends early'));
    expect(derRefusal([0x30, 0x00]).message).toBe(malformed('it ends early'));
  });

  it('a long-form length of 0 or more than 4 bytes, but reads one of 4', () => {
    expect(derRefusal([0x30, 0x80]).message).toBe(malformed('a length is invalid'));
    expect(derRefusal([0x30, 0x85, 0, 0, 0, 0, 0]).message).toBe(malformed('a length is invalid'));
    expect(derRefusal([0x30, 0x82, 0]).message).toBe(malformed('a length is invalid'));
    // Four length bytes are read (a length of 0): the refusal comes from what follows.
    expect(derRefusal([0x30, 0x84, 0, 0, 0, 0]).message).toBe(malformed('it ends early'));
    expect(derRefusal([0x30, 0x81, 0x05, 0x02]).message).toBe(
      malformed('an element runs past its container'),
    );
  });

  it('each element of the wrong ASN.1 type, by name', () => {
    const at = (offset: number, value: number) => {
      const copy = Uint8Array.from(der);
      copy[offset] = value;
      return copy;
    };
    expect(derRefusal(at(0, 0x31)).message).toBe(
      malformed('the PrivateKeyInfo has the wrong ASN.1 type'),
    );
    // 30 82 LL LL | 02 01 00 (version) | 30 0d (algorithm) 06 09 (OID) … 05 00 | 04 82 LL LL (octets)
    expect(derRefusal(at(4, 0x03)).message).toBe(malformed('the version has the wrong ASN.1 type'));
    expect(derRefusal(at(7, 0x31)).message).toBe(
      malformed('the algorithm identifier has the wrong ASN.1 type'),
    );
    expect(derRefusal(at(9, 0x05)).message).toBe(
      malformed('the algorithm OID has the wrong ASN.1 type'),
    );
    expect(derRefusal(at(22, 0x03)).message).toBe(
      malformed('the private key has the wrong ASN.1 type'),
    );
    expect(derRefusal(at(26, 0x31)).message).toBe(
      malformed('the RSAPrivateKey has the wrong ASN.1 type'),
    );
    expect(derRefusal(at(30, 0x03)).message).toBe(
      malformed('RSAPrivateKey field 1 has the wrong ASN.1 type'),
    );
  });
});

describe('the algorithm', () => {
  it('is named when it is a known other one, and called non-RSA otherwise', () => {
    const pss = derRefusal(withOid([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a]));
    expect(pss.code).toBe('ERR_KEY_FILE_UNSUPPORTED_KEY_TYPE');
    expect(pss.message).toBe(
      'privateKey is an RSASSA-PSS key; Drillster service accounts use RSA keys (RS256)',
    );
    const other = derRefusal(withOid([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]));
    expect(other.code).toBe('ERR_KEY_FILE_UNSUPPORTED_KEY_TYPE');
    expect(other.message).toBe(
      'privateKey is a non-RSA key; Drillster service accounts use RSA keys (RS256)',
    );
  });
});

describe('the PEM text', () => {
  it('refuses a body that is not base64, by its message', () => {
    const bad = (body: string) =>
      refusal({
        ...good,
        privateKey: `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`,
      });
    for (const body of ['', 'QUJD', 'QUJDRA=', 'QU!DRA==', 'QUJDRA===']) {
      const error = bad(body);
      if (body === 'QUJD') continue; // valid base64: refused by the DER walk instead
      expect(error.message, body).toBe(malformed('its base64 body is not valid base64'));
    }
    expect(bad('QUJDRA==').message).not.toContain('base64');
  });

  it('takes literal \\r\\n escapes, and white space around the armour', () => {
    const escaped = good.privateKey.replaceAll('\n', '\\r\\n');
    expect(parseServiceAccountKey({ ...good, privateKey: `  ${escaped}\n ` }).modulusLength).toBe(
      2048,
    );
  });

  it('names a PEM of another type, and says how to convert PKCS#1', () => {
    const other = refusal({
      ...good,
      privateKey: good.privateKey.replaceAll('PRIVATE KEY', 'DSA KEY'),
    });
    expect(other.code).toBe('ERR_KEY_FILE_NOT_PKCS8');
    expect(other.message).toBe(
      'privateKey is a PEM "DSA KEY"; an unencrypted PKCS#8 "PRIVATE KEY" is required',
    );
    const pkcs1 = refusal({
      ...good,
      privateKey: good.privateKey.replaceAll('PRIVATE KEY', 'RSA PRIVATE KEY'),
    });
    expect(pkcs1.message).toContain('openssl pkcs8 -topk8 -nocrypt');
  });
});

describe('fields', () => {
  it('are worded by name: missing, not a non-empty string, white space', () => {
    const missing = refusal({ ...good, keyId: null });
    expect([missing.code, missing.field, missing.message]).toEqual([
      'ERR_KEY_FILE_MISSING_FIELD',
      'keyId',
      'The service account key file has no keyId',
    ]);
    const blank = refusal({ ...good, serviceAccountId: ' \t' });
    expect([blank.code, blank.message]).toEqual([
      'ERR_KEY_FILE_INVALID_FIELD',
      'serviceAccountId in the service account key file must be a non-empty string',
    ]);
    const spaced = refusal({ ...good, serviceAccountId: 'a\tb' });
    expect([spaced.code, spaced.field, spaced.message]).toEqual([
      'ERR_KEY_FILE_INVALID_FIELD',
      'serviceAccountId',
      'serviceAccountId in the service account key file must not contain white space',
    ]);
  });

  it('refuses JSON that is not an object, and text that is not JSON, by message', () => {
    for (const input of ['[]', 'null', '"key"']) {
      expect(refusal(input).message).toBe(
        'The service account key file must be a JSON object with privateKey, keyId and serviceAccountId',
      );
    }
    const text = refusal('{"privateKey":');
    expect([text.code, text.message]).toEqual([
      'ERR_KEY_FILE_INVALID_JSON',
      'The service account key file is not valid JSON',
    ]);
  });
});

describe('a parsed key', () => {
  it('describes itself with its ids, algorithm and size, the private key redacted', () => {
    const key = parseServiceAccountKey(good);
    expect(key.toJSON()).toEqual({
      keyId: good.keyId,
      serviceAccountId: good.serviceAccountId,
      algorithm: 'RS256',
      modulusLength: 2048,
      privateKey: '[redacted]',
    });
    expect(String(key)).toBe(
      `ServiceAccountKey(keyId=${good.keyId}, serviceAccountId=${good.serviceAccountId}, RSA 2048)`,
    );
    expect(Object.isFrozen(key)).toBe(true);
    expect(parseServiceAccountKey(key)).toBe(key);
  });
});
