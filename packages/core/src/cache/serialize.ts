import { MAX_TOKEN_LIFETIME } from '../token-endpoint.js';
import { B64TOKEN } from '../validate.js';
import type { CachedToken } from './types.js';

/**
 * {@link MAX_TOKEN_LIFETIME} in milliseconds: a stored token said to live longer, or to expire
 * at `1e300`, is read as garbage.
 */
const MAX_TOKEN_LIFETIME_MS = MAX_TOKEN_LIFETIME * 1000;

/**
 * Whether `token` has the shape and the times of a real token: a `b64token`, finite times, an
 * expiry after the issue time and at most {@link MAX_TOKEN_LIFETIME_MS} after it. Whether it is
 * still fresh, and for whom, is the caller's to check.
 * @internal
 */
export function isSaneCachedToken(token: unknown): token is CachedToken {
  if (typeof token !== 'object' || token === null) return false;
  const { accessToken, expiresAt, issuedAt, subject } = token as Record<string, unknown>;
  return (
    typeof accessToken === 'string' &&
    B64TOKEN.test(accessToken) &&
    typeof subject === 'string' &&
    typeof expiresAt === 'number' &&
    typeof issuedAt === 'number' &&
    Number.isFinite(issuedAt) &&
    issuedAt >= 0 &&
    expiresAt > issuedAt &&
    expiresAt - issuedAt <= MAX_TOKEN_LIFETIME_MS
  );
}

/** A token's stored form, for caches that keep text (Redis, Workers KV…): its JSON. */
export function serializeCachedToken(token: CachedToken): string {
  return JSON.stringify({
    accessToken: token.accessToken,
    expiresAt: token.expiresAt,
    issuedAt: token.issuedAt,
    subject: token.subject,
  });
}

/**
 * The token in `text` as {@link serializeCachedToken} wrote it, or `undefined` for anything else
 * (no text, not JSON, another shape, a token that is not a `b64token`, an expiry that is not
 * after the issue time or more than 24 h after it): a cache reads garbage as a miss, never as an
 * error. Whether it has expired, and whom it is for, is the caller's to check.
 */
export function parseCachedToken(text: unknown): CachedToken | undefined {
  if (typeof text !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isSaneCachedToken(value)) return undefined;
  const { accessToken, expiresAt, issuedAt, subject } = value;
  return { accessToken, expiresAt, issuedAt, subject };
}

/**
 * {@link parseCachedToken}, then the expiry: the token in `text`, or `undefined` when there is
 * none, it is garbage, or it has expired at `now`. What a text-keeping cache's `get` returns.
 *
 * @param text - What the cache holds for a key; anything else reads as a miss.
 * @param now - The time to check against, in milliseconds since the epoch (the cache's clock).
 */
export function readCachedToken(text: unknown, now: number): CachedToken | undefined {
  const token = parseCachedToken(text);
  return token !== undefined && token.expiresAt > now ? token : undefined;
}
