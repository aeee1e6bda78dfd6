// Pins what the encrypted cache refuses (what is not a cache, missing options, entries that are
// not base64url or whose sealed contents or dates have the wrong shape, invalid UTF-8), that it
// does no crypto for an entry too short to decrypt, that a failed key derivation is tried again,
// that the key cannot be exported, what singleFlight answers, and the 10,000-key limit of its
// history and of its memo of opened entries. Found by mutation testing (`pnpm mutation`).
//
// Entries with odd contents are sealed here independently, with node:crypto, as the cache
// documents: key = HKDF-SHA-256(secret, salt 'drillster-auth/encrypted-token-cache/v1', info,
// 32 bytes); AES-256-GCM; AAD = the JSON of ['enc1.', cache key, expiresAt, issuedAt];
// accessToken = 'enc1.' + base64url(iv ‖ ciphertext ‖ tag).
import { createCipheriv, hkdfSync } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { ConfigurationError } from '../src/errors.js';
import type { CachedToken, TokenCache } from '../src/index.js';

/**
 * The module under test, imported inside each test rather than at the top of the file: the
 * module makes its UTF-8 decoder when it loads, and a failure there must fail a test (which
 * mutation testing counts), not only the loading of the file.
 */
const load = () => import('../src/cache/encrypted.js');

const SECRET = 'correct horse battery staple, twice';
const KEY = 'drillster-auth:v1:https://example.test/token|client|sa|kid|user-42';
const SALT = 'drillster-auth/encrypted-token-cache/v1';
const INFO = 'drillster-auth token cache v1';
const ISSUED = 1_893_452_400_000;
const EXPIRES = ISSUED + 3_600_000;
/** The IV of encrypted-cache.test.ts's known-answer vector: 00 01 … 0b. */
const IV = Uint8Array.from({ length: 12 }, (_, i) => i);
/** How many keys the cache keeps a history and a memo for. */
const REMEMBERED = 10_000;
/**
 * For the tests that store 10,000 entries: about a second on an idle machine, and many times
 * that on the shared 2-core one while mutation testing runs.
 */
const FILL_TIMEOUT = 60_000;

function clear(overrides: Partial<CachedToken> = {}): CachedToken {
  return {
    accessToken: 'eyJhbGciOiJSUzI1NiJ9.the-secret-access-token.signature',
    expiresAt: EXPIRES,
    issuedAt: ISSUED,
    subject: 'managed-user-7391',
    ...overrides,
  };
}

/** The base64url of an entry: its accessToken after `enc1.`. */
const bodyOf = (entry: CachedToken) => entry.accessToken.slice('enc1.'.length);

/** The JSON the cache seals for `token`. */
const secretsOf = (token: CachedToken) =>
  JSON.stringify({ accessToken: token.accessToken, subject: token.subject });

