import {
  DEFAULT_WIDGET_TOKEN_MIN_VALIDITY as CORE_DEFAULT_WIDGET_TOKEN_MIN_VALIDITY,
  DRILLSTER_API_BASE_URL,
} from '@drillster-auth/core';

/**
 * Injection token of the module's core client, a `DrillsterAuth` from `@drillster-auth/core`.
 * Strings rather than symbols, so the CommonJS and ESM builds of this package agree on them.
 */
export const DRILLSTER_AUTH = 'DRILLSTER_AUTH';

/** Injection token of the preconfigured Drillster API client (an `AxiosInstance`). */
export const DRILLSTER_API = 'DRILLSTER_API';

/** Internal: the API client together with the function that detaches its interceptors. */
export const DRILLSTER_API_BINDING = 'DRILLSTER_API_BINDING';

/**
 * Base URL of Drillster's REST API, the API client's default.
 * @deprecated Use `DRILLSTER_API_BASE_URL` from `@drillster-auth/core` (the same URL). Kept until 1.0.
 */
export const DEFAULT_DRILLSTER_API_BASE_URL = DRILLSTER_API_BASE_URL;

/**
 * Seconds a widget token has left at least unless `widgetTokenMinValidity` says otherwise (900).
 * @deprecated Use `DEFAULT_WIDGET_TOKEN_MIN_VALIDITY` from `@drillster-auth/core`, which this is.
 * Kept until 1.0.
 */
export const DEFAULT_WIDGET_TOKEN_MIN_VALIDITY = CORE_DEFAULT_WIDGET_TOKEN_MIN_VALIDITY;
