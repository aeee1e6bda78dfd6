import type { CachedToken } from '@drillster-auth/core';

/** The stored form of a token: its JSON. */
export function serializeEntry(token: CachedToken): string {
  return JSON.stringify({
    accessToken: token.accessToken,
    expiresAt: token.expiresAt,
    issuedAt: token.issuedAt,
    subject: token.subject,
  });
}

/**
 * The token stored in `value`, or `undefined` when there is none, it is not one of ours (any
 * other shape reads as a miss, never as an error) or it expired at `now`.
 */
export function parseEntry(value: string | null | undefined, now: number): CachedToken | undefined {
  if (typeof value !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { accessToken, expiresAt, issuedAt, subject } = parsed as Record<string, unknown>;
  if (
    typeof accessToken !== 'string' ||
    accessToken === '' ||
    typeof subject !== 'string' ||
    typeof expiresAt !== 'number' ||
    !Number.isFinite(expiresAt) ||
    typeof issuedAt !== 'number' ||
    !Number.isFinite(issuedAt) ||
    expiresAt <= now
  ) {
    return undefined;
  }
  return { accessToken, expiresAt, issuedAt, subject };
}
