import { generateServiceAccountKey } from '@drillster-auth/testing';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  importSigningKey,
  KeyFileError,
  MAX_ASSERTION_LIFETIME,
  parseServiceAccountKey,
  type ServiceAccountKey,
  signAssertion,
} from '../src/index.js';
import { pemBody } from './helpers.js';

const audience = 'https://www.drillster.com/daas/oauth/token';
let key: ServiceAccountKey;
let publicKey: CryptoKey;

beforeAll(async () => {
  const generated = await generateServiceAccountKey();
  key = parseServiceAccountKey(generated.keyFile);
  publicKey = generated.publicKey;
});

describe('signAssertion', () => {
  it('signs RS256 with the header and claims RFC 7523 and Drillster ask for', async () => {
    const now = Date.UTC(2026, 10, 23, 12, 0, 0);
    const jwt = await signAssertion(key, { audience, now });
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'RS256', typ: 'JWT', kid: key.keyId });
    const { payload } = await jwtVerify(jwt, publicKey, {
      algorithms: ['RS256'],
      currentDate: new Date(now),
      audience,
      issuer: key.serviceAccountId,
      subject: key.serviceAccountId,
    });
    expect(payload.iat).toBe(now / 1000);
    expect(payload.exp).toBe(now / 1000 + 300);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('puts a managed user, an email or a third-party id in sub', async () => {
    for (const subject of [
      'WHrkrOC0SDqf6V3WaTknZQ',
      'ann@example.com',
      'crm:4711',
      'zoë+ü/?&=@example.com',
    ]) {
      const jwt = await signAssertion(key, { audience, subject });
      const { payload } = await jwtVerify(jwt, publicKey, { audience });
      expect(payload.sub).toBe(subject);
      expect(payload.iss).toBe(key.serviceAccountId);
    }
  });

  it('encodes claims of every length modulo 3 as base64url that jose reads back', async () => {
    for (const subject of ['a', 'ab', 'abc', 'abcd', '~~~>>>???', 'ÿ']) {
      const jwt = await signAssertion(key, { audience, subject });
      expect(jwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      const { payload } = await jwtVerify(jwt, publicKey, { audience });
      expect(payload.sub).toBe(subject);
    }
  });

  it('honours the lifetime and never exceeds Drillster’s hour in the default', async () => {
    const jwt = await signAssertion(key, { audience, lifetime: MAX_ASSERTION_LIFETIME, now: 0 });
    const { payload } = await jwtVerify(jwt, publicKey, { currentDate: new Date(0) });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('uses a new jti for every assertion', async () => {
    const ids = new Set<unknown>();
    for (let i = 0; i < 20; i++) {
      const { payload } = await jwtVerify(await signAssertion(key, { audience }), publicKey);
      ids.add(payload.jti);
    }
    expect(ids.size).toBe(20);
  });

  it('imports the CryptoKey once per key and reuses it', async () => {
    const first = importSigningKey(key);
    expect(importSigningKey(key)).toBe(first);
    const cryptoKey = await first;
    expect(cryptoKey.extractable).toBe(false);
    expect(cryptoKey.algorithm.name).toBe('RSASSA-PKCS1-v1_5');
  });

  it('fails with KeyFileError ERR_KEY_FILE_MALFORMED_KEY when WebCrypto refuses the key, quoting nothing, and tries again next time', async () => {
    const { keyFile } = await generateServiceAccountKey();
    const der = pemBody(keyFile.privateKey);
    // rsaEncryption's parameters must be NULL (05 00). The parser reads the OID only, so an empty
    // INTEGER there passes it; WebCrypto's own parser refuses it.
    expect([der[20], der[21]]).toEqual([0x05, 0x00]);
    der[20] = 0x02;
    const privateKey = `-----BEGIN PRIVATE KEY-----\n${btoa(String.fromCharCode(...der))}\n-----END PRIVATE KEY-----`;
    const refused = parseServiceAccountKey({ ...keyFile, privateKey });
    const first = importSigningKey(refused);
    const error = await first.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyFileError);
    expect(error).toMatchObject({ code: 'ERR_KEY_FILE_MALFORMED_KEY', field: 'privateKey' });
    const cause = (error as KeyFileError).cause as Error;
    expect(cause.message).toBe(`WebCrypto import failed (${cause.name})`);
    expect(cause.cause).toBeUndefined();
    expect(importSigningKey(refused)).not.toBe(first);
    await expect(signAssertion(refused, { audience })).rejects.toMatchObject({
      code: 'ERR_KEY_FILE_MALFORMED_KEY',
    });
  });
});
