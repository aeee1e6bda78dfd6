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
