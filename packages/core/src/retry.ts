import {
  ConfigurationError,
  DiscoveryError,
  type DrillsterAuthError,
  NetworkError,
  TokenEndpointError,
} from './errors.js';
import { MAX_TIMER_DELAY, numberOption } from './validate.js';

/** How failed token requests are retried. */
export interface RetryOptions {
  /** Attempts in all, the first included: a whole number from 1 to 10. Default 3. */
  attempts?: number;
  /** Base of the exponential backoff, in milliseconds, from 0 to 2^31 − 1. Default 250. */
  baseDelay?: number;
  /**
   * Longest wait between attempts, in milliseconds, from 0 to 2^31 − 1; a longer `Retry-After`
   * ends the retries. Default 10000.
   */
  maxDelay?: number;
}

export interface RetryPolicy {
  attempts: number;
  baseDelay: number;
  maxDelay: number;
}

/** More attempts than this only make a failing endpoint's outage longer for the caller. */
const MAX_ATTEMPTS = 10;

/**
 * The validated retry policy of `options` (`false`: one attempt).
 *
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` naming the option, e.g. `retry.attempts`.
 */
export function retryPolicy(options: RetryOptions | false | undefined): RetryPolicy {
  if (options === false) return { attempts: 1, baseDelay: 0, maxDelay: 0 };
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'retry must be an object or false');
  }
  const delay = (value: number | undefined, name: string, fallback: number) =>
    numberOption(value, name, { default: fallback, min: 0, max: MAX_TIMER_DELAY });
  return {
    attempts: numberOption(options?.attempts, 'retry.attempts', {
      default: 3,
      min: 1,
      max: MAX_ATTEMPTS,
      integer: true,
    }),
    baseDelay: delay(options?.baseDelay, 'retry.baseDelay', 250),
    maxDelay: delay(options?.maxDelay, 'retry.maxDelay', 10_000),
  };
}

/**
 * Network errors, timeouts and a token endpoint's or metadata server's 408, 429 and 5xx are
 * transient; OAuth 4xx errors and unusable answers are not.
 */
export function isRetryable(error: unknown): error is DrillsterAuthError {
  if (error instanceof NetworkError) return true;
  const status = answered(error)?.status;
  return status !== undefined && (status === 408 || status === 429 || status >= 500);
}

/** The error of a server that answered with an HTTP error status (or a document we refuse). */
function answered(error: unknown): TokenEndpointError | DiscoveryError | undefined {
  return error instanceof TokenEndpointError || error instanceof DiscoveryError ? error : undefined;
}

/**
 * Exponential backoff with full jitter, in whole milliseconds: a random wait from 0 up to (not
 * including) `min(cap, base × 2^(attempt − 1))`. `attempt` counts failures from 1.
 */
export function backoffDelay(
  attempt: number,
  base: number,
  cap: number,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1)));
}

/**
 * Milliseconds to wait before attempt `attempt + 1`: exponential backoff with full jitter, or the
 * server's `Retry-After`. `undefined` when the server asks for longer than `maxDelay`.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  error: DrillsterAuthError,
  random: () => number = Math.random,
): number | undefined {
  const retryAfter = answered(error)?.retryAfter;
  if (retryAfter !== undefined) {
    const wait = retryAfter * 1000;
    return wait <= policy.maxDelay ? wait : undefined;
  }
  return backoffDelay(attempt, policy.baseDelay, policy.maxDelay, random);
}

/** Resolves after `ms`, or rejects with the signal's reason. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
