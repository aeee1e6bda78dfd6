/** Drillster's origin, which is also its OAuth issuer: the default `issuer`. */
export const DRILLSTER_ISSUER = 'https://www.drillster.com';

/** Base URL of Drillster's REST API (version 2.1.1), ending in `/`. The adapters' default. */
export const DRILLSTER_API_BASE_URL = 'https://www.drillster.com/api/2.1.1/';

/**
 * The origin (`scheme://host[:port]`) of `url` resolved against `base`, or `undefined` when it
 * cannot be parsed or has no origin of its own (`data:`, `file:`, `blob:` of an opaque origin).
 * Never throws: adapters compare origins to decide where a token may go, and an unparsable URL
 * is simply not one of the allowed ones.
 *
 * @param url - An absolute URL, or a relative one when `base` is given.
 * @param base - What a relative `url` resolves against. Default: none (a relative `url` has no origin).
 */
export function originOf(url: string, base?: string): string | undefined {
  let origin: string;
  try {
    origin = new URL(url, base).origin;
  } catch {
    return undefined;
  }
  return origin === 'null' ? undefined : origin;
}
