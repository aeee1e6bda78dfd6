import { originOf } from '@drillster-auth/core';
import type { InternalAxiosRequestConfig } from 'axios';

// Copies of axios' own rules (lib/core/buildFullPath.js and helpers): the origin we check has to
// be the one axios will connect to, or a crafted URL could carry the token elsewhere.
const ABSOLUTE_URL = /^([a-z][a-z\d+\-.]*:)?\/\//i;
const MALFORMED_HTTP_PROTOCOL = /^https?:(?!\/\/)/i;

/**
 * The origin axios will send `config` to, or `undefined` when axios would refuse the URL or it
 * cannot be resolved. Only own properties count, as in axios, so a polluted prototype cannot
 * redirect the check.
 */
export function requestOrigin(config: InternalAxiosRequestConfig): string | undefined {
  const url = ownString(config, 'url') ?? '';
  const baseURL = ownString(config, 'baseURL');
  if (isMalformed(url)) return undefined;
  let fullPath = url;
  if (
    baseURL &&
    (!ABSOLUTE_URL.test(url) ||
      (Object.hasOwn(config, 'allowAbsoluteUrls') && config.allowAbsoluteUrls === false))
  ) {
    if (isMalformed(baseURL)) return undefined;
    fullPath = combineURLs(baseURL, url);
  }
  const base =
    Object.hasOwn(config, 'socketPath') && config.socketPath ? 'http://localhost' : browserBase();
  return originOf(fullPath, base);
}

/** How many distinct `(baseURL, url)` pairs a {@link RequestOrigins} remembers before it starts over. */
export const REQUEST_ORIGIN_MEMO_LIMIT = 256;

/**
 * {@link requestOrigin} with a memo, for the interceptor's per-request path: parsing a URL costs
 * more than the rest of the origin check, and most requests repeat a few `(baseURL, url)` pairs.
 * The memo is keyed by both strings exactly (so a changed `baseURL` is checked afresh), holds at
 * most `limit` pairs (full, it starts over, so a client with ids in its paths cannot grow it), and
 * is forgotten when the page's URL changes in a browser. Configs with `socketPath` or
 * `allowAbsoluteUrls: false` are rare and computed each time.
 */
export class RequestOrigins {
  readonly #limit: number;
  /** `baseURL` (`''` for none: axios treats both alike) → `url` → origin. */
  readonly #memo = new Map<string, Map<string, string | undefined>>();
  #size = 0;
  #page: string | undefined;

  constructor(limit = REQUEST_ORIGIN_MEMO_LIMIT) {
    this.#limit = limit;
  }

  /** How many pairs are remembered now. */
  get size(): number {
    return this.#size;
  }

  /** What {@link requestOrigin} answers for `config`. */
  of(config: InternalAxiosRequestConfig): string | undefined {
    if (
      (Object.hasOwn(config, 'socketPath') && config.socketPath) ||
      (Object.hasOwn(config, 'allowAbsoluteUrls') && config.allowAbsoluteUrls === false)
    ) {
      return requestOrigin(config);
    }
    const page = browserBase();
    if (page !== this.#page) {
      this.#page = page;
      this.#clear();
    }
    const url = ownString(config, 'url') ?? '';
    const baseURL = ownString(config, 'baseURL') ?? '';
    let byUrl = this.#memo.get(baseURL);
    const known = byUrl?.get(url);
    // `undefined` is also a remembered answer ("no origin"), hence the second lookup on a miss.
    if (known !== undefined || byUrl?.has(url)) return known;
    const origin = requestOrigin(config);
    if (this.#size >= this.#limit) {
      this.#clear();
      byUrl = undefined;
    }
    if (byUrl === undefined) {
      byUrl = new Map();
      this.#memo.set(baseURL, byUrl);
    }
    byUrl.set(url, origin);
    this.#size += 1;
    return origin;
  }

  #clear(): void {
    this.#memo.clear();
    this.#size = 0;
  }
}

/** Where relative URLs resolve in a browser (the page); `undefined` elsewhere, as in axios on Node. */
export function browserBase(): string | undefined {
  if (typeof window === 'undefined' || typeof document === 'undefined') return undefined;
  return window.location.href;
}

function ownString(config: InternalAxiosRequestConfig, key: 'url' | 'baseURL'): string | undefined {
  const value = Object.hasOwn(config, key) ? config[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function isMalformed(url: string): boolean {
  // axios strips leading whitespace and C0 controls like the WHATWG parser before this check.
  let start = 0;
  while (start < url.length && url.charCodeAt(start) <= 0x20) start++;
  return MALFORMED_HTTP_PROTOCOL.test(url.slice(start).replace(/[\t\n\r]/g, ''));
}

function combineURLs(baseURL: string, relativeURL: string): string {
  if (!relativeURL) return baseURL;
  let end = baseURL.length;
  while (end > 0 && baseURL.charCodeAt(end - 1) === 47) end--;
  return `${baseURL.slice(0, end)}/${relativeURL.replace(/^\/+/, '')}`;
}
