import { ofetch } from 'ofetch';
import { AbortError, ConfigurationError, NetworkError, ResponseTooLargeError } from './errors.js';
import { redactSecrets } from './redact.js';

/** Most bytes of a JSON document (token response, metadata) read: 64 KiB, far above any real one. */
export const MAX_JSON_BYTES = 64 * 1024;

/**
 * Most bytes of an error body read: 4 KiB holds any RFC 6749 error. A longer body (a proxy's
 * HTML page) is not read at all; the status still says what happened, and a 503 stays retryable.
 */
export const MAX_ERROR_BYTES = 4 * 1024;

/** A request for {@link HttpClient.request}. */
export interface HttpRequest {
  method: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  /**
   * Values that must never reach an error: the client secret, the assertion. A runtime error
   * or a response header that quotes one is dropped.
   */
  sensitive?: readonly string[];
}

/** What {@link HttpClient.request} got. */
export interface HttpResult {
  /**
   * The response without its body, rebuilt so it holds nothing of the request; headers that
   * quote a `sensitive` value are left out.
   */
  response: Response;
  /** The body; `undefined` for an error status whose body was over {@link MAX_ERROR_BYTES}. */
  text: string | undefined;
}

/** What the SDK needs to make HTTP requests. */
export interface HttpClient {
  /**
   * Sends a request and reads the body as text, at most {@link MAX_JSON_BYTES} of a 2xx body and
   * {@link MAX_ERROR_BYTES} of any other. Never throws for an HTTP status.
   *
   * @throws {ResponseTooLargeError} `ERR_RESPONSE_TOO_LARGE` for a 2xx body over the limit.
   * @throws {NetworkError} `ERR_NETWORK` (no answer, or a body cut short), `ERR_TIMEOUT`.
   * @throws {AbortError} `ERR_ABORTED` when `signal` fires.
   */
  request(url: string, init: HttpRequest, signal: AbortSignal | undefined): Promise<HttpResult>;
}

/**
 * Creates the HTTP client on top of ofetch. `timeout` (milliseconds) bounds the whole exchange,
 * the body included.
 */
export function createHttpClient(options: { fetch?: typeof fetch; timeout: number }): HttpClient {
  // ofetch's own instance (its module creates it anyway), with `fetch` swapped in when given.
  // Its retries, its error for an HTTP status and its body parsing are off: the token endpoint's
  // retries need a fresh assertion each, errors are rebuilt without the request, and bodies are
  // read with a cap. Its `timeout` is not used either: ofetch 1.5 ignores it whenever a `signal`
  // is passed (the client always passes one: `close()` aborts requests) and stops it once the headers are in,
  // so it could not bound the body, which a slow server can trickle.
  const $fetch = options.fetch ? ofetch.create({}, { fetch: options.fetch }) : ofetch;
  return {
    async request(url, init, signal) {
      signal?.throwIfAborted();
      const sensitive = init.sensitive ?? [];
      const timeout = new AbortController();
      // A timer of our own, cleared when the exchange ends, so none is left running.
      const timer = setTimeout(() => timeout.abort(), options.timeout);
      const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
      let stage: 'connect' | 'body' = 'connect';
      try {
        const response = await $fetch.raw(url, {
          method: init.method,
          body: init.body,
          headers: init.headers,
          signal: combined,
          retry: false,
          ignoreResponseError: true,
          responseType: 'stream',
          redirect: 'manual',
        });
        stage = 'body';
        const limit = response.ok ? MAX_JSON_BYTES : MAX_ERROR_BYTES;
        const text = await readCapped(response, limit);
        if (text === undefined && response.ok) {
          throw new ResponseTooLargeError(
            `${describe(url)} answered with more than ${limit} bytes (HTTP ${response.status})`,
            { status: response.status, limit },
          );
        }
        return { response: bodiless(response, sensitive), text };
      } catch (error) {
        if (error instanceof ResponseTooLargeError) throw error;
        if (signal?.aborted) {
          throw new AbortError('ERR_ABORTED', 'The request was aborted by the caller', {
            cause: signal.reason,
          });
        }
        if (timeout.signal.aborted) {
          throw new NetworkError(
            'ERR_TIMEOUT',
            `${describe(url)} did not answer within ${options.timeout} ms`,
          );
        }
        const what = stage === 'connect' ? 'could not be reached' : 'broke off its answer';
        throw new NetworkError('ERR_NETWORK', `${describe(url)} ${what}`, {
          cause: runtimeCause(error, sensitive),
        });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function describe(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * The body as text, read as it streams in; `undefined`, with the rest left unread, once it
 * passes `limit` bytes (or its `Content-Length` says it will).
 */
async function readCapped(response: Response, limit: number): Promise<string | undefined> {
  const body = response.body;
  if (body === null) return '';
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await body.cancel().catch(() => {});
    return undefined;
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * The status and headers of `response` in a fresh `Response`: the one fetch gave holds the
 * library's context, and a header may echo what we sent.
 */
function bodiless(response: Response, sensitive: readonly string[]): Response {
  if (response.status < 200 || response.status > 599) return Response.error();
  const headers = new Headers();
  for (const [name, value] of response.headers) {
    if (redactSecrets(value, sensitive) === value) headers.append(name, value);
  }
  return new Response(null, { status: response.status, statusText: response.statusText, headers });
}

/**
 * What the runtime said went wrong, as a fresh `Error` with its name, `code` (`ECONNRESET`,
 * `UND_ERR_SOCKET`, …) and message: the innermost error, since ofetch's and fetch's wrappers
 * hold the request, body included. A message that quotes a sensitive value is withheld.
 */
function runtimeCause(error: unknown, sensitive: readonly string[]): Error | undefined {
  let inner = error;
  for (
    let depth = 0;
    depth < 8 && inner instanceof Error && inner.cause instanceof Error;
    depth++
  ) {
    inner = inner.cause;
  }
  if (!(inner instanceof Error)) return undefined;
  const cause = new Error(redactSecrets(String(inner.message).slice(0, 300), sensitive));
  cause.name = String(inner.name);
  const code = (inner as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') {
    Object.defineProperty(cause, 'code', { value: code, enumerable: true });
  }
  return cause;
}

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

/** Whether `hostname` (as `URL.hostname` gives it) is a loopback address. */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Parses `value` as an absolute URL that is https, or http on loopback (for local test servers).
 *
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` when it is not a URL, `ERR_INSECURE_ENDPOINT` when it is plain http elsewhere.
 */
export function requireSecureUrl(value: unknown, what: string): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', `${what} must be an absolute URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return url;
  throw new ConfigurationError(
    'ERR_INSECURE_ENDPOINT',
    `${what} must use https (plain http is allowed on loopback only): ${url.origin}`,
  );
}

/** Seconds from a `Retry-After` header (delta-seconds or HTTP-date), or `undefined`. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
