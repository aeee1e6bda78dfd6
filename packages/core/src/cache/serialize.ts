import type { CachedToken } from './types.js';

/** A token's stored form, for stores that keep text (Redis, Workers KV…): its JSON. */
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
 * (no text, not JSON, another shape): a store reads garbage as a miss, never as an error. Expiry
 * is the caller's to check.
 */
export function parseCachedToken(text: unknown): CachedToken | undefined {
  if (typeof text !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { accessToken, expiresAt, issuedAt, subject } = value as Record<string, unknown>;
  if (
    typeof accessToken !== 'string' ||
    accessToken === '' ||
    typeof subject !== 'string' ||
    typeof expiresAt !== 'number' ||
    !Number.isFinite(expiresAt) ||
    typeof issuedAt !== 'number' ||
    !Number.isFinite(issuedAt)
  ) {
    return undefined;
  }
  return { accessToken, expiresAt, issuedAt, subject };
}
