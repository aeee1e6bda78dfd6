import { REDACTED } from '@drillster-auth/core';
import { AxiosHeaders, type InternalAxiosRequestConfig } from 'axios';

/** What our `Authorization` header reads once the request it went out with has been answered. */
export const REDACTED_BEARER = `Bearer ${REDACTED}`;

/**
 * The name `headers` keeps `Authorization` under (any case; the last one, as axios' own lookup
 * finds it), or `undefined`. Reading and writing that property directly, as an interceptor that
 * sets `headers.Authorization` does, skips `AxiosHeaders.set`'s value clean-up, a regular
 * expression over the whole header: our headers hold core's tokens, which core has checked are
 * RFC 6750 `b64token`s (no controls, no spaces), so the clean-up would change nothing.
 */
export function authorizationKey(headers: AxiosHeaders): string | undefined {
  const names = Object.keys(headers);
  for (let i = names.length - 1; i >= 0; i--) {
    const name = names[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization') return name;
  }
  return undefined;
}

/**
 * Keeps the token in `header` out of what a logged answer or error shows. axios puts the request config
 * (with its headers) and the raw request (with the header bytes) on both, and they print in
 * `util.inspect` and `JSON.stringify`. The request has been sent by now, so nothing needs the
 * header any more: the config's header becomes `Bearer [redacted]`, the raw request's copies of
 * it are overwritten, and `request` stays readable but is no longer enumerable.
 *
 * @param header - The `Authorization` header the request went out with (core's `authorizationHeader`).
 * @param holder - The answer or the error that carries `config` and `request`.
 * @param otherHolder - For an error, its answer, which carries them too.
 */
export function redactToken(
  config: InternalAxiosRequestConfig,
  header: string,
  holder: unknown,
  otherHolder?: unknown,
): void {
  const headers = AxiosHeaders.from(config.headers);
  config.headers = headers;
  const name = authorizationKey(headers) ?? 'Authorization';
  // `false` means "never send this header", which holds no token to hide; `set` keeps it too.
  if (headers[name] !== false) headers[name] = REDACTED_BEARER;
  hideRawRequest(holder, header, name);
  hideRawRequest(otherHolder, header, name);
}

function hideRawRequest(holder: unknown, header: string, name: string): void {
  if (typeof holder !== 'object' || holder === null || !Object.hasOwn(holder, 'request')) return;
  const request: unknown = (holder as { request: unknown }).request;
  scrubRawRequest(request, header, name);
  Object.defineProperty(holder, 'request', {
    value: request,
    enumerable: false,
    writable: true,
    configurable: true,
  });
}

/**
 * Node's `kOutHeaders` symbol, found once by its description: it is not exported, and listing an
 * object's symbols on every answer costs more than the rest of the scrubbing.
 */
let outHeadersKey: symbol | undefined;

function outHeaders(raw: Record<PropertyKey, unknown>): unknown {
  if (outHeadersKey !== undefined && Object.hasOwn(raw, outHeadersKey)) return raw[outHeadersKey];
  // Not found under the symbol known so far (not a ClientRequest, or another realm's): look again.
  for (const symbol of Object.getOwnPropertySymbols(raw)) {
    if (symbol.description === 'kOutHeaders') {
      outHeadersKey = symbol;
      return raw[symbol];
    }
  }
  return undefined;
}

/**
 * Overwrites the token in each place an adapter's raw request keeps the header it sent.
 * @param name - The config's name for the header, which the http adapter passes on as it is.
 */
function scrubRawRequest(request: unknown, bearer: string, name: string): void {
  if (typeof request !== 'object' || request === null) return;
  // fetch adapter: the `Request` it sent. Its headers are mutable (guard "request").
  if (typeof Request !== 'undefined' && request instanceof Request) {
    if (request.headers.get('authorization') === bearer) {
      request.headers.set('authorization', REDACTED_BEARER);
    }
    return;
  }
  const raw = request as Record<PropertyKey, unknown> & { _redirectable?: unknown };
  // http adapter (Node's ClientRequest): `_header` holds the header block as sent, and the
  // `kOutHeaders` symbol the header map that `getHeader` reads. Both only describe the past now.
  if (typeof raw._header === 'string')
    raw._header = raw._header.replaceAll(bearer, REDACTED_BEARER);
  // Node keys this map by the header's lower-case name.
  scrubHeaderValues(outHeaders(raw), bearer, 'authorization');
  // follow-redirects (the http adapter unless `maxRedirects` is 0) keeps the options the hops
  // were made with on the RedirectableRequest it links as `_redirectable`.
  const options = (raw._redirectable as { _options?: { headers?: unknown } } | undefined)?._options;
  scrubHeaderValues(options?.headers, bearer, name);
}

/**
 * Replaces `bearer` in a header object: values as strings, or `[name, value]` pairs as in Node.
 * Looks under `likely` first: these maps are null-prototype objects (dictionaries to V8), where
 * listing the keys costs more than the whole lookup; only when our header is not there are all
 * names searched. (A copy of it that other code put under another name is left alone then, as
 * it is in the config.)
 */
function scrubHeaderValues(headers: unknown, bearer: string, likely: string): void {
  if (typeof headers !== 'object' || headers === null) return;
  const record = headers as Record<string, unknown>;
  if (Object.hasOwn(record, likely) && scrubHeaderValue(record, likely, bearer)) return;
  for (const name of Object.keys(record)) scrubHeaderValue(record, name, bearer);
}

function scrubHeaderValue(record: Record<string, unknown>, name: string, bearer: string): boolean {
  const value = record[name];
  if (value === bearer) record[name] = REDACTED_BEARER;
  else if (Array.isArray(value) && value[1] === bearer) value[1] = REDACTED_BEARER;
  else return false;
  return true;
}
