import { inspect } from 'node:util';
import { generateServiceAccountKey, pem } from '@drillster-auth/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  importSigningKey,
  KeyFileError,
  parseServiceAccountKey,
  ServiceAccountKey,
} from '../src/index.js';
import { pemBody, referenceExampleKeyFile } from './helpers.js';

let good: { privateKey: string; keyId: string; serviceAccountId: string };

beforeAll(async () => {
  ({ keyFile: good } = await generateServiceAccountKey());
});

function expectKeyFileError(input: string | object, code: string, field?: string): KeyFileError {
  try {
    parseServiceAccountKey(input);
  } catch (error) {
    expect(error).toBeInstanceOf(KeyFileError);
    const keyError = error as KeyFileError;
    expect(keyError.code).toBe(code);
    if (field) expect(keyError.field).toBe(field);
    return keyError;
  }
  throw new Error(`expected ${code}`);
}

describe('parseServiceAccountKey', () => {
  it('accepts the key file as downloaded (JSON text) and as an object', () => {
    const fromText = parseServiceAccountKey(JSON.stringify(good));
    const fromObject = parseServiceAccountKey(good);
    for (const key of [fromText, fromObject]) {
      expect(key).toBeInstanceOf(ServiceAccountKey);
      expect(key.keyId).toBe(good.keyId);
      expect(key.serviceAccountId).toBe(good.serviceAccountId);
      expect(key.modulusLength).toBe(2048);
      expect(key.algorithm).toBe('RS256');
    }
  });

  it('accepts a key file saved with a UTF-8 byte order mark (as Windows editors save it)', () => {
    const key = parseServiceAccountKey(`\uFEFF${JSON.stringify(good, null, 2)}`);
    expect(key.keyId).toBe(good.keyId);
    // Only one leading mark is a mark; anything else before the JSON is still not JSON.
    expectKeyFileError(`\uFEFF\uFEFF${JSON.stringify(good)}`, 'ERR_KEY_FILE_INVALID_JSON');
  });

  it('ignores unknown fields and returns a parsed key as is', () => {
    const key = parseServiceAccountKey({ ...good, type: 'service_account', created: 1 });
    expect(parseServiceAccountKey(key)).toBe(key);
  });

  it('tolerates literal \\n escapes and CRLF line ends in the PEM', async () => {
    const escaped = parseServiceAccountKey({
      ...good,
      privateKey: good.privateKey.replaceAll('\n', '\\n'),
    });
    const crlf = parseServiceAccountKey({
      ...good,
      privateKey: good.privateKey.replaceAll('\n', '\r\n'),
    });
    await expect(importSigningKey(escaped)).resolves.toBeDefined();
    await expect(importSigningKey(crlf)).resolves.toBeDefined();
  });

  it('measures the size of larger keys', async () => {
    const { keyFile } = await generateServiceAccountKey({ modulusLength: 3072 });
    expect(parseServiceAccountKey(keyFile).modulusLength).toBe(3072);
  });

  it('rejects the example key of the reference document as malformed', () => {
    const error = expectKeyFileError(
      referenceExampleKeyFile(),
      'ERR_KEY_FILE_MALFORMED_KEY',
      'privateKey',
    );
    expect(error.message).toMatch(/privateKey is not a well-formed PKCS#8 private key/);
    expect(error.message).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAxIBAQCQ');
  });

  it('rejects text that is not JSON without quoting it', () => {
    const error = expectKeyFileError(
      '{"privateKey": "-----BEGIN PRIVATE KEY-----\\nMIIE',
      'ERR_KEY_FILE_INVALID_JSON',
    );
    expect(error.message).not.toContain('MIIE');
    expectKeyFileError('[1,2]', 'ERR_KEY_FILE_INVALID_JSON');
    expectKeyFileError('null', 'ERR_KEY_FILE_INVALID_JSON');
  });

  it.each(['privateKey', 'keyId', 'serviceAccountId'] as const)('names a missing %s', (field) => {
    const { [field]: _dropped, ...rest } = good;
    const error = expectKeyFileError(rest, 'ERR_KEY_FILE_MISSING_FIELD', field);
    expect(error.message).toContain(field);
  });

  it.each([
    ['keyId', ''],
    ['serviceAccountId', 42],
    ['keyId', 'has space'],
    ['privateKey', '   '],
  ] as const)('names an invalid %s', (field, value) => {
    expectKeyFileError({ ...good, [field]: value }, 'ERR_KEY_FILE_INVALID_FIELD', field);
  });

  it('rejects a PKCS#1 RSA PRIVATE KEY as not PKCS#8', () => {
    const pkcs1 = good.privateKey.replaceAll('PRIVATE KEY', 'RSA PRIVATE KEY');
    expectKeyFileError({ ...good, privateKey: pkcs1 }, 'ERR_KEY_FILE_NOT_PKCS8', 'privateKey');
  });

  it('rejects an encrypted private key and a public key as not PKCS#8', () => {
    for (const label of ['ENCRYPTED PRIVATE KEY', 'PUBLIC KEY', 'CERTIFICATE']) {
      const other = good.privateKey.replaceAll('PRIVATE KEY', label);
      expectKeyFileError({ ...good, privateKey: other }, 'ERR_KEY_FILE_NOT_PKCS8');
    }
  });

  it('rejects an EC key as an unsupported key type', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
    ])) as CryptoKeyPair;
    const der = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
    const error = expectKeyFileError(
      { ...good, privateKey: pem('PRIVATE KEY', der) },
      'ERR_KEY_FILE_UNSUPPORTED_KEY_TYPE',
    );
    expect(error.message).toContain('EC');
    expectKeyFileError(
      { ...good, privateKey: pem('EC PRIVATE KEY', der) },
      'ERR_KEY_FILE_UNSUPPORTED_KEY_TYPE',
    );
  });

  it('rejects an Ed25519 key as an unsupported key type', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, [
      'sign',
    ])) as CryptoKeyPair;
    const der = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
    const error = expectKeyFileError(
      { ...good, privateKey: pem('PRIVATE KEY', der) },
      'ERR_KEY_FILE_UNSUPPORTED_KEY_TYPE',
    );
    expect(error.message).toContain('Ed25519');
  });

  it('rejects a 1024-bit key as weak', async () => {
    const { keyFile } = await generateServiceAccountKey({ modulusLength: 1024 });
    const error = expectKeyFileError(keyFile, 'ERR_KEY_FILE_WEAK_KEY', 'privateKey');
    expect(error.message).toContain('1024');
  });

  it.each([
    ['no PEM armour', (p: string) => p.replace(/-----[A-Z ]+-----/g, '')],
    ['mismatched armour', (p: string) => p.replace('END PRIVATE KEY', 'END PUBLIC KEY')],
    ['invalid base64', (p: string) => p.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!')],
    ['a truncated body', (p: string) => pem('PRIVATE KEY', pemBody(p).subarray(0, 600))],
    ['trailing bytes', (p: string) => pem('PRIVATE KEY', new Uint8Array([...pemBody(p), 0, 0]))],
    ['an empty body', () => '-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----'],
  ])('rejects %s as malformed', (_name, mutate) => {
    expectKeyFileError(
      { ...good, privateKey: mutate(good.privateKey) },
      'ERR_KEY_FILE_MALFORMED_KEY',
      'privateKey',
    );
  });

  it('never shows the private key through JSON, String or inspect', () => {
    const key = parseServiceAccountKey(good);
    const body = pemBody(good.privateKey);
    const secretFragment = good.privateKey.split('\n')[3] ?? '';
    expect(secretFragment.length).toBeGreaterThan(40);
    for (const text of [
      JSON.stringify(key),
      String(key),
      inspect(key, { depth: 10, showHidden: true }),
      JSON.stringify({ nested: key }),
      `${key}`,
    ]) {
      expect(text).not.toContain(secretFragment);
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).toContain(good.keyId);
    }
    expect(JSON.parse(JSON.stringify(key)).privateKey).toBe('[redacted]');
    expect(body.length).toBeGreaterThan(1000);
  });
});
