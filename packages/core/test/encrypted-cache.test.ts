import { describe, expect, it } from 'vitest';
import {
  type CachedToken,
  ConfigurationError,
  createEncryptedTokenCache,
  MemoryTokenCache,
  type TokenCache,
} from '../src/index.js';

const SECRET = 'correct horse battery staple, twice';
const KEY = 'drillster-auth:v1:https://example.test/token|client|sa|kid|user-42';

function token(overrides: Partial<CachedToken> = {}): CachedToken {
  const now = Date.now();
  return {
    accessToken: 'eyJhbGciOiJSUzI1NiJ9.the-secret-access-token.signature',
    expiresAt: now + 3_600_000,
    issuedAt: now,
    subject: 'managed-user-7391',
    ...overrides,
  };
}

/** A store that keeps exactly what it is given, so tests can read and alter the stored form. */
function rawStore(): TokenCache & { entries: Map<string, CachedToken> } {
  const entries = new Map<string, CachedToken>();
  return {
    entries,
    get: (key) => entries.get(key),
    set: (key, value) => {
      entries.set(key, value);
    },
    delete: (key) => {
      entries.delete(key);
    },
  };
}

function flipByte(accessToken: string, index: number): string {
  const body = accessToken.slice('enc1.'.length);
  const bytes = Uint8Array.from(atob(body.replaceAll('-', '+').replaceAll('_', '/')), (c) =>
    c.charCodeAt(0),
  );
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  const binary = String.fromCharCode(...bytes);
  return `enc1.${btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}`;
}

