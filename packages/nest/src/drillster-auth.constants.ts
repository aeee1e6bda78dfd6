/**
 * Injection token of the module's core client, a `DrillsterAuth` from `@drillster-auth/core`.
 * Strings rather than symbols, so the CommonJS and ESM builds of this package agree on them.
 */
export const DRILLSTER_AUTH = 'DRILLSTER_AUTH';

/** Injection token of the preconfigured Drillster API client (an `AxiosInstance`). */
export const DRILLSTER_API = 'DRILLSTER_API';

/** Internal: the API client together with the function that detaches its interceptors. */
export const DRILLSTER_API_BINDING = 'DRILLSTER_API_BINDING';

/** Base URL of Drillster's REST API, the API client's default. */
export const DEFAULT_DRILLSTER_API_BASE_URL = 'https://www.drillster.com/api/2.1.1/';

/**
 * Seconds a widget token has left at least unless `widgetTokenMinValidity` says otherwise: 15
 * minutes, a practice session in the Drillster Player with room to spare. The widget cannot renew
 * its token, so a token with seconds to live would die before the learner's first answer.
 */
export const DEFAULT_WIDGET_TOKEN_MIN_VALIDITY = 900;
