import { AbortError, type DrillsterAuth } from '@drillster-auth/core';
import {
  type AxiosError,
  AxiosHeaders,
  type AxiosInstance,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
  isAxiosError,
} from 'axios';
import { createOriginPolicy } from './allowed-origins.js';
import type { DrillsterAxiosOptions } from './options.js';
import { requestOrigin } from './request-origin.js';

/** The two interceptors behind {@link attachDrillsterAuth}, for registering them yourself. */
export interface DrillsterInterceptors {
  /**
   * Request interceptor: adds `Authorization: Bearer <token>` to requests for allowed origins
   * that carry no `Authorization` header yet. Rejects with the core's `DrillsterAuthError` when
   * no token can be had.
   */
  onRequest: (config: InternalAxiosRequestConfig) => Promise<InternalAxiosRequestConfig>;
  /**
   * Response error interceptor: on a 401 to a request that carried our token, forgets that token
   * and sends the request once more, through the same instance, with a new one. Any other error
   * is passed on unchanged.
   */
  onResponseError: (error: unknown) => Promise<AxiosResponse>;
}

interface SentToken {
  subject: string | undefined;
  accessToken: string;
}

/**
 * Creates the request and response error interceptors for `instance`; register `onRequest`
 * with `instance.interceptors.request.use` and `onResponseError` as the rejection handler of
 * `instance.interceptors.response.use`. Most code wants {@link attachDrillsterAuth} instead.
 *
 * Tokens come from `auth`, so every instance sharing one `auth` shares its cache and its single
 * token request: after a rejected token, concurrent 401s cause one token request in all.
 *
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` when an `allowedOrigins` entry is not a URL.
 */
export function createDrillsterInterceptors(
  instance: AxiosInstance,
  auth: DrillsterAuth,
  options: DrillsterAxiosOptions = {},
): DrillsterInterceptors {
  const allowed = createOriginPolicy(instance, options.allowedOrigins);
  // Keyed by the config object axios hands to the adapter and puts on its errors; a token is
  // recorded only when we added it, so a caller's own Authorization header is never retried.
  const sent = new WeakMap<InternalAxiosRequestConfig, SentToken>();

  const onRequest = async (config: InternalAxiosRequestConfig) => {
    if (config.drillster?.skip === true) return config;
    const headers = AxiosHeaders.from(config.headers);
    config.headers = headers;
    // `null` means unset; `false` is axios' way of saying "never send this header".
    if (headers.get('Authorization') != null) return config;
    const origin = requestOrigin(config);
    if (origin === undefined || !allowed(origin)) return config;
    const subject = config.drillster?.subject ?? options.subject;
    const signal = abortSignal(config.signal);
    // Core would still start a token request for an already aborted signal, and nobody would
    // await it; refusing here also keeps the answer the same as for an abort while waiting.
    if (signal?.aborted) {
      throw new AbortError('ERR_ABORTED', 'The request was aborted before it got a token', {
        cause: signal.reason,
      });
    }
    const token = await auth.getAccessToken({ subject, signal });
    headers.set('Authorization', `Bearer ${token.accessToken}`);
    sent.set(config, { subject, accessToken: token.accessToken });
    return config;
  };

  const onResponseError = async (error: unknown): Promise<AxiosResponse> => {
    if (!isAxiosError(error) || !error.config) throw error;
    const config = error.config;
    const token = sent.get(config);
    if (token === undefined) throw error;
    if (error.response?.status !== 401 || config.drillster?.retry === false) {
      throw redactToken(error, config);
    }
    // Only the first 401 per token forgets it; the others find a newer token (or the one request
    // already fetching it) and retry with that, never with the token that failed.
    await auth.invalidate(token.subject, { accessToken: token.accessToken });
    const headers = new AxiosHeaders(config.headers);
    headers.delete('Authorization');
    return instance.request({
      ...config,
      headers,
      drillster: { ...config.drillster, subject: token.subject, retry: false },
    });
  };

  return { onRequest, onResponseError };
}

/**
 * Keeps the token we added out of what a logged error shows: axios puts the request config (with
 * its headers) and the raw request (with the header bytes) on its errors, and both print in
 * `util.inspect` and `JSON.stringify`. The header becomes `Bearer [redacted]`; `request` stays
 * readable but is no longer enumerable.
 */
function redactToken(error: AxiosError, config: InternalAxiosRequestConfig): AxiosError {
  config.headers = AxiosHeaders.from(config.headers).set('Authorization', REDACTED_BEARER);
  for (const holder of [error, error.response]) {
    if (holder && Object.hasOwn(holder, 'request')) {
      Object.defineProperty(holder, 'request', {
        value: holder.request,
        enumerable: false,
        writable: true,
        configurable: true,
      });
    }
  }
  return error;
}

const REDACTED_BEARER = 'Bearer [redacted]';

function abortSignal(signal: InternalAxiosRequestConfig['signal']): AbortSignal | undefined {
  // axios accepts any AbortSignal-like object; core needs the real thing.
  return typeof AbortSignal !== 'undefined' && signal instanceof AbortSignal ? signal : undefined;
}
