import {
  type DrillsterRequestOptions as CoreDrillsterRequestOptions,
  DRILLSTER_ISSUER,
} from '@drillster-auth/core';

/**
 * Per-request settings, passed as the `drillster` field of an axios request config: core's
 * `DrillsterRequestOptions` (`subject`, default the `subject` of {@link DrillsterAxiosOptions};
 * `skip`) and `retry`.
 */
export interface DrillsterAxiosRequestOptions extends CoreDrillsterRequestOptions {
  /**
   * Whether a 401 answer makes the request go out once more with a new token. Default `true`.
   * The interceptor sets it to `false` on that one retry, so a second 401 reaches the caller.
   */
  retry?: boolean;
}

/** Options of {@link attachDrillsterAuth} and {@link createDrillsterInterceptors}. */
export interface DrillsterAxiosOptions {
  /**
   * Default subject of requests that do not name one in `config.drillster.subject`; a
   * non-empty string. Default: the service account itself.
   */
  subject?: string;
  /**
   * Origins (`https://host[:port]`) that may receive Drillster tokens, as absolute `http:` or
   * `https:` URLs (reduced to their origin; read by core's `parseAllowedOrigins`, as edge reads
   * its list); requests to any other origin go out untouched and never cause a token request.
   * Replaces the default, which is the origin of the instance's `baseURL`, or Drillster's (core's
   * `DRILLSTER_API_BASE_URL`) when it has none.
   */
  allowedOrigins?: readonly string[];
}

/**
 * Where Drillster's API lives; the origin tokens go to when the instance has no `baseURL`.
 * @deprecated Use `DRILLSTER_ISSUER` from `@drillster-auth/core` (the same origin), or
 * `originOf(DRILLSTER_API_BASE_URL)`. Kept until 1.0.
 */
export const DRILLSTER_API_ORIGIN = DRILLSTER_ISSUER;

/**
 * The axios adapter's per-request settings.
 * @deprecated Renamed {@link DrillsterAxiosRequestOptions}: core's `DrillsterRequestOptions` is
 * the shape both adapters share. Kept until 1.0.
 */
export type DrillsterRequestOptions = DrillsterAxiosRequestOptions;

declare module 'axios' {
  interface AxiosRequestConfig {
    /** Drillster token settings of this request. See {@link DrillsterAxiosRequestOptions}. */
    drillster?: DrillsterAxiosRequestOptions;
  }
}
