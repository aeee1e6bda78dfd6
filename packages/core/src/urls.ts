import { ConfigurationError } from './errors.js';

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

/**
 * The origins (`scheme://host[:port]`) of `urls`, as the adapters' `allowedOrigins` takes them:
 * each entry an absolute `http:` or `https:` URL, reduced to its origin (a path, query or
 * user info is dropped). Plain `http:` is accepted for any host, not only loopback: the list
 * names where tokens may go, and whether that is safe over http is the caller's call. Any other
 * scheme (`ftp:`, `ws:`, `blob:https://…`, `file:`) and anything that is not an absolute URL is
 * refused, so one list means the same in every adapter. Each entry is read with `String()`.
 *
 * @param urls - The list as the caller passed it.
 * @param name - The option's name as the caller wrote it, for the error. Default `allowedOrigins`.
 * @returns A new set; empty for an empty list (no origin gets a token).
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` when `urls` is not an array, or naming the
 * first bad entry by its index (and, for a URL of another scheme, that scheme). An entry is never
 * quoted: a URL may carry a password.
 *
 * @example
 * ```ts
 * parseAllowedOrigins(['https://www.drillster.com/api/2.1.1/', 'http://localhost:8080']);
 * // Set { 'https://www.drillster.com', 'http://localhost:8080' }
 * ```
 */
export function parseAllowedOrigins(
  urls: readonly string[],
  name = 'allowedOrigins',
): ReadonlySet<string> {
  if (!Array.isArray(urls)) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', `${name} must be an array of URLs`);
  }
  const origins = new Set<string>();
  for (let index = 0; index < urls.length; index++) {
    let url: URL;
    try {
      url = new URL(String(urls[index]));
    } catch {
      throw new ConfigurationError(
        'ERR_INVALID_OPTIONS',
        `${name}[${index}] must be an absolute http(s) URL`,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConfigurationError(
        'ERR_INVALID_OPTIONS',
        `${name}[${index}] must be an http(s) URL; got ${url.protocol}`,
      );
    }
    origins.add(url.origin);
  }
  return origins;
}
