import { ConfigurationError } from '../errors.js';
import type { CachedToken, TokenCache } from './types.js';

/** Options of {@link createEncryptedTokenCache}. */
export interface EncryptedTokenCacheOptions {
  /**
   * Secret the encryption key is derived from (HKDF-SHA-256), at least 16 bytes (a string counts
   * its UTF-8 bytes). Use a long random value and give every process that shares the cache the
   * same one.
   */
  secret: string | Uint8Array;
  /** HKDF `info`: separates keys derived from one secret for different uses. Default `'drillster-auth token cache v1'`. */
  info?: string;
}

/**
 * HKDF salt. Fixed so that every process derives the same key from the same secret; versioned
 * so that a future format can derive a different key from the same secret.
 */
const SALT = 'drillster-auth/encrypted-token-cache/v1';
const DEFAULT_INFO = 'drillster-auth token cache v1';
/** Marks the format of `accessToken` in a stored entry: AES-256-GCM, 12-byte IV, key from HKDF. */
const FORMAT_PREFIX = 'enc1.';
const IV_LENGTH = 12;
const MIN_SECRET_LENGTH = 16;
/** Cache keys whose history is remembered; beyond it the least recently updated are forgotten. */
const MAX_REMEMBERED_KEYS = 10_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Wraps a {@link TokenCache} so that the inner cache only ever holds encrypted tokens (AES-256-GCM, key
 * derived from `secret` with HKDF-SHA-256). What the inner cache receives is still a {@link CachedToken}:
 * `expiresAt` and `issuedAt` stay readable so the inner cache can expire entries; the access token and
 * the subject travel encrypted in `accessToken` (`enc1.<base64url(iv ‖ ciphertext ‖ tag)>`) and
 * `subject` is empty. The cache key, `expiresAt` and `issuedAt` are authenticated, so an entry
 * copied to another key or given another expiry no longer decrypts.
 *
 * The key is derived once, on first use: HKDF-SHA-256 with `secret` as input key material, the
 * fixed salt `'drillster-auth/encrypted-token-cache/v1'` and `info`.
 *
 * An entry that does not decrypt (another secret, tampered, not encrypted at all) reads as a miss;
 * errors of the inner cache itself pass through, and the client reports them as `cache_error` events.
 *
 * A replaced token is never served again by this cache: `issuedAt`, which the ciphertext
 * authenticates, works as the entry's version. Once it has served or stored a token for a key,
 * it refuses entries for that key issued earlier, and after `delete` (what `invalidate` calls)
 * it refuses the deleted token too. So an older ciphertext written back (by a slow process, or
 * a cache command that timed out and ran later) reads as a miss and a new token is minted. The
 * history is kept in memory, per cache object, for the 10,000 most recently updated keys; a
 * token minted on a machine whose clock runs behind may thus be refused once, costing one
 * token request.
 *
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` when `inner` is not a cache or `secret` is shorter than 16 bytes.
 */
export function createEncryptedTokenCache(
  inner: TokenCache,
  options: EncryptedTokenCacheOptions,
): TokenCache {
  if (
    typeof inner !== 'object' ||
    inner === null ||
    typeof inner.get !== 'function' ||
    typeof inner.set !== 'function' ||
    typeof inner.delete !== 'function'
  ) {
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      'createEncryptedTokenCache needs a TokenCache with get, set and delete',
    );
  }
  const secret = secretBytes(options?.secret);
  const info = options.info ?? DEFAULT_INFO;
  if (typeof info !== 'string') {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'info must be a string');
  }

  let derived: Promise<CryptoKey> | undefined;
  const key = (): Promise<CryptoKey> => {
    derived ??= deriveKey(secret, info).catch((error: unknown) => {
      derived = undefined;
      throw error;
    });
    return derived;
  };

  /** Per cache key, the lowest `issuedAt` still served: entries issued earlier were replaced. */
  const floors = new Map<string, number>();
  const raiseFloor = (cacheKey: string, issuedAt: number): void => {
    const floor = floors.get(cacheKey);
    if (floor !== undefined && floor >= issuedAt) return;
    // Re-inserted at the end, so the keys forgotten first are the ones untouched longest.
    floors.delete(cacheKey);
    floors.set(cacheKey, issuedAt);
    if (floors.size > MAX_REMEMBERED_KEYS) floors.delete(floors.keys().next().value as string);
  };
  /** The token, if it is not one this cache has seen replaced; remembered as the newest then. */
  const current = (cacheKey: string, token: CachedToken | undefined): CachedToken | undefined => {
    if (token === undefined || token.issuedAt < (floors.get(cacheKey) ?? -Infinity)) {
      return undefined;
    }
    raiseFloor(cacheKey, token.issuedAt);
    return token;
  };

  const encrypt = async (cacheKey: string, token: CachedToken): Promise<CachedToken> => {
    const iv = crypto.getRandomValues(new Uint8Array(IV_LENGTH));
    const plaintext = encoder.encode(
      JSON.stringify({ accessToken: token.accessToken, subject: token.subject }),
    );
    const ciphertext = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: additionalData(cacheKey, token) },
      await key(),
      plaintext,
    );
    const sealed = new Uint8Array(IV_LENGTH + ciphertext.byteLength);
    sealed.set(iv);
    sealed.set(new Uint8Array(ciphertext), IV_LENGTH);
    return {
      accessToken: FORMAT_PREFIX + base64url(sealed),
      expiresAt: token.expiresAt,
      issuedAt: token.issuedAt,
      subject: '',
    };
  };

  const decrypt = async (cacheKey: string, stored: unknown): Promise<CachedToken | undefined> => {
    if (typeof stored !== 'object' || stored === null) return undefined;
    const { accessToken, expiresAt, issuedAt } = stored as Partial<CachedToken>;
    if (
      typeof accessToken !== 'string' ||
      !accessToken.startsWith(FORMAT_PREFIX) ||
      typeof expiresAt !== 'number' ||
      typeof issuedAt !== 'number'
    ) {
      return undefined;
    }
    const sealed = fromBase64url(accessToken.slice(FORMAT_PREFIX.length));
    if (sealed === undefined || sealed.length <= IV_LENGTH) return undefined;
    const cryptoKey = await key();
    try {
      const plaintext = await crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: sealed.subarray(0, IV_LENGTH),
          additionalData: additionalData(cacheKey, { expiresAt, issuedAt }),
        },
        cryptoKey,
        sealed.subarray(IV_LENGTH),
      );
      const secrets = JSON.parse(decoder.decode(plaintext)) as Partial<CachedToken> | null;
      if (typeof secrets?.accessToken !== 'string' || typeof secrets.subject !== 'string') {
        return undefined;
      }
      return { accessToken: secrets.accessToken, expiresAt, issuedAt, subject: secrets.subject };
    } catch {
      // Wrong secret, tampered bytes, another key or expiry: all of them are a miss.
      return undefined;
    }
  };

  const cache: TokenCache = {
    async get(cacheKey) {
      return current(cacheKey, await decrypt(cacheKey, await inner.get(cacheKey)));
    },
    async set(cacheKey, token) {
      // Replaces whatever was stored before it, here and in the inner cache.
      raiseFloor(cacheKey, token.issuedAt);
      await inner.set(cacheKey, await encrypt(cacheKey, token));
    },
    async delete(cacheKey) {
      // The token being deleted is the newest we know of: refuse it and anything older.
      const floor = floors.get(cacheKey);
      if (floor !== undefined) raiseFloor(cacheKey, floor + 1);
      await inner.delete(cacheKey);
    },
  };

  const innerSingleFlight = inner.singleFlight?.bind(inner);
  if (innerSingleFlight) {
    cache.singleFlight = async (cacheKey, mint, flightOptions) => {
      let minted: { token: CachedToken; stored: CachedToken } | undefined;
      const result = await innerSingleFlight(
        cacheKey,
        async () => {
          // The client's `mint` stores the token through our `set`; the inner cache only needs
          // the encrypted form back, to answer like any of its own entries.
          const token = await mint();
          minted = { token, stored: await encrypt(cacheKey, token) };
          return minted.stored;
        },
        flightOptions,
      );
      if (minted !== undefined && result === minted.stored) return minted.token;
      // Another process's token that we cannot read, or one we have seen replaced, is no
      // token: mint one instead.
      return current(cacheKey, await decrypt(cacheKey, result)) ?? minted?.token ?? mint();
    };
  }
  return cache;
}

function secretBytes(secret: unknown): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array<ArrayBuffer>;
  if (typeof secret === 'string') bytes = encoder.encode(secret);
  else if (secret instanceof Uint8Array) bytes = new Uint8Array(secret);
  else {
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      'secret must be a string or a Uint8Array of at least 16 bytes',
    );
  }
  if (bytes.length < MIN_SECRET_LENGTH) {
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      `secret must be at least ${MIN_SECRET_LENGTH} bytes long, got ${bytes.length}`,
    );
  }
  return bytes;
}

async function deriveKey(secret: Uint8Array<ArrayBuffer>, info: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: encoder.encode(SALT),
      info: encoder.encode(info),
    },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** What the ciphertext is bound to: where it is stored and the fields a cache reads in clear. */
function additionalData(
  cacheKey: string,
  token: Pick<CachedToken, 'expiresAt' | 'issuedAt'>,
): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify([FORMAT_PREFIX, cacheKey, token.expiresAt, token.issuedAt]));
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
