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

/** A DER element: `tag`, its length (short or long form), `content`. */
function tlv(tag: number, content: number[]): number[] {
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return [tag, ...length, ...content];
}

/** The nine INTEGERs of the good key's RSAPrivateKey, each as its whole DER element. */
function rsaFields(): number[][] {
  // 30 82 LL LL | 02 01 00 | 30 0d … | 04 82 LL LL | 30 82 LL LL | the fields
  const fields: number[][] = [];
  let at = 30;
  for (let i = 0; i < 9; i++) {
    const lengthByte = der[at + 1]!;
    const count = lengthByte & 0x80 ? lengthByte & 0x7f : 0;
    let length = count === 0 ? lengthByte : 0;
    for (let j = 0; j < count; j++) length = length * 256 + der[at + 2 + j]!;
    const end = at + 2 + count + length;
    fields.push([...der.subarray(at, end)]);
    at = end;
  }
  return fields;
}

/** A PKCS#8 key around `rsaKey` (the RSAPrivateKey's bytes and anything after them). */
function pkcs8(rsaKey: number[], algorithm = [...der.subarray(7, 22)]): number[] {
  return tlv(0x30, [0x02, 0x01, 0x00, ...algorithm, ...tlv(0x04, rsaKey)]);
}

describe('the RSAPrivateKey (survivors of mutation testing)', () => {
  it('is read back whole from its nine fields (the rebuild the next tests use)', () => {
    expect(Uint8Array.from(pkcs8(tlv(0x30, rsaFields().flat())))).toEqual(der);
  });

  it('refuses bytes after it, an empty field, and a tenth field', () => {
    const rsaKey = tlv(0x30, rsaFields().flat());
    expect(derRefusal(pkcs8([...rsaKey, 0x05, 0x00])).message).toBe(
      malformed('there are bytes after the RSAPrivateKey'),
    );
    const fields = rsaFields();
    fields[2] = [0x02, 0x00];
    expect(derRefusal(pkcs8(tlv(0x30, fields.flat()))).message).toBe(
      malformed('RSAPrivateKey field 3 is empty'),
    );
    expect(derRefusal(pkcs8(tlv(0x30, [...rsaFields().flat(), 0x02, 0x01, 0x00]))).message).toBe(
      malformed('the RSAPrivateKey has extra fields'),
    );
  });

  it('sizes the modulus without its leading zero bytes, and a zero modulus as 0 bits', () => {
    const fields = rsaFields();
    const modulus = fields[1]!.slice(4); // 02 82 01 01 | 00 <256 bytes>
    expect(modulus[0]).toBe(0);
    fields[1] = tlv(0x02, [0, 0, ...modulus]);
    const padded = pem('PRIVATE KEY', Uint8Array.from(pkcs8(tlv(0x30, fields.flat()))));
    expect(parseServiceAccountKey({ ...good, privateKey: padded }).modulusLength).toBe(2048);

    fields[1] = [0x02, 0x01, 0x00];
    const zero = derRefusal(pkcs8(tlv(0x30, fields.flat())));
    expect([zero.code, zero.message]).toEqual([
      'ERR_KEY_FILE_WEAK_KEY',
      'privateKey is a 0-bit RSA key; at least 2048 bits are required',
    ]);
  });

  it('names each known other algorithm with its article', () => {
    const oids: [number[], string][] = [
      [[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01], 'an EC'],
      [[0x2b, 0x65, 0x70], 'an Ed25519'],
      [[0x2b, 0x65, 0x71], 'an Ed448'],
      [[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01], 'a DSA'],
    ];
    for (const [oid, name] of oids) {
      const error = derRefusal(pkcs8([], tlv(0x30, tlv(0x06, oid))));
      expect([error.code, error.message]).toEqual([
        'ERR_KEY_FILE_UNSUPPORTED_KEY_TYPE',
        `privateKey is ${name} key; Drillster service accounts use RSA keys (RS256)`,
      ]);
    }
  });
});

describe('the PEM armour (survivors of mutation testing)', () => {
  const notPem =
    'privateKey is not a PEM block (expected -----BEGIN PRIVATE KEY----- … -----END PRIVATE KEY-----)';

  it('may stand on one line, without line breaks around the body', () => {
    const oneLine = good.privateKey.replaceAll('\n', '');
    expect(oneLine).toMatch(/^-----BEGIN PRIVATE KEY-----MII/);
    expect(parseServiceAccountKey({ ...good, privateKey: oneLine }).modulusLength).toBe(2048);
  });

  it('refuses text before or after the block, by message and field', () => {
    for (const privateKey of [`key: ${good.privateKey}`, `${good.privateKey} (2048 bits)`]) {
      const error = refusal({ ...good, privateKey });
      expect([error.code, error.message, error.field]).toEqual([
        'ERR_KEY_FILE_MALFORMED_KEY',
        notPem,
        'privateKey',
      ]);
    }
  });

  it('names a PKCS#1 EC key and any other label, with the field', () => {
    const ec = refusal({
      ...good,
      privateKey: good.privateKey.replaceAll('PRIVATE KEY', 'EC PRIVATE KEY'),
    });
    expect([ec.code, ec.message, ec.field]).toEqual([
      'ERR_KEY_FILE_UNSUPPORTED_KEY_TYPE',
      'privateKey is an EC key; Drillster service accounts use RSA keys (RS256)',
      'privateKey',
    ]);
    const other = refusal({
      ...good,
      privateKey: good.privateKey.replaceAll('PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'),
    });
    expect([other.code, other.field]).toEqual(['ERR_KEY_FILE_NOT_PKCS8', 'privateKey']);
  });

  it('is described the same way to Deno as to Node', () => {
    const key = parseServiceAccountKey(good);
    const inspectForDeno = (key as unknown as Record<symbol, () => string>)[
      Symbol.for('Deno.customInspect')
    ];
    expect(inspectForDeno?.call(key)).toBe(String(key));
  });
});
