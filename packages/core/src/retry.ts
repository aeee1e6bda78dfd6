import { type DrillsterAuthError, NetworkError, TokenEndpointError } from './errors.js';

/** How failed token requests are retried. */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 3. */
  attempts?: number;
  /** Base of the exponential backoff, in milliseconds. Default 250. */
  baseDelay?: number;
  /** Longest wait between attempts, in milliseconds; a longer `Retry-After` ends the retries. Default 10000. */
  maxDelay?: number;
}

export interface RetryPolicy {
  attempts: number;
  baseDelay: number;
  maxDelay: number;
}

export function retryPolicy(options: RetryOptions | false | undefined): RetryPolicy {
  if (options === false) return { attempts: 1, baseDelay: 0, maxDelay: 0 };
  return {
    attempts: Math.max(1, Math.floor(options?.attempts ?? 3)),
    baseDelay: Math.max(0, options?.baseDelay ?? 250),
    maxDelay: Math.max(0, options?.maxDelay ?? 10_000),
  };
}

/** Network errors, timeouts, 408, 429 and 5xx are transient; OAuth 4xx errors are not. */
export function isRetryable(error: unknown): error is DrillsterAuthError {
  if (error instanceof NetworkError) return true;
  if (error instanceof TokenEndpointError) {
    return error.status === 408 || error.status === 429 || error.status >= 500;
  }
  return false;
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
  if (error instanceof TokenEndpointError && error.retryAfter !== undefined) {
    const wait = error.retryAfter * 1000;
    return wait <= policy.maxDelay ? wait : undefined;
  }
  return Math.floor(random() * Math.min(policy.maxDelay, policy.baseDelay * 2 ** (attempt - 1)));
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
