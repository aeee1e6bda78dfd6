import {
  ConfigurationError,
  createDrillsterAuth,
  DRILLSTER_ISSUER,
  type DrillsterAuth,
  type DrillsterAuthOptions,
} from '@drillster-auth/core';

/** The origin tokens are sent to unless `allowedOrigins` says otherwise: Drillster's. */
export const DEFAULT_ALLOWED_ORIGINS: readonly string[] = [DRILLSTER_ISSUER];

/** A ready client, or the options to create one with. */
export type AuthSource = DrillsterAuth | DrillsterAuthOptions;

/** A client from `source`, created if it is options. */
export function resolveAuth(source: AuthSource): DrillsterAuth {
  if (typeof source !== 'object' || source === null) {
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      'auth must be a DrillsterAuth or its options',
    );
  }
  // Duck-typed rather than instanceof, so a client from a second copy of core still works.
  if (typeof (source as DrillsterAuth).getAccessToken === 'function') {
    return source as DrillsterAuth;
  }
  return createDrillsterAuth(source as DrillsterAuthOptions);
}

/** The set of origins (`scheme://host[:port]`) given as URLs or origins. */
export function parseOrigins(origins: readonly string[] | undefined): ReadonlySet<string> {
  const list = origins ?? DEFAULT_ALLOWED_ORIGINS;
  if (!Array.isArray(list)) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'allowedOrigins must be an array of URLs');
  }
  const set = new Set<string>();
  for (const origin of list) {
    let url: URL;
    try {
      url = new URL(String(origin));
    } catch {
      throw new ConfigurationError(
        'ERR_INVALID_OPTIONS',
        `allowedOrigins entries must be absolute URLs; got ${JSON.stringify(String(origin))}`,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConfigurationError(
        'ERR_INVALID_OPTIONS',
        `allowedOrigins entries must be http(s) URLs; got ${url.protocol}`,
      );
    }
    set.add(url.origin);
  }
  return set;
}
