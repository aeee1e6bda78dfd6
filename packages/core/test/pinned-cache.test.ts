// Pins the edges of the cached-token checks, AccessToken's own description, and the encrypted
// cache's option checks (the secret copied when it is given, its length limit, info). Found by
// mutation testing (`pnpm mutation`).
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { authorizationHeader } from '../src/access-token.js';
import { isSaneCachedToken, parseCachedToken } from '../src/cache/serialize.js';
import {
  AccessToken,
  type CachedToken,
  ConfigurationError,
  createEncryptedTokenCache,
  MemoryTokenCache,
} from '../src/index.js';
import { denoInspect } from '../src/redact.js';

const token: CachedToken = { accessToken: 'a.b.c', expiresAt: 2000, issuedAt: 1000, subject: 'u' };

describe('isSaneCachedToken', () => {
  it('takes issuedAt 0 and a lifetime of exactly a day', () => {
    expect(isSaneCachedToken(token)).toBe(true);
    expect(isSaneCachedToken({ ...token, issuedAt: 0, expiresAt: 1 })).toBe(true);
    expect(isSaneCachedToken({ ...token, expiresAt: 1000 + 86_400_000 })).toBe(true);
  });

  it('refuses non-objects, a subject that is not a string, non-finite or missing times', () => {
    for (const value of [null, undefined, 'a.b.c', 42, []]) {
      expect(isSaneCachedToken(value)).toBe(false);
    }
    for (const fields of [
      { subject: 7 },
      { subject: undefined },
      { accessToken: 42 },
      { issuedAt: Number.NEGATIVE_INFINITY },
      { issuedAt: Number.NaN },
      { issuedAt: '1000' },
      { expiresAt: undefined },
      { expiresAt: 1000 + 86_400_001 },
      { issuedAt: -0.5, expiresAt: 10 },
    ]) {
      expect(isSaneCachedToken({ ...token, ...fields }), JSON.stringify(fields)).toBe(false);
    }
  });
});

describe('parseCachedToken', () => {
  it('reads only strings: an object that would stringify to a token is a miss', () => {
    const text = JSON.stringify(token);
    expect(parseCachedToken(text)).toEqual(token);
    expect(parseCachedToken({ toString: () => text })).toBeUndefined();
  });
});

describe('AccessToken', () => {
  it('describes itself by subject and expiry, the token redacted, and is frozen', () => {
    const access = new AccessToken('s3cr3t-token', Date.UTC(2026, 0, 1), 'user-1');
    expect(access.toJSON()).toEqual({
      accessToken: '[redacted]',
      tokenType: 'Bearer',
      expiresAt: Date.UTC(2026, 0, 1),
      subject: 'user-1',
    });
    const text = 'AccessToken(subject=user-1, expiresAt=2026-01-01T00:00:00.000Z)';
    expect(String(access)).toBe(text);
    expect(inspect(access)).toBe(text);
    const deno = (access as unknown as Record<symbol, () => string>)[denoInspect];
    expect(deno?.call(access)).toBe(text);
    expect(access.tokenType).toBe('Bearer');
    expect(authorizationHeader(access)).toBe('Bearer s3cr3t-token');
    expect(Object.isFrozen(access)).toBe(true);
  });
});

describe('createEncryptedTokenCache options', () => {
  const live: CachedToken = {
    accessToken: 'a.b.c',
    expiresAt: Date.now() + 3_600_000,
    issuedAt: Date.now(),
    subject: 'u',
  };
  function refusal(make: () => unknown): ConfigurationError {
    try {
      make();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).code).toBe('ERR_INVALID_OPTIONS');
      return error as ConfigurationError;
    }
    throw new Error('expected a ConfigurationError');
  }

  it('takes a secret of 16 bytes, refuses 15, and says how long it was', async () => {
    const inner = new MemoryTokenCache();
    const cache = createEncryptedTokenCache(inner, { secret: 'x'.repeat(16) });
    await cache.set('k', live);
    expect(await cache.get('k')).toEqual(live);
    expect(
      refusal(() => createEncryptedTokenCache(inner, { secret: 'x'.repeat(15) })).message,
    ).toBe('secret must be at least 16 bytes long, got 15');
    expect(
      refusal(() => createEncryptedTokenCache(inner, { secret: 42 as unknown as string })).message,
    ).toBe('secret must be a string or a Uint8Array of at least 16 bytes');
    expect(
      refusal(() =>
        createEncryptedTokenCache(inner, { secret: 'x'.repeat(16), info: 7 as unknown as string }),
      ).message,
    ).toBe('info must be a string');
    expect(
      refusal(() => createEncryptedTokenCache({ get() {} } as never, { secret: 'x'.repeat(16) }))
        .message,
    ).toBe('createEncryptedTokenCache needs a TokenCache with get, set and delete');
  });

  it('copies a Uint8Array secret: changing it afterwards changes nothing', async () => {
    const inner = new MemoryTokenCache();
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const original = Uint8Array.from(bytes);
    const writer = createEncryptedTokenCache(inner, { secret: bytes });
    bytes.fill(0);
    await writer.set('k', live);
    const reader = createEncryptedTokenCache(inner, { secret: original });
    expect(await reader.get('k')).toEqual(live);
  });

  it('uses the default info unless given another', async () => {
    const inner = new MemoryTokenCache();
    const secret = 'y'.repeat(20);
    await createEncryptedTokenCache(inner, { secret }).set('k', live);
    const explicit = createEncryptedTokenCache(inner, {
      secret,
      info: 'drillster-auth token cache v1',
    });
    expect(await explicit.get('k')).toEqual(live);
  });
});
