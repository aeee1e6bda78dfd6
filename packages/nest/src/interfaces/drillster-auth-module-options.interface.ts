import type { DrillsterAuthOptions } from '@drillster-auth/core';
import type { CreateAxiosDefaults } from 'axios';

/** Settings of the injectable Drillster API client. */
export interface DrillsterApiOptions {
  /** Base URL of requests; only its origin receives tokens. Default `https://www.drillster.com/api/2.1.1/`. */
  baseURL?: string;
  /** Further `axios.create` settings (timeout, headers…). `baseURL` above wins over the one here. */
  axios?: CreateAxiosDefaults;
  /** Origins that may receive tokens, replacing the default: the origin of `baseURL`. */
  allowedOrigins?: readonly string[];
}

/**
 * Options of {@link DrillsterAuthModule}: those of `createDrillsterAuth` from
 * `@drillster-auth/core` (key, clientId, clientSecret, issuer, cache…) plus the API client's.
 */
export interface DrillsterAuthModuleOptions extends DrillsterAuthOptions {
  /** The injectable API client. Default: Drillster's API at `https://www.drillster.com/api/2.1.1/`. */
  api?: DrillsterApiOptions;
  /**
   * Seconds a token from `getWidgetToken` has left at least; a cached token with less is
   * replaced by a new one. A widget gets its token once, with the page, and cannot renew it, so
   * the token has to outlast a learner's session in it. Default 900 (15 minutes: a practice
   * session in the Player, with room to spare), from 0 to 86400. Tokens that live shorter than
   * this make `getWidgetToken` fail with `ERR_INVALID_OPTIONS`.
   */
  widgetTokenMinValidity?: number;
}
