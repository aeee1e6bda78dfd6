import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type CachedToken,
  ConfigurationError,
  createEncryptedTokenCache,
  MemoryTokenCache,
  type TokenCache,
} from '../src/index.js';
import { type Fixture, startFixture } from './server.js';

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
      { ...token(), accessToken: `enc1.${'A'.repeat(40)}é${'A'.repeat(3)}` },
      { ...token(), accessToken: `enc1.${'A'.repeat(40)}+/==` },
      { ...token(), accessToken: `enc1.${'A'.repeat(41)}` },
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

  describe('reading an entry again', () => {
    /** Counts WebCrypto decryptions from here on. */
    function decryptions() {
      return vi.spyOn(crypto.subtle, 'decrypt');
    }

    it('decrypts an entry once, and answers the same entry again from memory', async () => {
      const store = rawStore();
      const writer = createEncryptedTokenCache(store, { secret: SECRET });
      const cache = createEncryptedTokenCache(store, { secret: SECRET });
      const original = token();
      await writer.set(KEY, original);
      const decrypt = decryptions();
      try {
        expect(await cache.get(KEY)).toEqual(original);
        expect(decrypt).toHaveBeenCalledTimes(1);
        for (let i = 0; i < 3; i++) expect(await cache.get(KEY)).toEqual(original);
        // What this cache wrote itself needs no decryption either.
        expect(await writer.get(KEY)).toEqual(original);
        expect(decrypt).toHaveBeenCalledTimes(1);
        // A new token under the same key is decrypted.
        const next = token({ accessToken: 'next-token', issuedAt: original.issuedAt + 1 });
        await writer.set(KEY, next);
        expect(await cache.get(KEY)).toEqual(next);
        expect(decrypt).toHaveBeenCalledTimes(2);
      } finally {
        decrypt.mockRestore();
      }
    });

    it('reads a tampered, moved or re-dated entry under the same key as a miss', async () => {
      const store = rawStore();
      const cache = createEncryptedTokenCache(store, { secret: SECRET });
      const original = token();
      await createEncryptedTokenCache(store, { secret: SECRET }).set(KEY, original);
      expect(await cache.get(KEY)).toEqual(original);
      const stored = store.entries.get(KEY)!;
      const decrypt = decryptions();
      try {
        const altered: CachedToken[] = [
          { ...stored, accessToken: flipByte(stored.accessToken, 20) },
          { ...stored, accessToken: flipByte(stored.accessToken, 5) },
          { ...stored, expiresAt: stored.expiresAt + 1 },
          { ...stored, issuedAt: stored.issuedAt + 1 },
          { ...stored, accessToken: `${stored.accessToken}AA` },
        ];
        for (const entry of altered) {
          store.entries.set(KEY, entry);
          expect(await cache.get(KEY)).toBeUndefined();
        }
        expect(decrypt).toHaveBeenCalledTimes(altered.length);
        // The entry read before, under another key, is still bound to its own key.
        store.entries.set(`${KEY}-other`, stored);
        expect(await cache.get(`${KEY}-other`)).toBeUndefined();
        store.entries.set(KEY, stored);
        expect(await cache.get(KEY)).toEqual(original);
      } finally {
        decrypt.mockRestore();
      }
    });

    it('still refuses a replaced token it read before', async () => {
      const store = rawStore();
      const cache = createEncryptedTokenCache(store, { secret: SECRET });
      const other = createEncryptedTokenCache(store, { secret: SECRET });
      const older = token({ accessToken: 'older-token', issuedAt: Date.now() - 60_000 });
      await other.set(KEY, older);
      const olderEntry = store.entries.get(KEY)!;
      expect(await cache.get(KEY)).toEqual(older);
      expect(await cache.get(KEY)).toEqual(older);
      // This process replaces it; a slow process writes the older entry back.
      await cache.set(KEY, token({ accessToken: 'newer-token' }));
      store.entries.set(KEY, olderEntry);
      expect(await cache.get(KEY)).toBeUndefined();

      // Read, invalidated, written back: refused too.
      const revoked = token({ accessToken: 'revoked-token', issuedAt: Date.now() + 1_000 });
      await other.set(KEY, revoked);
      const revokedEntry = store.entries.get(KEY)!;
      expect(await cache.get(KEY)).toEqual(revoked);
      await cache.delete(KEY);
      store.entries.set(KEY, revokedEntry);
      expect(await cache.get(KEY)).toBeUndefined();
    });

    it('hands every caller its own copy of a token', async () => {
      const store = rawStore();
      const cache = createEncryptedTokenCache(store, { secret: SECRET });
      const original = token();
      await cache.set(KEY, original);
      const first = (await cache.get(KEY))!;
      first.accessToken = 'changed by a caller';
      first.subject = 'someone else';
      expect(await cache.get(KEY)).toEqual(original);
    });
  });

  describe('a replaced token is never served again', () => {
    it('refuses an older entry written back after a newer one', async () => {
      const store = rawStore();
      const cache = createEncryptedTokenCache(store, { secret: SECRET });
      const older = token({ accessToken: 'older-token', issuedAt: Date.now() - 60_000 });
      await cache.set(KEY, older);
      const olderEntry = store.entries.get(KEY)!;
      const newer = token({ accessToken: 'newer-token' });
      await cache.set(KEY, newer);
      // A slow process, or a command that timed out and ran later, writes the old entry back.
      store.entries.set(KEY, olderEntry);
      expect(await cache.get(KEY)).toBeUndefined();
      await cache.set(KEY, newer);
      expect(await cache.get(KEY)).toEqual(newer);
    });

    it('refuses the invalidated entry written back after delete', async () => {
      const store = rawStore();
      const cache = createEncryptedTokenCache(store, { secret: SECRET });
      const revoked = token({ accessToken: 'revoked-token' });
      // Another process stored it; this one read and served it.
      await createEncryptedTokenCache(store, { secret: SECRET }).set(KEY, revoked);
      const entry = store.entries.get(KEY)!;
      expect(await cache.get(KEY)).toEqual(revoked);
      await cache.delete(KEY);
      store.entries.set(KEY, entry);
      expect(await cache.get(KEY)).toBeUndefined();
    });

    it('still serves newer tokens, from this process or another', async () => {
      const store = rawStore();
      const cache = createEncryptedTokenCache(store, { secret: SECRET });
      const other = createEncryptedTokenCache(store, { secret: SECRET });
      const now = Date.now();
      await cache.set(KEY, token({ accessToken: 'first', issuedAt: now - 2_000 }));
      expect((await cache.get(KEY))?.accessToken).toBe('first');
      await cache.delete(KEY);
      await other.set(KEY, token({ accessToken: 'second', issuedAt: now - 1_000 }));
      expect((await cache.get(KEY))?.accessToken).toBe('second');
      await other.set(KEY, token({ accessToken: 'third', issuedAt: now }));
      expect((await cache.get(KEY))?.accessToken).toBe('third');
      // Each key has its own history.
      await other.set(`${KEY}-other`, token({ accessToken: 'elsewhere', issuedAt: now - 5_000 }));
      expect((await cache.get(`${KEY}-other`))?.accessToken).toBe('elsewhere');
    });

    it('does not answer singleFlight with the entry it invalidated', async () => {
      const store = rawStore();
      const inner: TokenCache = {
        ...store,
        // Like a shared store whose other process wrote the old entry back just now.
        singleFlight: async (key, mint) => store.entries.get(key) ?? mint(),
      };
      const cache = createEncryptedTokenCache(inner, { secret: SECRET });
      await cache.set(KEY, token({ accessToken: 'revoked-token' }));
      const entry = store.entries.get(KEY)!;
      await cache.delete(KEY);
      store.entries.set(KEY, entry);
      const fresh = token({ accessToken: 'fresh-token' });
      const mint = vi.fn(async () => fresh);
      expect(await cache.singleFlight!(KEY, mint, {})).toEqual(fresh);
      expect(mint).toHaveBeenCalledTimes(1);
    });

    describe('through a client', () => {
      let fixture: Fixture;
      beforeAll(async () => {
        fixture = await startFixture();
      });
      afterAll(async () => {
        await fixture?.server.close();
      });

      it('gets a new token after invalidate, though the revoked one was written back', async () => {
        const store = rawStore();
        const auth = fixture.auth({ cache: createEncryptedTokenCache(store, { secret: SECRET }) });
        const revoked = await auth.getAccessToken();
        const [key, entry] = [...store.entries][0]!;
        // The API refused it (a 401): the axios adapter invalidates exactly this token.
        await auth.invalidate(undefined, { accessToken: revoked.accessToken });
        store.entries.set(key, entry);
        const next = await auth.getAccessToken();
        expect(next.accessToken).not.toBe(revoked.accessToken);
        expect(await fixture.server.mock.verifyAccessToken(next.accessToken)).toBeDefined();
        auth.close();
      });
    });
  });

  describe('known-answer vector', () => {
    // Computed independently with node:crypto (hkdfSync, createCipheriv('aes-256-gcm')): key =
    // HKDF-SHA-256(ikm = SECRET, salt = 'drillster-auth/encrypted-token-cache/v1',
    // info = 'drillster-auth token cache v1', 32 bytes); IV = 00 01 … 0b; AAD = the JSON of
    // ['enc1.', KEY, expiresAt, issuedAt]; plaintext = the JSON of { accessToken, subject }.
    const vector = {
      accessToken:
        'enc1.AAECAwQFBgcICQoLY6wDqQu37m-E7Wm2oVROYBG-yzYHMFzVj7Yt69UKqRXn_eAThryCLCQlGlOD7N8hEJ2VXLMIUUyYsCS1Vy0_JmAUiICCssNQFmc9p2lPQcrmHe4eDpUVe7Zwl5-CsEcP89zbBxk9SD9MRf0R776CQrgGad95Lw',
      expiresAt: 1_893_456_000_000,
      issuedAt: 1_893_452_400_000,
      subject: '',
    };
    const clear = {
      accessToken: 'eyJhbGciOiJSUzI1NiJ9.the-secret-access-token.signature',
      expiresAt: vector.expiresAt,
      issuedAt: vector.issuedAt,
      subject: 'managed-user-7391',
    };

    it('decrypts the vector', async () => {
      const store = rawStore();
      store.entries.set(KEY, vector);
      expect(await createEncryptedTokenCache(store, { secret: SECRET }).get(KEY)).toEqual(clear);
    });

    it('encrypts to the vector with that IV', async () => {
      const store = rawStore();
      const iv = vi.spyOn(crypto, 'getRandomValues').mockImplementation(<T>(array: T): T => {
        (array as Uint8Array).set(Uint8Array.from({ length: 12 }, (_, i) => i));
        return array;
      });
      try {
        await createEncryptedTokenCache(store, { secret: SECRET }).set(KEY, clear);
      } finally {
        iv.mockRestore();
      }
      expect(store.entries.get(KEY)).toEqual(vector);
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
