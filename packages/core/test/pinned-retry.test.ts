// Pins src/retry.ts beyond the backoff arithmetic of client-retry.test.ts: the policy's defaults
// and refusals, what counts as retryable besides an HTTP status (and a metadata server's statuses,
// which discovery retries with the same predicates), and `sleep` with a signal.
// Found by mutation testing (`pnpm mutation`).
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  DiscoveryError,
  NetworkError,
  TokenResponseError,
} from '../src/errors.js';
import { isRetryable, retryDelay, retryPolicy, sleep } from '../src/retry.js';

describe('retryPolicy', () => {
  it('defaults to 3 attempts, 250 ms base and 10 s cap; false means one attempt and no wait', () => {
    expect(retryPolicy(undefined)).toEqual({ attempts: 3, baseDelay: 250, maxDelay: 10_000 });
    expect(retryPolicy({})).toEqual({ attempts: 3, baseDelay: 250, maxDelay: 10_000 });
    expect(retryPolicy(false)).toEqual({ attempts: 1, baseDelay: 0, maxDelay: 0 });
    expect(retryPolicy({ attempts: 10, baseDelay: 0, maxDelay: 0 })).toEqual({
      attempts: 10,
      baseDelay: 0,
      maxDelay: 0,
    });
  });

  it('refuses what is neither an object nor false, and more than 10 attempts', () => {
    for (const value of [null, true, 'yes', 3]) {
      let error: unknown;
      try {
        retryPolicy(value as unknown as false);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).code).toBe('ERR_INVALID_OPTIONS');
      expect((error as ConfigurationError).message).toBe('retry must be an object or false');
    }
    expect(() => retryPolicy({ attempts: 11 })).toThrow(/retry\.attempts/);
  });
});

describe('isRetryable', () => {
  it('is true for a NetworkError (timeouts too), false for other failures', () => {
    expect(isRetryable(new NetworkError('ERR_NETWORK', 'reset'))).toBe(true);
    expect(isRetryable(new NetworkError('ERR_TIMEOUT', 'slow'))).toBe(true);
    expect(isRetryable(new TokenResponseError('ERR_INVALID_TOKEN_RESPONSE', 'bad'))).toBe(false);
    expect(isRetryable(new DiscoveryError('ERR_DISCOVERY', 'unusable metadata'))).toBe(false);
    expect(isRetryable(new Error('plain'))).toBe(false);
    expect(isRetryable(undefined)).toBe(false);
  });
});

describe('a metadata server answers like the token endpoint', () => {
  it('its 408, 429 and 5xx are retryable, its other statuses are not', () => {
    for (const status of [408, 429, 500, 503, 599]) {
      expect(isRetryable(new DiscoveryError('ERR_DISCOVERY', 'x', { status }))).toBe(true);
    }
    for (const status of [400, 403, 404, 499]) {
      expect(isRetryable(new DiscoveryError('ERR_DISCOVERY', 'x', { status }))).toBe(false);
    }
  });

  it('its Retry-After is waited for up to maxDelay; a longer one ends the retries', () => {
    const policy = { attempts: 3, baseDelay: 100, maxDelay: 2000 };
    const after = (retryAfter: number) =>
      new DiscoveryError('ERR_DISCOVERY', 'x', { status: 503, retryAfter });
    expect(retryDelay(policy, 1, after(2), () => 0)).toBe(2000);
    expect(retryDelay(policy, 1, after(3), () => 0)).toBeUndefined();
    expect(
      retryDelay(policy, 2, new DiscoveryError('ERR_DISCOVERY', 'x', { status: 503 }), () => 0.5),
    ).toBe(100);
  });
});

describe('sleep', () => {
  it('resolves after the wait', async () => {
    const started = performance.now();
    await expect(sleep(30)).resolves.toBeUndefined();
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('rejects with the reason of a signal that fired before or during the wait', async () => {
    const reason = new Error('closed');
    await expect(sleep(10, AbortSignal.abort(reason))).rejects.toBe(reason);
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('leaves no listener on a signal that ended the wait', async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('leaves no listener on a signal once the wait is over', async () => {
    const controller = new AbortController();
    let listeners = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      if (args[0] === 'abort') listeners++;
      add(...args);
    }) as typeof add;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      if (args[0] === 'abort') listeners--;
      remove(...args);
    }) as typeof remove;
    await sleep(1, signal);
    expect(listeners).toBe(0);
  });
});