describe('createEncryptedTokenCache', () => {
  it('round-trips a token through any store', async () => {
    const cache = createEncryptedTokenCache(new MemoryTokenCache(), { secret: SECRET });
    const original = token();
    await cache.set(KEY, original);
    expect(await cache.get(KEY)).toEqual(original);
    await cache.delete(KEY);
    expect(await cache.get(KEY)).toBeUndefined();
  });

  it('stores a valid CachedToken whose ciphertext hides the token and the subject', async () => {
    const store = rawStore();
    const cache = createEncryptedTokenCache(store, { secret: SECRET });
    const original = token();
    await cache.set(KEY, original);
    const stored = store.entries.get(KEY)!;
    expect(stored.accessToken).toMatch(/^enc1\.[A-Za-z0-9_-]+$/);
    expect(stored.subject).toBe('');
    expect(stored.expiresAt).toBe(original.expiresAt);
    expect(stored.issuedAt).toBe(original.issuedAt);
    const everything = JSON.stringify(stored);
    expect(everything).not.toContain('the-secret-access-token');
    expect(everything).not.toContain(original.accessToken);
    expect(everything).not.toContain('managed-user-7391');
    const decoded = atob(stored.accessToken.slice(5).replaceAll('-', '+').replaceAll('_', '/'));
    expect(decoded).not.toContain('the-secret-access-token');
    expect(decoded).not.toContain('managed-user-7391');
  });

  it('uses a fresh IV for every entry', async () => {
    const store = rawStore();
    const cache = createEncryptedTokenCache(store, { secret: SECRET });
    const original = token();
    await cache.set(KEY, original);
    const first = store.entries.get(KEY)!.accessToken;
    await cache.set(KEY, original);
    expect(store.entries.get(KEY)!.accessToken).not.toBe(first);
  });

  it('reads entries written with another secret or info as a miss', async () => {
    const store = rawStore();
    await createEncryptedTokenCache(store, { secret: SECRET }).set(KEY, token());
    expect(
      await createEncryptedTokenCache(store, { secret: `${SECRET}!` }).get(KEY),
    ).toBeUndefined();
    expect(
      await createEncryptedTokenCache(store, { secret: SECRET, info: 'another use' }).get(KEY),
    ).toBeUndefined();
    const bytes = new TextEncoder().encode(SECRET);
    expect(await createEncryptedTokenCache(store, { secret: bytes }).get(KEY)).toBeDefined();
  });

  it('reads a tampered entry as a miss', async () => {
    const store = rawStore();
    const cache = createEncryptedTokenCache(store, { secret: SECRET });
    await cache.set(KEY, token());
    const stored = store.entries.get(KEY)!;
    for (const index of [0, 11, 12, 20, 40]) {
      store.entries.set(KEY, { ...stored, accessToken: flipByte(stored.accessToken, index) });
      expect(await cache.get(KEY)).toBeUndefined();
    }
    store.entries.set(KEY, stored);
    expect(await cache.get(KEY)).toBeDefined();
  });

  it('reads an entry moved to another key as a miss', async () => {
    const store = rawStore();
    const cache = createEncryptedTokenCache(store, { secret: SECRET });
    await cache.set(KEY, token());
    store.entries.set(`${KEY}-other`, store.entries.get(KEY)!);
    expect(await cache.get(`${KEY}-other`)).toBeUndefined();
    expect(await cache.get(KEY)).toBeDefined();
  });

  it('reads an entry with an altered expiresAt or issuedAt as a miss', async () => {
    const store = rawStore();
    const cache = createEncryptedTokenCache(store, { secret: SECRET });
    await cache.set(KEY, token());
    const stored = store.entries.get(KEY)!;
    store.entries.set(KEY, { ...stored, expiresAt: stored.expiresAt + 86_400_000 });
    expect(await cache.get(KEY)).toBeUndefined();
    store.entries.set(KEY, { ...stored, issuedAt: stored.issuedAt - 1 });
    expect(await cache.get(KEY)).toBeUndefined();
  });

  it('reads garbage as a miss, never as an error', async () => {
    const store = rawStore();
    const cache = createEncryptedTokenCache(store, { secret: SECRET });
    const now = Date.now();
    const garbage: unknown[] = [
      null,
      'a string',
      42,
      [],
      {},
      token(),
      { ...token(), accessToken: 'enc1.' },
      { ...token(), accessToken: 'enc1.!!!not base64!!!' },
      { ...token(), accessToken: 'enc1.AAAA' },
      { ...token(), accessToken: `enc1.${'A'.repeat(64)}` },
      { accessToken: 'enc1.AAAAAAAAAAAAAAAAAAAAAAAAAAAA', expiresAt: 'soon', issuedAt: now },
    ];
    for (const entry of garbage) {
      store.entries.set(KEY, entry as CachedToken);
      await expect(cache.get(KEY)).resolves.toBeUndefined();
    }
  });

  it('passes errors of the store through', async () => {
    const failure = new Error('store is down');
    const cache = createEncryptedTokenCache(
      {
        get: () => Promise.reject(failure),
        set: () => Promise.reject(failure),
        delete: () => Promise.reject(failure),
      },
      { secret: SECRET },
    );
    await expect(cache.get(KEY)).rejects.toBe(failure);
    await expect(cache.set(KEY, token())).rejects.toBe(failure);
    await expect(cache.delete(KEY)).rejects.toBe(failure);
  });

  it('offers singleFlight only when the store does', () => {
    expect(createEncryptedTokenCache(rawStore(), { secret: SECRET }).singleFlight).toBeUndefined();
  });

  describe('singleFlight', () => {
    /** A store whose singleFlight either mints or answers with what is stored, like a shared store. */
    function flightStore() {
      const store = rawStore();
      const calls: { key: string; signal: AbortSignal | undefined }[] = [];
      const minted: CachedToken[] = [];
      const cache: TokenCache = {
        ...store,
        async singleFlight(key, mint, options) {
          calls.push({ key, signal: options.signal });
          const existing = store.entries.get(key);
          if (existing) return existing;
          const result = await mint();
          minted.push(result);
          return result;
        },
      };
      return { store, cache, calls, minted };
    }

    it('lets the store see the encrypted form and answers in clear', async () => {
      const { store, cache: inner, calls, minted } = flightStore();
      const cache = createEncryptedTokenCache(inner, { secret: SECRET });
      const original = token();
      const signal = new AbortController().signal;
      let mints = 0;
      const result = await cache.singleFlight!(
        KEY,
        async () => {
          mints++;
          await cache.set(KEY, original);
          return original;
        },
        { signal },
      );
      expect(result).toEqual(original);
      expect(mints).toBe(1);
      expect(calls).toEqual([{ key: KEY, signal }]);
      expect(minted[0]!.accessToken).toMatch(/^enc1\./);
      expect(JSON.stringify(minted)).not.toContain('the-secret-access-token');
      expect(store.entries.get(KEY)!.accessToken).toMatch(/^enc1\./);
    });

    it('decrypts a token another process stored', async () => {
      const { cache: inner } = flightStore();
      const original = token();
      await createEncryptedTokenCache(inner, { secret: SECRET }).set(KEY, original);
      const cache = createEncryptedTokenCache(inner, { secret: SECRET });
      let mints = 0;
      const result = await cache.singleFlight!(
        KEY,
        async () => {
          mints++;
          return token({ accessToken: 'not this one' });
        },
        {},
      );
      expect(result).toEqual(original);
      expect(mints).toBe(0);
    });

    it('mints when the stored token does not decrypt', async () => {
      const { cache: inner } = flightStore();
      await createEncryptedTokenCache(inner, { secret: `${SECRET}, other` }).set(KEY, token());
      const cache = createEncryptedTokenCache(inner, { secret: SECRET });
      const fresh = token({ accessToken: 'fresh' });
      let mints = 0;
      const result = await cache.singleFlight!(
        KEY,
        async () => {
          mints++;
          return fresh;
        },
        {},
      );
      expect(result).toEqual(fresh);
      expect(mints).toBe(1);
    });
  });

  it('rejects short secrets without echoing them', () => {
    for (const secret of ['fifteen-chars!!', new Uint8Array(15), '', undefined, 42]) {
      let thrown: unknown;
      try {
        createEncryptedTokenCache(new MemoryTokenCache(), { secret } as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigurationError);
      expect((thrown as ConfigurationError).code).toBe('ERR_INVALID_OPTIONS');
      expect((thrown as Error).message).not.toContain('fifteen');
    }
    expect(() =>
      createEncryptedTokenCache(new MemoryTokenCache(), { secret: 'sixteen-chars!!!' }),
    ).not.toThrow();
  });

  it('rejects something that is not a cache', () => {
    expect(() => createEncryptedTokenCache({} as never, { secret: SECRET })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    );
  });
});
