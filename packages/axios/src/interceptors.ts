import {
  AbortError,
  authorizationHeader,
  type DrillsterAuth,
  textOption,
} from '@drillster-auth/core';
import {
  AxiosHeaders,
  type AxiosInstance,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
  isAxiosError,
} from 'axios';
import { createOriginPolicy } from './allowed-origins.js';
import type { DrillsterAxiosOptions } from './options.js';
import { authorizationKey, REDACTED_BEARER, redactToken } from './redact.js';
import { RequestOrigins } from './request-origin.js';
import { answerOrigin, trackFinalUrl } from './response-origin.js';

/** The two interceptors behind {@link attachDrillsterAuth}, for registering them yourself. */
export interface DrillsterInterceptors {
  /**
   * Request interceptor: adds `Authorization: Bearer <token>` to requests for allowed origins
   * that carry no `Authorization` header yet. Rejects with the core's `DrillsterAuthError` when
   * no token can be had.
   */
  onRequest: (config: InternalAxiosRequestConfig) => Promise<InternalAxiosRequestConfig>;
  /**
   * Response interceptor: on an answer to a request that carried our token, the config's
   * `Authorization` header becomes `Bearer [redacted]` and the raw `request` no longer shows the
   * token, so a logged answer does not print it.
   */
  onResponse: (response: AxiosResponse) => AxiosResponse;
  /**
   * Response error interceptor: on a 401 from the origin that received our token, forgets that
   * token and sends the request once more, through the same instance, with a new one. Errors of
   * requests that carried our token are redacted as answers are; other errors pass unchanged.
   */
  onResponseError: (error: unknown) => Promise<AxiosResponse>;
}

interface SentToken {
  subject: string | undefined;
  accessToken: string;
  /** The `Authorization` header it went out in (core's `authorizationHeader`). */
  header: string;
  /** Where the token went; only an answer from there may judge it. */
  origin: string;
}

/**
 * Creates the request and response error interceptors for `instance`; register `onRequest`
 * with `instance.interceptors.request.use` and `onResponseError` as the rejection handler of
 * `instance.interceptors.response.use`. Most code wants {@link attachDrillsterAuth} instead.
 *
 * Tokens come from `auth`, so every instance sharing one `auth` shares its cache and its single
 * token request: after a rejected token, concurrent 401s cause one token request in all.
 *
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` when `allowedOrigins` is not an array of
 * absolute http(s) URLs (a bad entry is named by its index) or `subject` is given but not a
 * non-empty string.
 */
export function createDrillsterInterceptors(
  instance: AxiosInstance,
  auth: DrillsterAuth,
  options: DrillsterAxiosOptions = {},
): DrillsterInterceptors {
  const allowed = createOriginPolicy(instance, options.allowedOrigins);
  const origins = new RequestOrigins();
  const defaultSubject =
    options.subject === undefined ? undefined : textOption(options.subject, 'subject');
  // Keyed by the config object axios hands to the adapter and puts on its errors; a token is
  // recorded only when we added it, so a caller's own Authorization header is never retried.
  const sent = new WeakMap<InternalAxiosRequestConfig, SentToken>();

  const onRequest = async (config: InternalAxiosRequestConfig) => {
    if (config.drillster?.skip === true) return config;
    const headers = AxiosHeaders.from(config.headers);
    config.headers = headers;
    let name = authorizationKey(headers);
    const existing: unknown = name === undefined ? undefined : headers[name];
    // Our own redacted header: a config from an earlier answer or error, sent again. It gets a
    // token like any request (and its 401 a retry), instead of going out as `Bearer [redacted]`.
    if (existing === REDACTED_BEARER) {
      delete headers[name as string];
      name = authorizationKey(headers);
    }
    // `null` means unset; `false` is axios' way of saying "never send this header".
    else if (existing != null) return config;
    const origin = origins.of(config);
    if (origin === undefined || !allowed(origin)) return config;
    // Only `undefined` falls back: a `null` or `''` (from `user?.id`) goes to core, which refuses
    // it, instead of quietly becoming the service account.
    const requested = config.drillster?.subject;
    const subject = requested === undefined ? defaultSubject : requested;
    const signal = abortSignal(config.signal);
    // Core would still start a token request for an already aborted signal, and nobody would
    // await it; refusing here also keeps the answer the same as for an abort while waiting.
    if (signal?.aborted) {
      throw new AbortError('ERR_ABORTED', 'The request was aborted before it got a token', {
        cause: signal.reason,
      });
    }
    // Without options core answers a cached token on its fastest path.
    const token = await (subject === undefined && signal === undefined
      ? auth.getAccessToken()
      : auth.getAccessToken({ subject, signal }));
    const header = authorizationHeader(token);
    headers[name ?? 'Authorization'] = header;
    trackFinalUrl(config);
    sent.set(config, { subject, accessToken: token.accessToken, header, origin });
    return config;
  };

  const onResponse = (response: AxiosResponse): AxiosResponse => {
    const token = sent.get(response.config);
    if (token !== undefined) redactToken(response.config, token.header, response);
    return response;
  };

  const onResponseError = async (error: unknown): Promise<AxiosResponse> => {
    if (!isAxiosError(error) || !error.config) throw error;
    const config = error.config;
    const token = sent.get(config);
    if (token === undefined) throw error;
    const response = error.response;
    const judged =
      response?.status === 401 &&
      config.drillster?.retry !== false &&
      // After a redirect the 401 may come from elsewhere; only the origin that got the token
      // can say it is bad. When the adapter does not tell where the answer came from, no retry.
      answerOrigin(response, token.origin) === token.origin;
    redactToken(config, token.header, error, response);
    if (!judged) throw error;
    // Core forgets the token only where it still is the one that failed, so the first 401 per
    // token causes the one refresh and the others share it; it never hands back the rejected
    // token. The retry's request interceptor then finds the replacement in memory.
    const signal = abortSignal(config.signal);
    await auth.getReplacementToken(token.accessToken, {
      ...(token.subject === undefined ? {} : { subject: token.subject }),
      ...(signal === undefined ? {} : { signal }),
    });
    const headers = new AxiosHeaders(config.headers);
    headers.delete('Authorization');
    return instance.request({
      ...config,
      headers,
      drillster: { ...config.drillster, subject: token.subject, retry: false },
    });
  };

  return { onRequest, onResponse, onResponseError };
}

function abortSignal(signal: InternalAxiosRequestConfig['signal']): AbortSignal | undefined {
  // axios accepts any AbortSignal-like object; core needs the real thing.
  return typeof AbortSignal !== 'undefined' && signal instanceof AbortSignal ? signal : undefined;
}
