import { createFetch } from 'ofetch';
import { AbortError, ConfigurationError, NetworkError } from './errors.js';

/** What the SDK needs to make HTTP requests. */
export interface HttpClient {
  /** Sends a request and reads the body as text. Never throws for an HTTP status. */
  request(
    url: string,
    init: { method: 'GET' | 'POST'; body?: string; headers?: Record<string, string> },
    signal: AbortSignal | undefined,
  ): Promise<{ response: Response; text: string }>;
}

/** Creates the HTTP client on top of ofetch, with a per-request timeout in milliseconds. */
export function createHttpClient(options: { fetch?: typeof fetch; timeout: number }): HttpClient {
  const $fetch = createFetch(options.fetch ? { fetch: options.fetch } : {});
  return {
    async request(url, init, signal) {
      signal?.throwIfAborted();
      const timeout = AbortSignal.timeout(options.timeout);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      try {
        const response = await $fetch.raw<string, 'text'>(url, {
          method: init.method,
          body: init.body,
          headers: init.headers,
          signal: combined,
          retry: false,
          ignoreResponseError: true,
          responseType: 'text',
          redirect: 'manual',
        });
        return { response, text: response._data ?? '' };
      } catch (error) {
        if (signal?.aborted) {
          throw new AbortError('ERR_ABORTED', 'The request was aborted by the caller', {
            cause: signal.reason,
          });
        }
        if (timeout.aborted) {
          throw new NetworkError(
            'ERR_TIMEOUT',
            `${describe(url)} did not answer within ${options.timeout} ms`,
            { cause: error },
          );
        }
        throw new NetworkError('ERR_NETWORK', `${describe(url)} could not be reached`, {
          cause: unwrap(error),
        });
      }
    },
  };
}

function describe(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** ofetch wraps the runtime's error; keep the runtime's, which says what failed. */
function unwrap(error: unknown): unknown {
  if (error instanceof Error && error.cause !== undefined) return error.cause;
  return error;
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
