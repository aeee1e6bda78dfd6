import { decodeJwt } from 'jose';
import { TokenEndpointError, TokenResponseError } from './errors.js';
import { type HttpClient, MAX_ERROR_BYTES, parseRetryAfter } from './http.js';
import { redactSecrets } from './redact.js';
import { B64TOKEN, isJsonObject } from './validate.js';

/** RFC 7523 §2.1 grant type. */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A validated successful token response. */
export interface TokenResponse {
  accessToken: string;
  /**
   * Lifetime in seconds, from `expires_in`, the token's own `exp`, or the fallback; at most
   * {@link MAX_TOKEN_LIFETIME}.
   */
  expiresIn: number;
}

/**
 * Longest token lifetime believed, in seconds: a day. Drillster's tokens live hours; a longer
 * `expires_in` is a server's mistake, and believing it would keep a revoked token in use for
 * that long (and `1e13` seconds is past the last date JavaScript can represent).
 */
export const MAX_TOKEN_LIFETIME = 86_400;

/** Input for {@link exchangeAssertion}. */
export interface ExchangeParams {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  assertion: string;
  /** Lifetime in seconds to assume when the response says nothing about it. */
  fallbackExpiresIn: number;
  /** Current time on the server's clock (ours corrected for known skew), milliseconds since the epoch. */
  now: number;
  signal?: AbortSignal | undefined;
}

/**
 * Exchanges a signed assertion for an access token (RFC 7523 §2.1, client_secret_post).
 *
 * @throws {TokenEndpointError} for any HTTP error status, with the RFC 6749 §5.2 fields (every
 *   spelling of the client secret and the assertion redacted from them).
 * @throws {TokenResponseError} when a 2xx body is not a bearer token response.
 * @throws {ResponseTooLargeError} when a 2xx body is over 64 KiB.
 * @throws {NetworkError} and {AbortError} from the transport.
 */
export async function exchangeAssertion(
  http: HttpClient,
  params: ExchangeParams,
): Promise<TokenResponse> {
  const body = new URLSearchParams({
    grant_type: JWT_BEARER_GRANT_TYPE,
    client_id: params.clientId,
    client_secret: params.clientSecret,
    assertion: params.assertion,
  });
  const secrets = [params.clientSecret, params.assertion];
  const { response, text } = await http.request(
    params.tokenEndpoint,
    {
      method: 'POST',
      body: body.toString(),
      headers: {
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
      },
      sensitive: secrets,
    },
    params.signal,
  );
  if (!response.ok) throw endpointError(response, text, secrets, params.now);
  return readTokenResponse(text ?? '', params);
}

/**
 * The error for a refusal. The raw body is never quoted: only the decoded `error` and
 * `error_description`, each redacted after decoding, so a server that echoes our credentials in
 * any spelling (escaped, encoded) does not carry them into a log.
 */
function endpointError(
  response: Response,
  text: string | undefined,
  secrets: string[],
  now: number,
): TokenEndpointError {
  let error: string | undefined;
  let errorDescription: string | undefined;
  try {
    const body = JSON.parse(text ?? '') as Record<string, unknown>;
    if (typeof body.error === 'string') error = redactSecrets(body.error, secrets);
    if (typeof body.error_description === 'string') {
      errorDescription = redactSecrets(body.error_description, secrets);
    }
  } catch {
    // Not an OAuth error body (a proxy's HTML page, say): the status speaks for itself.
  }
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'), now);
  const detail = error
    ? `${error}${errorDescription ? `: ${errorDescription}` : ''}`
    : text === undefined
      ? `an error body over ${MAX_ERROR_BYTES} bytes, not read`
      : 'no OAuth error';
  return new TokenEndpointError(
    `The token endpoint refused the request (HTTP ${response.status}, ${detail})`,
    { status: response.status, error, errorDescription, retryAfter, response },
  );
}

/**
 * Validates a 2xx token response body. No message quotes a value from it: a hostile server
 * could put anything there, our own credentials included.
 */
export function readTokenResponse(
  text: string,
  params: Pick<ExchangeParams, 'fallbackExpiresIn' | 'now'>,
): TokenResponse {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalid('a body that is not JSON');
  }
  if (!isJsonObject(body)) {
    throw invalid('a body that is not a JSON object');
  }
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn } = body;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw invalid('no access_token');
  }
  if (!B64TOKEN.test(accessToken)) {
    throw invalid(
      'an access_token with characters outside RFC 6750 b64token (A-Z a-z 0-9 - . _ ~ + / and trailing =)',
    );
  }
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    throw invalid(
      typeof tokenType === 'string' ? 'a token_type other than bearer' : 'no token_type',
    );
  }
  return { accessToken, expiresIn: lifetime(expiresIn, accessToken, params) };
}

function invalid(what: string): TokenResponseError {
  return new TokenResponseError(
    'ERR_INVALID_TOKEN_RESPONSE',
    `The token endpoint answered 2xx with ${what}`,
  );
}

/**
 * Seconds the token lives: `expires_in` when given (a positive number, or a string of digits),
 * else the JWT's `exp` (which must not have passed), else the fallback; never more than
 * {@link MAX_TOKEN_LIFETIME}.
 */
function lifetime(
  expiresIn: unknown,
  accessToken: string,
  params: Pick<ExchangeParams, 'fallbackExpiresIn' | 'now'>,
): number {
  if (expiresIn !== undefined && expiresIn !== null) {
    const seconds =
      typeof expiresIn === 'string' && /^\d+(\.\d+)?$/.test(expiresIn)
        ? Number(expiresIn)
        : expiresIn;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
      throw invalid('an expires_in that is not a positive number of seconds');
    }
    return Math.min(seconds, MAX_TOKEN_LIFETIME);
  }
  let exp: unknown;
  try {
    exp = decodeJwt(accessToken).exp;
  } catch {
    // An opaque token: nothing to read.
  }
  if (typeof exp === 'number' && Number.isFinite(exp)) {
    const seconds = exp - params.now / 1000;
    if (seconds <= 0) throw invalid('a token whose exp has passed');
    return Math.min(seconds, MAX_TOKEN_LIFETIME);
  }
  return Math.min(params.fallbackExpiresIn, MAX_TOKEN_LIFETIME);
}
