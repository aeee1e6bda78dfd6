import { type CachedToken, parseCachedToken } from '@drillster-auth/core';

export { serializeCachedToken as serializeEntry } from '@drillster-auth/core';

/**
 * The token stored in `value`, or `undefined` when there is none, it is not one of ours (any
 * other shape reads as a miss, never as an error) or it expired at `now`.
 */
export function parseEntry(value: string | null | undefined, now: number): CachedToken | undefined {
  const token = parseCachedToken(value);
  return token !== undefined && token.expiresAt > now ? token : undefined;
}
