export const TOKEN_PATH = '/daas/oauth/token';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * RFC 8414 metadata as Drillster publishes it. The authorization code flow is advertised like on
 * the real server, though this mock only implements the token endpoint's JWT bearer grant.
 */
export function authorizationServerMetadata(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/daas/oauth/authorize`,
    token_endpoint: `${issuer}${TOKEN_PATH}`,
    grant_types_supported: ['authorization_code', JWT_BEARER_GRANT],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: ['client_secret_post'],
  };
}
