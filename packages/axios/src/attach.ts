import type { DrillsterAuth } from '@drillster-auth/core';
import type { AxiosInstance } from 'axios';
import { createDrillsterInterceptors } from './interceptors.js';
import type { DrillsterAxiosOptions } from './options.js';

/**
 * Makes `instance` send Drillster access tokens from `auth`: requests to allowed origins get
 * `Authorization: Bearer <token>` unless they already have an `Authorization` header, and a 401
 * answer from the origin that got the token is retried once with a new token. Answers and errors
 * of those requests show the header as `Bearer [redacted]`.
 *
 * @returns A function that removes both interceptors again.
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` when `allowedOrigins` is not an array of
 * absolute http(s) URLs (a bad entry is named by its index) or `subject` is given but not a
 * non-empty string.
 *
 * @example
 * ```ts
 * const api = axios.create({ baseURL: 'https://www.drillster.com/api/2.1.1/' });
 * const detach = attachDrillsterAuth(api, auth);
 * await api.get('user', { drillster: { subject: 'user@example.com' } });
 * ```
 */
export function attachDrillsterAuth(
  instance: AxiosInstance,
  auth: DrillsterAuth,
  options?: DrillsterAxiosOptions,
): () => void {
  const { onRequest, onResponse, onResponseError } = createDrillsterInterceptors(
    instance,
    auth,
    options,
  );
  const request = instance.interceptors.request.use(onRequest);
  const response = instance.interceptors.response.use(onResponse, onResponseError);
  return () => {
    instance.interceptors.request.eject(request);
    instance.interceptors.response.eject(response);
  };
}
