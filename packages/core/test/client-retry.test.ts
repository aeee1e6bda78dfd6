import { expectNoLeaks } from '@drillster-auth/testing/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AccessToken, TokenEndpointError } from '../src/index.js';
import { isRetryable, retryDelay, retryPolicy } from '../src/retry.js';
import { type Fixture, startFixture } from './server.js';

let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture();
});

afterAll(async () => {
  await fx.server.close();
});

afterEach(() => {
  fx.server.mock.clearFaults();
  fx.server.mock.resetStats();
  fx.events.length = 0;
});

const retries = () => fx.events.filter((e) => e.type === 'retry');

describe('backoff arithmetic', () => {
  const policy = retryPolicy({ attempts: 5, baseDelay: 100, maxDelay: 1000 });
  const error = new TokenEndpointError('503', { status: 503, response: new Response(null) });

  it('waits random × min(maxDelay, baseDelay × 2^(attempt − 1)), rounded down', () => {
    expect(retryDelay(policy, 1, error, () => 0.5)).toBe(50);
    expect(retryDelay(policy, 2, error, () => 0.5)).toBe(100);
    expect(retryDelay(policy, 3, error, () => 0.5)).toBe(200);
    expect(retryDelay(policy, 5, error, () => 0.5)).toBe(500); // 1600 capped at 1000
    expect(retryDelay(policy, 1, error, () => 0)).toBe(0);
    expect(retryDelay(policy, 1, error, () => 0.999_999)).toBe(99);
    expect(retryDelay(policy, 30, error, () => 0.999_999)).toBe(999);
  });

  it('waits what Retry-After says, unless that is longer than maxDelay', () => {
    const after = (seconds: number) =>
      new TokenEndpointError('429', {
        status: 429,
        retryAfter: seconds,
        response: new Response(null),
      });
    expect(retryDelay(policy, 1, after(1), () => 0)).toBe(1000);
    expect(retryDelay(policy, 1, after(0), () => 0.5)).toBe(0);
    expect(retryDelay(policy, 1, after(1.001), () => 0)).toBeUndefined();
  });

  it('treats 408, 429 and 5xx as transient, other statuses not', () => {
    const status = (s: number) =>
      isRetryable(new TokenEndpointError(String(s), { status: s, response: new Response(null) }));
    expect([408, 429, 500, 503, 599].map(status)).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 407, 409, 499].map(status)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('retries against the mock', () => {
  it('retries a 408', async () => {
    fx.server.mock.injectFault({ status: 408 });
    await expect(fx.auth().getAccessToken()).resolves.toBeInstanceOf(AccessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
    expect(retries()).toHaveLength(1);
  });

  it('corrects the clock only on invalid_grant, not on another refusal with a far-off Date', async () => {
    fx.server.mock.injectFault({ status: 401, dateOffsetMs: 2 * 3600_000, count: 1 });
    const error = await fx
      .auth()
      .getAccessToken()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT', error: 'invalid_client' });
    expect(fx.events.some((e) => e.type === 'clock_skew')).toBe(false);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });

  it('does not count the skew correction as an attempt', async () => {
    const auth = fx.auth({
      clock: () => Date.now() - 2 * 3600_000,
      retry: { attempts: 3, baseDelay: 1 },
    });
    fx.server.mock.injectFault({ delayMs: 0 }); // the first request is refused for the skew itself
    fx.server.mock.injectFault({ status: 503, count: 2 });
    await expect(auth.getAccessToken()).resolves.toBeInstanceOf(AccessToken);
    expect(fx.server.mock.stats.rejections.invalid_grant).toBe(1);
    expect(fx.server.mock.stats.tokenRequests).toBe(4);
    expect(retries().map((e) => e.type === 'retry' && e.attempt)).toEqual([1, 2]);
  });

  it('corrects the clock once per mint: a second invalid_grant with the same Date is final', async () => {
    const auth = fx.auth({ clock: () => Date.now() - 2 * 3600_000 });
    fx.server.mock.injectFault({ delayMs: 0 });
    fx.server.mock.injectFault({
      status: 400,
      body: JSON.stringify({ error: 'invalid_grant' }),
      dateOffsetMs: 4 * 3600_000,
      count: 1,
    });
    const error = await auth.getAccessToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ error: 'invalid_grant' });
    expect(fx.events.filter((e) => e.type === 'clock_skew')).toHaveLength(1);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });
});

describe('cancellation', () => {
  it('resolves a getAccessToken({ signal }) that is not aborted', async () => {
    const auth = fx.auth();
    const token = await auth.getAccessToken({ signal: new AbortController().signal });
    expect(token).toBeInstanceOf(AccessToken);
    const header = await fx.auth().getAuthorizationHeader({ signal: new AbortController().signal });
    expect(header).toMatch(/^Bearer /);
  });

  it('stops one caller during a backoff wait; the shared request goes on', async () => {
    const auth = fx.auth();
    fx.server.mock.injectFault({ status: 503, retryAfter: 1 });
    const controller = new AbortController();
    const aborted = auth.getAccessToken({ signal: controller.signal });
    const patient = auth.getAccessToken();
    await vi.waitFor(() => expect(retries()).toHaveLength(1));
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(patient).resolves.toBeInstanceOf(AccessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('close() ends a backoff wait at once, with ERR_ABORTED and no further request', async () => {
    const auth = fx.auth();
    fx.server.mock.injectFault({ status: 503, retryAfter: 1, count: 3 });
    const pending = auth.getAccessToken();
    await vi.waitFor(() => expect(retries()).toHaveLength(1));
    auth.close();
    const error = await pending.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_ABORTED' });
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expectNoLeaks([error, fx.events], {
      clientSecret: fx.client.clientSecret,
      privateKey: fx.account.keyFile.privateKey,
    });
  });
});
