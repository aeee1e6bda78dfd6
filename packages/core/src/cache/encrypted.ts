import { base64urlBytes } from '../base64.js';
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

/** An entry this cache decrypted or wrote, and the token in it. */
interface Opened {
  /** The stored `accessToken`: `enc1.` and the IV, ciphertext and tag. */
  readonly sealed: string;
  readonly expiresAt: number;
  readonly issuedAt: number;
  readonly accessToken: string;
  readonly subject: string;
}

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
 * Reading the entry it last decrypted or wrote for a key again costs no decryption: per key (the
 * same 10,000), the cache remembers that entry's `accessToken`, `expiresAt` and `issuedAt` and the
 * token they decrypted to, and an entry equal to it in all three is answered from memory. The
 * same bytes under the same key and secret always decrypt to the same token, so this answers
 * exactly what decryption would; any other entry (a new token, or a tampered, moved or
 * re-dated one) is decrypted and checked in full, and the replaced-token check above applies to
 * both. The price is that a token stays in this process's memory, in clear, while its entry is
 * the latest read for its key, as it does anyway in the client's own memory cache; what is
 * compared is the ciphertext, which is no secret.
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

  /** Per cache key, the last entry decrypted or written: read again, it needs no decryption. */
  const opened = new Map<string, Opened>();
  const remember = (
    cacheKey: string,
    stored: Pick<CachedToken, 'accessToken' | 'expiresAt' | 'issuedAt'>,
    token: CachedToken,
  ): void => {
    // Re-inserted at the end, so the keys forgotten first are the ones untouched longest.
    opened.delete(cacheKey);
    opened.set(cacheKey, {
      sealed: stored.accessToken,
      expiresAt: stored.expiresAt,
      issuedAt: stored.issuedAt,
      accessToken: token.accessToken,
      subject: token.subject,
    });
    if (opened.size > MAX_REMEMBERED_KEYS) opened.delete(opened.keys().next().value as string);
  };
  /** The token in `stored` when it is the entry last decrypted or written for `cacheKey`. */
  const reopen = (cacheKey: string, stored: unknown): CachedToken | undefined => {
    const last = opened.get(cacheKey);
    if (last === undefined || typeof stored !== 'object' || stored === null) return undefined;
    const { accessToken, expiresAt, issuedAt } = stored as Partial<CachedToken>;
    if (accessToken !== last.sealed || expiresAt !== last.expiresAt || issuedAt !== last.issuedAt) {
      return undefined;
    }
    // A new object each time: what a caller does with its token must not change the one kept.
    return {
      accessToken: last.accessToken,
      expiresAt: last.expiresAt,
      issuedAt: last.issuedAt,
      subject: last.subject,
    };
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
      accessToken: FORMAT_PREFIX + base64urlBytes(sealed),
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
      const token = {
        accessToken: secrets.accessToken,
        expiresAt,
        issuedAt,
        subject: secrets.subject,
      };
      remember(cacheKey, { accessToken, expiresAt, issuedAt }, token);
      return token;
    } catch {
      // Wrong secret, tampered bytes, another key or expiry: all of them are a miss.
      return undefined;
    }
  };

  /** The token in `stored`, from memory when it is the entry last seen for `cacheKey`. */
  const open = (
    cacheKey: string,
    stored: unknown,
  ): CachedToken | undefined | Promise<CachedToken | undefined> =>
    reopen(cacheKey, stored) ?? decrypt(cacheKey, stored);

  const cache: TokenCache = {
    async get(cacheKey) {
      return current(cacheKey, await open(cacheKey, await inner.get(cacheKey)));
    },
    async set(cacheKey, token) {
      // Replaces whatever was stored before it, here and in the inner cache.
      raiseFloor(cacheKey, token.issuedAt);
      const stored = await encrypt(cacheKey, token);
      remember(cacheKey, stored, token);
      await inner.set(cacheKey, stored);
    },
    async delete(cacheKey) {
      // The token being deleted is the newest we know of: refuse it and anything older.
      const floor = floors.get(cacheKey);
      if (floor !== undefined) raiseFloor(cacheKey, floor + 1);
      opened.delete(cacheKey);
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
      return current(cacheKey, await open(cacheKey, result)) ?? minted?.token ?? mint();
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

/** What {@link sextet} answers for a character that is not base64url. */
const INVALID = 64;

/**
 * The value of the base64url character with char code `code`, or {@link INVALID}. Arithmetic,
 * not a lookup table: a table built when the module loads is code a bundler must keep.
 */
function sextet(code: number): number {
  if (code >= 65 && code <= 90) return code - 65; // A-Z
  if (code >= 97 && code <= 122) return code - 71; // a-z
  if (code >= 48 && code <= 57) return code + 4; // 0-9
  if (code === 45) return 62; // -
  if (code === 95) return 63; // _
  return INVALID;
}

/**
 * The bytes of unpadded base64url `text`, or `undefined` when it is not base64url: decoded a
 * character at a time, without `atob`'s binary string and the rewrites around it.
 * Like `atob`, it refuses a length of 4n + 1 and ignores the unused low bits of the last
 * character, so a last character that differs only in those bits decodes to the same bytes
 * (which are authenticated either way); any other change decodes to bytes that fail
 * authentication.
 */
function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  const length = text.length;
  if (length % 4 === 1) return undefined;
  const bytes = new Uint8Array((length * 3) >> 2);
  let bits = 0;
  let pending = 0;
  let j = 0;
  for (let i = 0; i < length; i++) {
    const value = sextet(text.charCodeAt(i));
    if (value === INVALID) return undefined;
    bits = ((bits << 6) | value) & 0xfff;
    pending += 6;
    if (pending >= 8) {
      pending -= 8;
      bytes[j++] = bits >> pending;
    }
  }
  return bytes;
}
