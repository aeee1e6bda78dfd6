import { decodeJwt } from 'jose';
import { TokenEndpointError, TokenResponseError } from './errors.js';
import { type HttpClient, parseRetryAfter } from './http.js';
import { REDACTED } from './redact.js';

/** RFC 7523 §2.1 grant type. */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A validated successful token response. */
export interface TokenResponse {
  accessToken: string;
  /** Lifetime in seconds, from `expires_in`, the token's own `exp`, or the fallback. */
  expiresIn: number;
}

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
 * @throws {TokenEndpointError} for any HTTP error status, with the RFC 6749 §5.2 fields.
 * @throws {TokenResponseError} when a 2xx body is not a bearer token response.
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
  const { response, text } = await http.request(
    params.tokenEndpoint,
    {
      method: 'POST',
      body: body.toString(),
      headers: {
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
      },
    },
    params.signal,
  );
  if (!response.ok) {
    // A server that echoes the request must not carry our credentials into an error message.
    throw endpointError(
      response,
      redact(text, [params.clientSecret, params.assertion]),
      params.now,
    );
  }
  return readTokenResponse(text, params);
}

function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) out = out.replaceAll(secret, REDACTED);
  return out;
}

function endpointError(response: Response, text: string, now: number): TokenEndpointError {
  let error: string | undefined;
  let errorDescription: string | undefined;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body.error === 'string') error = body.error;
    if (typeof body.error_description === 'string') errorDescription = body.error_description;
  } catch {
    // Not an OAuth error body (a proxy's HTML page, say): the status speaks for itself.
  }
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'), now);
  const detail = error
    ? `${error}${errorDescription ? `: ${errorDescription}` : ''}`
    : 'no OAuth error';
  return new TokenEndpointError(
    `The token endpoint refused the request (HTTP ${response.status}, ${detail})`,
    { status: response.status, error, errorDescription, retryAfter, response },
  );
}

function readTokenResponse(text: string, params: ExchangeParams): TokenResponse {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new TokenResponseError(
      'ERR_INVALID_TOKEN_RESPONSE',
      'The token endpoint answered 2xx with a body that is not JSON',
    );
  }
  if (typeof body !== 'object' || body === null) {
    throw new TokenResponseError(
      'ERR_INVALID_TOKEN_RESPONSE',
      'The token endpoint answered 2xx with a body that is not a JSON object',
    );
  }
  const {
    access_token: accessToken,
    token_type: tokenType,
    expires_in: expiresIn,
  } = body as Record<string, unknown>;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new TokenResponseError(
      'ERR_INVALID_TOKEN_RESPONSE',
      'The token response has no access_token',
    );
  }
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    throw new TokenResponseError(
      'ERR_INVALID_TOKEN_RESPONSE',
      `The token response has token_type ${JSON.stringify(typeof tokenType === 'string' ? tokenType : null)}; expected bearer`,
    );
  }
  return { accessToken, expiresIn: lifetime(expiresIn, accessToken, params) };
}

function lifetime(expiresIn: unknown, accessToken: string, params: ExchangeParams): number {
  if (expiresIn !== undefined && expiresIn !== null) {
    const seconds = typeof expiresIn === 'string' ? Number(expiresIn) : expiresIn;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
      throw new TokenResponseError(
        'ERR_INVALID_TOKEN_RESPONSE',
        'The token response has an invalid expires_in',
      );
    }
    return seconds;
  }
  try {
    const { exp } = decodeJwt(accessToken);
    if (typeof exp === 'number') {
      const seconds = exp - params.now / 1000;
      if (seconds > 0) return seconds;
    }
  } catch {
    // An opaque token: nothing to read.
  }
  return params.fallbackExpiresIn;
}
