import { DRILLSTER_API_BASE_URL, originOf, parseAllowedOrigins } from '@drillster-auth/core';
import type { AxiosInstance } from 'axios';
import { browserBase } from './request-origin.js';

/** Where tokens go when the instance has no `baseURL`: Drillster's API. */
const DRILLSTER_API_ORIGIN = originOf(DRILLSTER_API_BASE_URL);

/** Decides which origins may receive tokens. */
export type OriginPolicy = (origin: string) => boolean;

/**
 * `allowedOrigins` when given, read by core's `parseAllowedOrigins` (absolute http(s) URLs only,
 * the edge adapter's rules); otherwise the origin of `instance.defaults.baseURL`, read on each
 * request so a `baseURL` set after attaching counts, or Drillster's API without one. A `baseURL`
 * that does not resolve allows nothing: failing closed keeps tokens home.
 */
export function createOriginPolicy(
  instance: AxiosInstance,
  allowedOrigins: readonly string[] | undefined,
): OriginPolicy {
  if (allowedOrigins !== undefined) {
    const allowed = parseAllowedOrigins(allowedOrigins);
    return (origin) => allowed.has(origin);
  }
  let lastBaseURL: unknown;
  let lastOrigin: string | undefined;
  return (origin) => {
    const baseURL = instance.defaults.baseURL;
    if (baseURL !== lastBaseURL) {
      lastBaseURL = baseURL;
      lastOrigin = baseURL ? originOf(baseURL, browserBase()) : DRILLSTER_API_ORIGIN;
    }
    return origin === lastOrigin;
  };
}