/** An entry for KEY sealed with node:crypto, as the cache documents; `plaintext` as given. */
function seal(
  plaintext: string | Uint8Array,
  { expiresAt = EXPIRES as unknown, issuedAt = ISSUED as unknown } = {},
): CachedToken {
  const key = Buffer.from(hkdfSync('sha256', SECRET, SALT, INFO, 32));
  const cipher = createCipheriv('aes-256-gcm', key, IV);
  cipher.setAAD(Buffer.from(JSON.stringify(['enc1.', KEY, expiresAt, issuedAt])));
  const body = Buffer.concat([IV, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return {
    accessToken: `enc1.${body.toString('base64url')}`,
    expiresAt,
    issuedAt,
    subject: '',
  } as CachedToken;
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

/** What a fresh cache (no history, nothing remembered) reads when the store holds `entry` at KEY. */
async function readFresh(entry: unknown): Promise<CachedToken | undefined> {
  const { createEncryptedTokenCache } = await load();
  const store = rawStore();
  store.entries.set(KEY, entry as CachedToken);
  return createEncryptedTokenCache(store, { secret: SECRET }).get(KEY);
}

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

describe('the independent sealing', () => {
  it("gives encrypted-cache.test.ts's known-answer vector, and the cache reads what it seals", async () => {
    const entry = seal(secretsOf(clear()));
    expect(entry.accessToken).toBe(
      'enc1.AAECAwQFBgcICQoLY6wDqQu37m-E7Wm2oVROYBG-yzYHMFzVj7Yt69UKqRXn_eAThryCLCQlGlOD7N8hEJ2VXLMIUUyYsCS1Vy0_JmAUiICCssNQFmc9p2lPQcrmHe4eDpUVe7Zwl5-CsEcP89zbBxk9SD9MRf0R776CQrgGad95Lw',
    );
    expect(await readFresh(entry)).toEqual(clear());
  });
});

describe('options', () => {
  it('refuses an inner cache that is missing, not an object, or lacks get, set or delete, naming them', async () => {
    const { createEncryptedTokenCache } = await load();
    const get = () => undefined;
    const set = () => undefined;
    const del = () => undefined;
    const notCaches: unknown[] = [
      null,
      undefined,
      'a cache',
      42,
      { set, delete: del },
      { get, delete: del },
      { get, set },
      { get: 'get', set, delete: del },
    ];
    for (const inner of notCaches) {
      expect(
        refusal(() => createEncryptedTokenCache(inner as TokenCache, { secret: SECRET })).message,
      ).toBe('createEncryptedTokenCache needs a TokenCache with get, set and delete');
    }
    expect(createEncryptedTokenCache({ get, set, delete: del }, { secret: SECRET })).toBeDefined();
  });

  it('refuses missing options as a missing secret, not with a TypeError', async () => {
    const { createEncryptedTokenCache } = await load();
    expect(refusal(() => createEncryptedTokenCache(rawStore(), undefined as never)).message).toBe(
      'secret must be a string or a Uint8Array of at least 16 bytes',
    );
  });
});

describe('the key', () => {
  it('is derived again after a failed derivation, whose error passes through', async () => {
    const { createEncryptedTokenCache } = await load();
    const store = rawStore();
    const cache = createEncryptedTokenCache(store, { secret: SECRET });
    const failure = new Error('HKDF is not available');
    const derive = vi.spyOn(crypto.subtle, 'deriveKey').mockRejectedValueOnce(failure);
    try {
      await expect(cache.set(KEY, clear())).rejects.toBe(failure);
      await cache.set(KEY, clear());
      expect(derive).toHaveBeenCalledTimes(2);
    } finally {
      derive.mockRestore();
    }
    expect(await readFresh(store.entries.get(KEY))).toEqual(clear());
  });

  it('cannot be exported: an AES-256-GCM key for encrypt and decrypt only', async () => {
    const { createEncryptedTokenCache } = await load();
    const encrypt = vi.spyOn(crypto.subtle, 'encrypt');
    let key: CryptoKey;
    try {
      await createEncryptedTokenCache(rawStore(), { secret: SECRET }).set(KEY, clear());
      expect(encrypt).toHaveBeenCalledTimes(1);
      key = encrypt.mock.calls[0]![1];
    } finally {
      encrypt.mockRestore();
    }
    expect(key.extractable).toBe(false);
    expect(key.algorithm).toEqual({ name: 'AES-GCM', length: 256 });
    expect([...key.usages].sort()).toEqual(['decrypt', 'encrypt']);
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
  });
});

describe('entries that read as a miss', () => {
  it('a missing or null entry, also for a key whose last entry it remembers', async () => {
    const { createEncryptedTokenCache } = await load();
    const store = rawStore();
    const cache = createEncryptedTokenCache(store, { secret: SECRET });
    await cache.set(KEY, clear());
    const entry = store.entries.get(KEY)!;
    // Expired in the inner cache, or deleted there by another process.
    store.entries.delete(KEY);
    expect(await cache.get(KEY)).toBeUndefined();
    store.entries.set(KEY, null as never);
    expect(await cache.get(KEY)).toBeUndefined();
    store.entries.set(KEY, entry);
    expect(await cache.get(KEY)).toEqual(clear());
  });

  it('an accessToken that is not a string, or a sealed body under another prefix', async () => {
    const entry = seal(secretsOf(clear()));
    expect(await readFresh(entry)).toEqual(clear());
    expect(await readFresh({ ...entry, accessToken: 42 })).toBeUndefined();
    expect(await readFresh({ ...entry, accessToken: ['enc1.'] })).toBeUndefined();
    expect(await readFresh({ ...entry, accessToken: `enc2.${bodyOf(entry)}` })).toBeUndefined();
    expect(await readFresh({ ...entry, accessToken: `AAAAA${bodyOf(entry)}` })).toBeUndefined();
  });

  it('an authentic entry whose expiresAt or issuedAt is not a number', async () => {
    const secrets = secretsOf(clear());
    expect(await readFresh(seal(secrets, { expiresAt: String(EXPIRES) }))).toBeUndefined();
    expect(await readFresh(seal(secrets, { issuedAt: String(ISSUED) }))).toBeUndefined();
    expect(await readFresh(seal(secrets, { expiresAt: null }))).toBeUndefined();
    expect(await readFresh(seal(secrets))).toEqual(clear());
  });

  it('an authentic entry whose sealed JSON lacks a string accessToken or subject', async () => {
    const sealed = [
      '{"subject":"managed-user-7391"}',
      '{"accessToken":"a.b.c"}',
      '{"accessToken":7,"subject":"managed-user-7391"}',
      '{"accessToken":"a.b.c","subject":7}',
      '{"accessToken":"a.b.c","subject":null}',
      'null',
      '"a.b.c"',
      '[]',
      'not JSON',
    ];
    for (const plaintext of sealed) {
      expect(await readFresh(seal(plaintext)), plaintext).toBeUndefined();
    }
    expect(await readFresh(seal('{"accessToken":"a.b.c","subject":"managed-user-7391"}'))).toEqual(
      clear({ accessToken: 'a.b.c' }),
    );
  });

  it('an authentic entry whose sealed bytes are not UTF-8', async () => {
    const invalid = Buffer.concat([
      Buffer.from('{"accessToken":"a.b'),
      Buffer.from([0xff]),
      Buffer.from('.c","subject":"managed-user-7391"}'),
    ]);
    expect(await readFresh(seal(invalid))).toBeUndefined();
    // UTF-8 itself reads, in full.
    const accented = clear({ subject: 'gebruiker-ëéü-€' });
    expect(await readFresh(seal(Buffer.from(secretsOf(accented), 'utf8')))).toEqual(accented);
  });
});

describe('only base64url', () => {
  const entry = seal(secretsOf(clear()));
  const body = bodyOf(entry);
  const withBody = (text: string) => ({ ...entry, accessToken: `enc1.${text}` });
  const replaced = (index: number, char: string) =>
    withBody(body.slice(0, index) + char + body.slice(index + 1));

  it('reads the entry itself', async () => {
    expect(await readFresh(entry)).toEqual(clear());
  });

  it('refuses {|}~ in place of the digits 0 to 3 (what a-z continued would give)', async () => {
    const index = body.search(/[0-3]/);
    expect(index).toBeGreaterThanOrEqual(0);
    // '0' is 52, as is the char code of '{' minus 71, the a-z offset.
    const past = String.fromCharCode(body.charCodeAt(index) + 75);
    expect('{|}~').toContain(past);
    expect(await readFresh(replaced(index, past))).toBeUndefined();
  });

  it("refuses base64's / in place of _", async () => {
    const index = body.indexOf('_');
    expect(index).toBeGreaterThanOrEqual(0);
    expect(await readFresh(replaced(index, '/'))).toBeUndefined();
  });

  it('refuses a character outside the alphabet in place of an A that starts a group of four', async () => {
    // A decoder that let an unknown character through as 64 would read it there exactly as an
    // A: the extra bit leaves its 12-bit window before a byte takes it. The IV starts with 0,
    // so the body starts with an A.
    expect(body[0]).toBe('A');
    for (const char of ['.', '!', ' ', '=']) {
      expect(await readFresh(replaced(0, char)), char).toBeUndefined();
    }
  });

  it('refuses a length of 4n + 1, one character past a whole entry', async () => {
    // A token length for which the sealed bytes fill whole groups of four characters.
    const token = [0, 1, 2]
      .map((pad) => clear({ accessToken: `${clear().accessToken}${'x'.repeat(pad)}` }))
      .find((candidate) => bodyOf(seal(secretsOf(candidate))).length % 4 === 0)!;
    const whole = seal(secretsOf(token));
    expect(bodyOf(whole).length % 4).toBe(0);
    expect(await readFresh(whole)).toEqual(token);
    for (const extra of ['A', 'w', '_']) {
      expect(
        await readFresh({ ...whole, accessToken: `${whole.accessToken}${extra}` }),
        extra,
      ).toBeUndefined();
    }
  });
});

describe('an entry too short to decrypt', () => {
  it('is a miss without deriving the key or decrypting', async () => {
    const { createEncryptedTokenCache } = await load();
    const store = rawStore();
    const cache = createEncryptedTokenCache(store, { secret: SECRET });
    const derive = vi.spyOn(crypto.subtle, 'deriveKey');
    const decrypt = vi.spyOn(crypto.subtle, 'decrypt');
    try {
      // Nothing, not base64url, and 12 bytes: an IV and nothing after it.
      for (const body of ['', '***', 'A'.repeat(16)]) {
        store.entries.set(KEY, { ...clear(), accessToken: `enc1.${body}`, subject: '' });
        expect(await cache.get(KEY), body).toBeUndefined();
      }
      expect(derive).not.toHaveBeenCalled();
      expect(decrypt).not.toHaveBeenCalled();
      // 13 bytes are tried (and fail authentication).
      store.entries.set(KEY, { ...clear(), accessToken: `enc1.${'A'.repeat(18)}`, subject: '' });
      expect(await cache.get(KEY)).toBeUndefined();
      expect(derive).toHaveBeenCalledTimes(1);
      expect(decrypt).toHaveBeenCalledTimes(1);
    } finally {
      derive.mockRestore();
      decrypt.mockRestore();
    }
  });
});

describe('singleFlight', () => {
  it('answers with the very token it minted, without decrypting it', async () => {
    const { createEncryptedTokenCache } = await load();
    const store = rawStore();
    // A store whose single flight is won by this process: it mints and answers with that.
    const inner: TokenCache = { ...store, singleFlight: async (_key, mint) => mint() };
    const cache = createEncryptedTokenCache(inner, { secret: SECRET });
    const minted = clear();
    const decrypt = vi.spyOn(crypto.subtle, 'decrypt');
    try {
      const result = await cache.singleFlight!(
        KEY,
        async () => {
          await cache.set(KEY, minted);
          return minted;
        },
        {},
      );
      // The client tells its own token from another process's by identity (shared-cache.ts).
      expect(result).toBe(minted);
      expect(decrypt).not.toHaveBeenCalled();
    } finally {
      decrypt.mockRestore();
    }
  });

  it('answers with the entry the store settled on, though this process minted too', async () => {
    const { createEncryptedTokenCache } = await load();
    const store = rawStore();
    const theirs = clear({ accessToken: 'their-token', issuedAt: ISSUED + 1 });
    const otherProcess = createEncryptedTokenCache(store, { secret: SECRET });
    const inner: TokenCache = {
      ...store,
      // This process mints, but another one's token is what the store keeps and answers.
      singleFlight: async (key, mint) => {
        await mint();
        await otherProcess.set(key, theirs);
        return store.entries.get(key)!;
      },
    };
    const cache = createEncryptedTokenCache(inner, { secret: SECRET });
    const ours = clear({ accessToken: 'our-token' });
    const mint = vi.fn(async () => {
      await cache.set(KEY, ours);
      return ours;
    });
    expect(await cache.singleFlight!(KEY, mint, {})).toEqual(theirs);
    expect(mint).toHaveBeenCalledTimes(1);
  });
});

describe('the replaced-token history', () => {
  it('refuses a token older than one it stored, even one it stores itself afterwards', async () => {
    const { createEncryptedTokenCache } = await load();
    const store = rawStore();
    const cache = createEncryptedTokenCache(store, { secret: SECRET });
    const newer = clear({ accessToken: 'newer-token' });
    await cache.set(KEY, newer);
    const newerEntry = store.entries.get(KEY)!;
    // A slow mint that started before the newer one finishes last.
    await cache.set(KEY, clear({ accessToken: 'older-token', issuedAt: ISSUED - 1_000 }));
    expect(await cache.get(KEY)).toBeUndefined();
    store.entries.set(KEY, newerEntry);
    expect(await cache.get(KEY)).toEqual(newer);
  });

  it(
    'is kept for 10,000 keys, and the key updated longest ago is forgotten first',
    async () => {
      const { createEncryptedTokenCache } = await load();
      const store = rawStore();
      const cache = createEncryptedTokenCache(store, { secret: SECRET });
      const older = clear({ accessToken: 'older-token', issuedAt: ISSUED - 1_000 });
      const newer = clear({ accessToken: 'newer-token' });
      await cache.set('A', older);
      const olderA = store.entries.get('A')!;
      await cache.set('A', newer);
      const newerA = store.entries.get('A')!;
      await cache.set('K1', older);
      const olderK1 = store.entries.get('K1')!;
      await cache.set('K1', newer);
      for (let i = 2; i < REMEMBERED; i++) await cache.set(`K${i}`, newer);

      // 10,000 keys: A's history is still there.
      store.entries.set('A', olderA);
      expect(await cache.get('A')).toBeUndefined();
      // Reading A's current token again updates nothing: A stays the key updated longest ago.
      store.entries.set('A', newerA);
      expect(await cache.get('A')).toEqual(newer);

      // The 10,001st key: A, and only A, is forgotten.
      await cache.set(`K${REMEMBERED}`, newer);
      store.entries.set('K1', olderK1);
      expect(await cache.get('K1')).toBeUndefined();
      store.entries.set('A', olderA);
      expect(await cache.get('A')).toEqual(older);
    },
    FILL_TIMEOUT,
  );

  it('is not pushed out by deleting keys it has no history for', async () => {
    const { createEncryptedTokenCache } = await load();
    const store = rawStore();
    const cache = createEncryptedTokenCache(store, { secret: SECRET });
    await cache.set(KEY, clear({ accessToken: 'older-token', issuedAt: ISSUED - 1_000 }));
    const olderEntry = store.entries.get(KEY)!;
    await cache.set(KEY, clear());
    for (let i = 0; i <= REMEMBERED; i++) await cache.delete(`never-stored-${i}`);
    store.entries.set(KEY, olderEntry);
    expect(await cache.get(KEY)).toBeUndefined();
  });
});

describe('the memo of opened entries', () => {
  it(
    'is kept for 10,000 keys, and the key updated longest ago is decrypted again first',
    async () => {
      const { createEncryptedTokenCache } = await load();
      const store = rawStore();
      const cache = createEncryptedTokenCache(store, { secret: SECRET });
      const token = clear();
      await cache.set('A', token);
      for (let i = 1; i < REMEMBERED; i++) await cache.set(`K${i}`, token);
      const decrypt = vi.spyOn(crypto.subtle, 'decrypt');
      try {
        // 10,000 keys: what it wrote for A reads from memory.
        expect(await cache.get('A')).toEqual(token);
        expect(decrypt).not.toHaveBeenCalled();
        // The 10,001st key: A, and only A, must be decrypted again.
        await cache.set(`K${REMEMBERED}`, token);
        expect(await cache.get('K1')).toEqual(token);
        expect(decrypt).not.toHaveBeenCalled();
        expect(await cache.get('A')).toEqual(token);
        expect(decrypt).toHaveBeenCalledTimes(1);
      } finally {
        decrypt.mockRestore();
      }
    },
    FILL_TIMEOUT,
  );
});
