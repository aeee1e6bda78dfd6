import { DiscoveryError, DrillsterAuthError } from './errors.js';
import { type HttpClient, requireSecureUrl } from './http.js';

/** Drillster's issuer. */
export const DEFAULT_ISSUER = 'https://www.drillster.com';

/**
 * Finds the token endpoint from the issuer's RFC 8414 metadata
 * (`/.well-known/oauth-authorization-server`, then `/.well-known/openid-configuration`),
 * and checks that the metadata names the same issuer (RFC 8414 §3.3).
 *
 * @throws {DiscoveryError} `ERR_DISCOVERY` or `ERR_ISSUER_MISMATCH`.
 * @throws {ConfigurationError} `ERR_INSECURE_ENDPOINT` when the advertised endpoint is not https.
 */
export async function discoverTokenEndpoint(
  http: HttpClient,
  issuer: string,
  signal?: AbortSignal,
): Promise<string> {
  const issuerUrl = requireSecureUrl(issuer, 'issuer');
  const path = issuerUrl.pathname === '/' ? '' : issuerUrl.pathname.replace(/\/$/, '');
  const candidates = [
    `${issuerUrl.origin}/.well-known/oauth-authorization-server${path}`,
    `${issuerUrl.origin}${path}/.well-known/openid-configuration`,
  ];
  let lastStatus = 0;
  for (const url of candidates) {
    const { response, text } = await http.request(
      url,
      { method: 'GET', headers: { accept: 'application/json' } },
      signal,
    );
    if (response.status === 404) {
      lastStatus = 404;
      continue;
    }
    if (!response.ok) {
      throw new DiscoveryError('ERR_DISCOVERY', `${url} answered HTTP ${response.status}`);
    }
    return readMetadata(text, url, issuer);
  }
  throw new DiscoveryError(
    'ERR_DISCOVERY',
    `No authorization server metadata for ${issuer} (HTTP ${lastStatus} at ${candidates.join(' and ')})`,
  );
}

function readMetadata(text: string, url: string, issuer: string): string {
  let metadata: unknown;
  try {
    metadata = JSON.parse(text);
  } catch {
    throw new DiscoveryError('ERR_DISCOVERY', `${url} did not return JSON`);
  }
  if (typeof metadata !== 'object' || metadata === null) {
    throw new DiscoveryError('ERR_DISCOVERY', `${url} did not return a JSON object`);
  }
  const { issuer: advertised, token_endpoint: tokenEndpoint } = metadata as Record<string, unknown>;
  if (typeof advertised !== 'string' || stripSlash(advertised) !== stripSlash(issuer)) {
    throw new DiscoveryError(
      'ERR_ISSUER_MISMATCH',
      `${url} describes issuer ${JSON.stringify(advertised)}, not ${issuer}`,
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
