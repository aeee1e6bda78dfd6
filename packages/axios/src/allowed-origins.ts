import { ConfigurationError, DRILLSTER_API_BASE_URL, originOf } from '@drillster-auth/core';
import type { AxiosInstance } from 'axios';
import { browserBase } from './request-origin.js';

/** Where tokens go when the instance has no `baseURL`: Drillster's API. */
const DRILLSTER_API_ORIGIN = originOf(DRILLSTER_API_BASE_URL);

/** Decides which origins may receive tokens. */
export type OriginPolicy = (origin: string) => boolean;

/**
 * `allowedOrigins` when given; otherwise the origin of `instance.defaults.baseURL`, read on each
 * request so a `baseURL` set after attaching counts, or Drillster's API without one. A `baseURL`
 * that does not resolve allows nothing: failing closed keeps tokens home.
 */
export function createOriginPolicy(
  instance: AxiosInstance,
  allowedOrigins: readonly string[] | undefined,
): OriginPolicy {
  if (allowedOrigins !== undefined) {
    const allowed = new Set(allowedOrigins.map(normalizeOrigin));
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

function normalizeOrigin(value: string): string {
  const origin = typeof value === 'string' ? originOf(value) : undefined;
  if (origin === undefined) {
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      `allowedOrigins must hold absolute http(s) URLs; got ${JSON.stringify(String(value))}`,
    );
  }
  return origin;
}
