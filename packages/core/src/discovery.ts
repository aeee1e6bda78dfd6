import { DiscoveryError, DrillsterAuthError } from './errors.js';
import { type HttpClient, parseRetryAfter, requireSecureUrl } from './http.js';
import { isRetryable, type RetryPolicy, retryDelay, sleep } from './retry.js';
import { DRILLSTER_ISSUER } from './urls.js';
import { isJsonObject } from './validate.js';

/** The issuer a client discovers its token endpoint from unless `issuer` says otherwise: {@link DRILLSTER_ISSUER}. */
export const DEFAULT_ISSUER = DRILLSTER_ISSUER;

/** How discovery retries: the token endpoint's policy, and a clock for `Retry-After` dates. */
export interface DiscoveryOptions {
  signal?: AbortSignal | undefined;
  /** Default: one attempt. */
  retry?: RetryPolicy | undefined;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: (() => number) | undefined;
}

/**
 * Finds the token endpoint from the issuer's RFC 8414 metadata
 * (`/.well-known/oauth-authorization-server`, then `/.well-known/openid-configuration`),
 * and checks that the metadata names the same issuer (RFC 8414 §3.3). A transient failure (no
 * answer, a timeout, 408, 429 or 5xx) is retried with `retry`, as a token request is; the
 * error after the last attempt tells them apart: a {@link NetworkError}, or a
 * {@link DiscoveryError} with the HTTP `status`.
 *
 * @throws {DiscoveryError} `ERR_DISCOVERY` (with `status` for an HTTP error) or `ERR_ISSUER_MISMATCH`.
 * @throws {ResponseTooLargeError} `ERR_RESPONSE_TOO_LARGE` for metadata over 64 KiB.
 * @throws {ConfigurationError} `ERR_INSECURE_ENDPOINT` when the advertised endpoint is not https.
 * @throws {NetworkError} and {AbortError} from the transport.
 */
export async function discoverTokenEndpoint(
  http: HttpClient,
  issuer: string,
  options: DiscoveryOptions = {},
): Promise<string> {
  const issuerUrl = requireSecureUrl(issuer, 'issuer');
  const path = issuerUrl.pathname === '/' ? '' : issuerUrl.pathname.replace(/\/$/, '');
  const candidates = [
    `${issuerUrl.origin}/.well-known/oauth-authorization-server${path}`,
    `${issuerUrl.origin}${path}/.well-known/openid-configuration`,
  ];
  const policy = options.retry ?? { attempts: 1, baseDelay: 0, maxDelay: 0 };
  for (let attempt = 1; ; attempt++) {
    try {
      return await discoverOnce(http, issuer, candidates, options);
    } catch (error) {
      if (attempt >= policy.attempts || !isRetryable(error)) throw error;
      const delayMs = retryDelay(policy, attempt, error);
      if (delayMs === undefined) throw error;
      await sleep(delayMs, options.signal);
    }
  }
}

async function discoverOnce(
  http: HttpClient,
  issuer: string,
  candidates: string[],
  options: DiscoveryOptions,
): Promise<string> {
  let lastStatus = 0;
  for (const url of candidates) {
    const { response, text } = await http.request(
      url,
      { method: 'GET', headers: { accept: 'application/json' } },
      options.signal,
    );
    if (response.status === 404) {
      lastStatus = 404;
      continue;
    }
    if (!response.ok) {
      const now = (options.clock ?? Date.now)();
      throw new DiscoveryError('ERR_DISCOVERY', `${url} answered HTTP ${response.status}`, {
        status: response.status,
        retryAfter: parseRetryAfter(response.headers.get('retry-after'), now),
      });
    }
    return readMetadata(text ?? '', url, issuer);
  }
  throw new DiscoveryError(
    'ERR_DISCOVERY',
    `No authorization server metadata for ${issuer} (HTTP ${lastStatus} at ${candidates.join(' and ')})`,
  );
}

/**
 * The token endpoint from a metadata document fetched from `url`, for `issuer`. Values from the
 * document are quoted only as printable ASCII, cut short.
 *
 * @throws {DiscoveryError} `ERR_DISCOVERY` or `ERR_ISSUER_MISMATCH`.
 * @throws {ConfigurationError} `ERR_INSECURE_ENDPOINT`.
 */
export function readMetadata(text: string, url: string, issuer: string): string {
  let metadata: unknown;
  try {
    metadata = JSON.parse(text);
  } catch {
    throw new DiscoveryError('ERR_DISCOVERY', `${url} did not return JSON`);
  }
  if (!isJsonObject(metadata)) {
    throw new DiscoveryError('ERR_DISCOVERY', `${url} did not return a JSON object`);
  }
  const { issuer: advertised, token_endpoint: tokenEndpoint } = metadata;
  if (typeof advertised !== 'string' || stripSlash(advertised) !== stripSlash(issuer)) {
    throw new DiscoveryError(
      'ERR_ISSUER_MISMATCH',
      `${url} describes issuer ${typeof advertised === 'string' ? quote(advertised) : 'none'}, not ${issuer}`,
    );
  }
  if (typeof tokenEndpoint !== 'string') {
    throw new DiscoveryError('ERR_DISCOVERY', `${url} has no token_endpoint`);
  }
  try {
    return requireSecureUrl(tokenEndpoint, 'token_endpoint').href;
  } catch (error) {
    if (error instanceof DrillsterAuthError && error.code === 'ERR_INSECURE_ENDPOINT') throw error;
    throw new DiscoveryError('ERR_DISCOVERY', `${url} has an invalid token_endpoint`);
  }
}

/** RFC 8414 wants identical strings; a lone trailing slash is the one difference we forgive. */
function stripSlash(value: string): string {
  return value.endsWith('/') ? value.slice(0, -1) : value;
}

/** A server's text for a message: printable ASCII only, at most 100 characters. */
function quote(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 100 ? `${clean.slice(0, 100)}...` : clean);
}
