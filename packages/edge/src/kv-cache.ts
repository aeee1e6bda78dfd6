import {
  ConfigurationError,
  numberOption,
  readCachedToken,
  serializeCachedToken,
  type TokenCache,
} from '@drillster-auth/core';
import { sha256Hex } from './hash.js';
import type { KvNamespaceLike } from './kv-namespace.js';

/** Workers KV refuses an `expirationTtl` below this many seconds. */
export const KV_MIN_EXPIRATION_TTL = 60;

/** Upper bound of the seconds options: a day, longer than any Drillster token lives. */
const MAX_SECONDS = 86_400;

/** Options of {@link createKvTokenCache}. */
export interface KvTokenCacheOptions {
  /** Prepended to every key name. Default `'drillster-auth:'`. */
  prefix?: string;
  /**
   * Tokens are stored only if they would stay stored at least this many seconds; KV rejects
   * shorter expirations. A whole number from 0 to 86400 (a day, longer than a token lives).
   * Default 60, the KV minimum; lower values are raised to it.
   */
  minTtlSeconds?: number;
  /**
   * Entries expire this many seconds before their token, since a token that close to expiry is
   * not served anyway. A whole number from 0 to 86400. Default 30, matching the client's
   * `refresh.expiryMarginSeconds` default.
   */
  expiryMarginSeconds?: number;
  /** Clock, milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/**
 * A {@link TokenCache} on a Workers KV namespace, so that isolates and locations share tokens
 * instead of each requesting its own.
 *
 * - Key names are `prefix` + the SHA-256 (hex) of the client's cache key, so no client id,
 *   service account id or user id appears in them. Values are the token as JSON.
 * - Each entry expires `expiryMarginSeconds` before its token; tokens with less than
 *   `minTtlSeconds` left after that are not stored at all (KV's minimum TTL is 60 seconds).
 * - KV is eventually consistent: a read may return a deleted or expired entry, or garbage
 *   written by something else. Such reads are misses; `get` never throws for them.
 * - KV has no atomic operations, so there is no cross-isolate single flight: two isolates that
 *   miss at once both request a token.
 *
 * KV errors (network, rate limits) are thrown; the client reports them as `cache_error` events
 * and carries on without the cache.
 *
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` without a KV binding, or for an option out of
 * its range (`NaN`, `Infinity`, fractions), naming the option.
 */
export function createKvTokenCache(
  namespace: KvNamespaceLike,
  options: KvTokenCacheOptions = {},
): TokenCache {
  if (typeof namespace?.get !== 'function' || typeof namespace.put !== 'function') {
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      'createKvTokenCache needs a KV namespace binding',
    );
  }
  const prefix = options.prefix ?? 'drillster-auth:';
  if (typeof prefix !== 'string') {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'prefix must be a string');
  }
  // NaN here once stored every token (no comparison with NaN is true) and KV refused the short ones.
  const minTtl = Math.max(
    KV_MIN_EXPIRATION_TTL,
    numberOption(options.minTtlSeconds, 'minTtlSeconds', {
      default: KV_MIN_EXPIRATION_TTL,
      min: 0,
      max: MAX_SECONDS,
      integer: true,
    }),
  );
  const margin = numberOption(options.expiryMarginSeconds, 'expiryMarginSeconds', {
    default: 30,
    min: 0,
    max: MAX_SECONDS,
    integer: true,
  });
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'clock must be a function');
  }
  const name = async (key: string) => prefix + (await sha256Hex(key));

  return {
    async get(key) {
      return readCachedToken(await namespace.get(await name(key), 'text'), clock());
    },
    async set(key, token) {
      const expirationTtl = Math.floor((token.expiresAt - clock()) / 1000) - margin;
      if (expirationTtl < minTtl) return;
      await namespace.put(await name(key), serializeCachedToken(token), { expirationTtl });
    },
    async delete(key) {
      await namespace.delete(await name(key));
    },
  };
}
