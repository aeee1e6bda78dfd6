import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AccessToken,
  ConfigurationError,
  createDrillsterAuth,
  DrillsterAuthError,
  TokenEndpointError,
} from '../src/index.js';
import { callApi, type Fixture, startFixture } from './server.js';

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
  fx.server.mock.setTokenLifetime(3600);
  fx.events.length = 0;
});

describe('getAccessToken', () => {
  it('discovers the token endpoint, mints a token, and the API accepts it', async () => {
    const auth = fx.auth();
    const token = await auth.getAccessToken();
    expect(token).toBeInstanceOf(AccessToken);
    expect(token.tokenType).toBe('Bearer');
    expect(token.subject).toBe(fx.account.serviceAccountId);
    expect(await auth.getTokenEndpoint()).toBe(fx.server.tokenEndpoint);
    expect(await callApi(fx.server, await auth.getAuthorizationHeader())).toBe(200);
    expect(fx.server.mock.stats.tokensIssued).toBe(1);
    const issued = fx.events.find((e) => e.type === 'token_issued');
    expect(issued).toMatchObject({ type: 'token_issued', lifetime: 3600 });
  });

  it('serves the cached token without another request, as the same object', async () => {
    const auth = fx.auth();
    const first = await auth.getAccessToken();
    const second = await auth.getAccessToken();
    expect(second).toBe(first);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expect(fx.events.filter((e) => e.type === 'cache_hit')).toHaveLength(1);
  });

  it('answers a hit with the same settled promise, until the token is invalidated', async () => {
    const auth = fx.auth();
    const token = await auth.getAccessToken();
    const hit = auth.getAccessToken();
    expect(auth.getAccessToken()).toBe(hit);
    await expect(hit).resolves.toBe(token);
    await auth.invalidate();
    const next = auth.getAccessToken();
    expect(next).not.toBe(hit);
    expect((await next).accessToken).not.toBe(token.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('lets cold callers without options share one promise of the request in flight, failure included', async () => {
    const auth = fx.auth();
    fx.server.mock.injectFault({ status: 400 });
    const first = auth.getAccessToken();
    const joined = auth.getAccessToken();
    expect(auth.getAccessToken()).toBe(joined);
    await expect(first).rejects.toMatchObject({ code: 'ERR_TOKEN_ENDPOINT' });
    await expect(joined).rejects.toBe(await first.catch((error: unknown) => error));
    // The failed request is over: the next caller starts a new one, not the old promise.
    const next = auth.getAccessToken();
    expect(next).not.toBe(joined);
    const token = await next;
    expect(await auth.getAccessToken()).toBe(token);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('makes exactly one token request for 1,000 concurrent callers on a cold cache', async () => {
    const auth = fx.auth();
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => auth.getAccessToken()));
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
  });

  it('gets separate tokens for managed users, by id and by email', async () => {
    const user = fx.server.mock.addManagedUser(fx.account.serviceAccountId);
    const auth = fx.auth();
    const [own, byId, byEmail] = await Promise.all([
      auth.getAccessToken(),
      auth.getAccessToken({ subject: user.userId }),
      auth.getAccessToken({ subject: user.email }),
    ]);
    expect(byId.subject).toBe(user.userId);
    expect(byEmail.subject).toBe(user.email);
    expect(new Set([own.accessToken, byId.accessToken, byEmail.accessToken]).size).toBe(3);
    expect(fx.server.mock.stats.tokenRequestsBySubject).toMatchObject({
      [fx.account.serviceAccountId]: 1,
      [user.userId]: 1,
      [user.email]: 1,
    });
    expect((await fx.server.mock.verifyAccessToken(byId.accessToken))?.subject).toBe(user.userId);
  });

  it('refuses a subject the service account does not manage, without retrying', async () => {
    const auth = fx.auth();
    const error = await auth.getAccessToken({ subject: 'not-a-managed-user' }).catch((e) => e);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error.code).toBe('ERR_TOKEN_ENDPOINT');
    expect(error.error).toBe('invalid_grant');
    expect(error.status).toBe(400);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });

  it('does not cache a failure: the next call asks again', async () => {
    const auth = fx.auth({ retry: false });
    fx.server.mock.injectFault({ status: 503, count: 1 });
    await expect(auth.getAccessToken()).rejects.toMatchObject({ status: 503 });
    await expect(auth.getAccessToken()).resolves.toBeInstanceOf(AccessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('forceRefresh gets a new token', async () => {
    const auth = fx.auth();
    const first = await auth.getAccessToken();
    const second = await auth.getAccessToken({ forceRefresh: true });
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(await auth.getAccessToken()).toBe(second);
  });

  it('invalidate(subject, { accessToken }) forgets only that token', async () => {
    const auth = fx.auth();
    const first = await auth.getAccessToken();
    await auth.invalidate(undefined, { accessToken: 'some-other-token' });
    expect(await auth.getAccessToken()).toBe(first);
    await auth.invalidate(undefined, { accessToken: first.accessToken });
    const second = await auth.getAccessToken();
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('createAssertion signs for the discovered endpoint', async () => {
    const auth = fx.auth();
    const assertion = await auth.createAssertion();
    const [, payload] = assertion.split('.');
    const claims = JSON.parse(atob(payload!.replaceAll('-', '+').replaceAll('_', '/')));
    expect(claims.aud).toBe(fx.server.tokenEndpoint);
    expect(claims.iss).toBe(fx.account.serviceAccountId);
  });
});

describe('token responses', () => {
  it('reads the lifetime from the JWT exp when expires_in is absent', async () => {
    fx.server.mock.setTokenLifetime(1800);
    fx.server.mock.injectFault({ omitExpiresIn: true });
    const token = await fx.auth().getAccessToken();
    const verified = await fx.server.mock.verifyAccessToken(token.accessToken);
    expect(verified?.expiresAt).toBeGreaterThan(Date.now() + 1790_000);
    expect(token.expiresAt).toBe(verified?.expiresAt);
  });

  it('accepts token_type in any case', async () => {
    fx.server.mock.injectFault({ tokenType: 'BeArEr' });
    await expect(fx.auth().getAccessToken()).resolves.toBeInstanceOf(AccessToken);
  });

  it('rejects a token type other than bearer', async () => {
    fx.server.mock.injectFault({ tokenType: 'mac' });
    await expect(fx.auth().getAccessToken()).rejects.toMatchObject({
      code: 'ERR_INVALID_TOKEN_RESPONSE',
    });
  });

  it('rejects a 200 whose body is not JSON', async () => {
    fx.server.mock.injectFault({
      status: 200,
      body: '<html>maintenance</html>',
      contentType: 'text/html',
    });
    await expect(fx.auth().getAccessToken()).rejects.toMatchObject({
      code: 'ERR_INVALID_TOKEN_RESPONSE',
    });
  });

  it('keeps the RFC 6749 error fields of a refusal', async () => {
    const auth = fx.auth({ clientSecret: 'wrong-secret-value' });
    const error = await auth.getAccessToken().catch((e) => e);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(Object.keys(error)).not.toContain('response');
  });
});

describe('retries', () => {
  it('retries 5xx and succeeds', async () => {
    fx.server.mock.injectFault({ status: 503, count: 2 });
    const token = await fx.auth().getAccessToken();
    expect(token).toBeInstanceOf(AccessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(3);
    expect(
      fx.events.filter((e) => e.type === 'retry').map((e) => e.type === 'retry' && e.attempt),
    ).toEqual([1, 2]);
  });

  it('gives up after 3 attempts in all', async () => {
    fx.server.mock.injectFault({ status: 500, count: 10 });
    await expect(fx.auth().getAccessToken()).rejects.toMatchObject({ status: 500 });
    expect(fx.server.mock.stats.tokenRequests).toBe(3);
  });

  it('honours Retry-After in seconds', async () => {
    fx.server.mock.injectFault({ status: 429, retryAfter: 1 });
    await fx.auth().getAccessToken();
    const retry = fx.events.find((e) => e.type === 'retry');
    expect(retry).toMatchObject({ delayMs: 1000 });
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('honours Retry-After as an HTTP date', async () => {
    fx.server.mock.injectFault({
      status: 503,
      retryAfter: new Date(Date.now() + 2000).toUTCString(),
    });
    await fx.auth().getAccessToken();
    const retry = fx.events.find((e) => e.type === 'retry');
    expect(retry?.type === 'retry' && retry.delayMs).toBeGreaterThanOrEqual(1000);
    expect(retry?.type === 'retry' && retry.delayMs).toBeLessThanOrEqual(2000);
  });

  it('does not wait for a Retry-After longer than maxDelay', async () => {
    fx.server.mock.injectFault({ status: 503, retryAfter: 120 });
    const error = await fx
      .auth()
      .getAccessToken()
      .catch((e) => e);
    expect(error).toMatchObject({ status: 503, retryAfter: 120 });
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });

  it('retries a dropped connection and reports ERR_NETWORK when it persists', async () => {
    fx.server.mock.injectFault({ dropConnection: true, count: 3 });
    const error = await fx
      .auth()
      .getAccessToken()
      .catch((e) => e);
    expect(error).toBeInstanceOf(DrillsterAuthError);
    expect(error.code).toBe('ERR_NETWORK');
    expect(error.cause).toBeDefined();
    expect(fx.events.filter((e) => e.type === 'retry')).toHaveLength(2);
  });

  it('times out a slow endpoint with ERR_TIMEOUT', async () => {
    fx.server.mock.injectFault({ delayMs: 1000, count: 1 });
    const auth = fx.auth({ timeout: 100, retry: false });
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  it('reports an unreachable endpoint as ERR_NETWORK', async () => {
    const auth = fx.auth({ tokenEndpoint: 'http://127.0.0.1:9/daas/oauth/token', retry: false });
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'ERR_NETWORK' });
  });
});

describe('clock skew', () => {
  it('recovers from a local clock two hours behind, once, and keeps the offset', async () => {
    const twoHours = 2 * 3600_000;
    const auth = fx.auth({ clock: () => Date.now() - twoHours });
    const token = await auth.getAccessToken();
    expect(token).toBeInstanceOf(AccessToken);
    const skew = fx.events.find((e) => e.type === 'clock_skew');
    expect(skew?.type === 'clock_skew' && Math.abs(skew.offsetMs - twoHours)).toBeLessThan(5000);
    expect(fx.server.mock.stats.rejections.invalid_grant).toBe(1);
    fx.server.mock.resetStats();
    await auth.getAccessToken({ forceRefresh: true });
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });

  it('recovers when the server’s clock is the one that is off', async () => {
    fx.server.mock.injectFault({ dateOffsetMs: 90 * 60_000 });
    const token = await fx.auth().getAccessToken();
    expect(token).toBeInstanceOf(AccessToken);
    expect(fx.events.some((e) => e.type === 'clock_skew')).toBe(true);
  });

  it('does not loop when the skew correction does not help', async () => {
    const auth = fx.auth({
      clientSecret: fx.client.clientSecret,
      key: fx.account.keyFile,
      clock: () => Date.now() - 7200_000,
    });
    const error = await auth.getAccessToken({ subject: 'nobody-we-manage' }).catch((e) => e);
    expect(error).toMatchObject({ error: 'invalid_grant' });
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });
});

describe('refresh window', () => {
  it('nextRefreshAt says when a hit starts the background refresh, for any policy', async () => {
    let now = Date.now();
    const clock = () => now;
    const server = await startFixture({ clock });
    try {
      const auth = server.auth({ clock });
      expect(auth.nextRefreshAt()).toBeUndefined();
      const first = await auth.getAccessToken();
      const refreshAt = auth.nextRefreshAt()!;
      expect(refreshAt).toBeGreaterThan(now);
      expect(refreshAt).toBeLessThan(first.expiresAt);
      expect(auth.nextRefreshAt(server.account.serviceAccountId)).toBe(refreshAt);
      expect(() => auth.nextRefreshAt('')).toThrow(ConfigurationError);

      now = refreshAt - 1;
      await auth.getAccessToken();
      expect(server.server.mock.stats.tokenRequests).toBe(1);
      now = refreshAt;
      expect(await auth.getAccessToken()).toBe(first);
      await vi.waitFor(() => expect(auth.nextRefreshAt()).not.toBe(refreshAt));
      expect(server.server.mock.stats.tokenRequests).toBe(2);
    } finally {
      await server.server.close();
    }
  });

  it('serves the token while one background refresh runs, and never within 30 s of expiry', async () => {
    let now = Date.now();
    const clock = () => now;
    const server = await startFixture({ clock });
    try {
      const auth = server.auth({ clock });
      const first = await auth.getAccessToken();
      expect(first.expiresAt).toBe(now + 3600_000);

      now += 20 * 60_000; // before the refresh moment (40–50 % of the life: 24 to 30 minutes)
      expect(await auth.getAccessToken()).toBe(first);
      await new Promise((resolve) => setImmediate(resolve));
      expect(server.events.some((e) => e.type === 'token_requested' && e.background)).toBe(false);
      expect(server.server.mock.stats.tokenRequests).toBe(1);

      now += 36 * 60_000; // past it
      const during = await Promise.all([auth.getAccessToken(), auth.getAccessToken()]);
      expect(during).toEqual([first, first]);
      // The old token is served until the one background refresh has the new one in memory.
      const refreshed = await vi.waitFor(
        async () => {
          const token = await auth.getAccessToken();
          expect(token).not.toBe(first);
          return token;
        },
        { timeout: 5000, interval: 10 },
      );
      expect(refreshed.accessToken).not.toBe(first.accessToken);
      expect(server.server.mock.stats.tokenRequests).toBe(2);

      now = refreshed.expiresAt - 29_000; // inside the 30 s margin: never served
      const next = await auth.getAccessToken();
      expect(next.accessToken).not.toBe(refreshed.accessToken);
      expect(server.server.mock.stats.tokenRequests).toBe(3);
    } finally {
      await server.server.close();
    }
  });

  it('keeps serving the current token when a background refresh fails', async () => {
    let now = Date.now();
    const clock = () => now;
    const server = await startFixture({ clock });
    try {
      const auth = server.auth({ clock, retry: false });
      const first = await auth.getAccessToken();
      now += 57 * 60_000;
      server.server.mock.injectFault({ status: 503 });
      expect(await auth.getAccessToken()).toBe(first);
      await vi.waitFor(
        () => expect(server.events.some((e) => e.type === 'token_failed')).toBe(true),
        { timeout: 5000, interval: 10 },
      );
      expect(server.events.find((e) => e.type === 'token_failed')).toMatchObject({
        background: true,
      });
      expect(await auth.getAccessToken()).toBe(first);
    } finally {
      await server.server.close();
    }
  });

  it('refreshes a 10-minute token from 40 to 50 % of its life (4 to 5 minutes)', async () => {
    let now = Date.now();
    const clock = () => now;
    const server = await startFixture({ clock, tokenLifetime: 600 });
    try {
      const auth = server.auth({ clock });
      const first = await auth.getAccessToken();
      now += 239_999; // just before 40 %
      expect(await auth.getAccessToken()).toBe(first);
      await new Promise((resolve) => setImmediate(resolve));
      expect(server.events.some((e) => e.type === 'token_requested' && e.background)).toBe(false);
      expect(server.server.mock.stats.tokenRequests).toBe(1);
      now += 60_001; // 50 %: past every slot's moment
      await auth.getAccessToken();
      await vi.waitFor(() => expect(server.server.mock.stats.tokenRequests).toBe(2), {
        timeout: 5000,
        interval: 10,
      });
    } finally {
      await server.server.close();
    }
  });
});

describe('cancellation', () => {
  it('does not start a request for a signal that is already aborted', async () => {
    const auth = fx.auth();
    const controller = new AbortController();
    controller.abort();
    await expect(auth.getAccessToken({ signal: controller.signal })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
    expect(fx.server.mock.stats.tokenRequests).toBe(0);
  });

  it('stops one caller waiting without cancelling the shared request', async () => {
    fx.server.mock.injectFault({ delayMs: 300 });
    const auth = fx.auth();
    const controller = new AbortController();
    const aborted = auth.getAccessToken({ signal: controller.signal });
    const patient = auth.getAccessToken();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(patient).resolves.toBeInstanceOf(AccessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });
});

describe('short-lived tokens', () => {
  it('caches a token that lives under a minute instead of minting per call', async () => {
    fx.server.mock.setTokenLifetime(20);
    const auth = fx.auth();
    const first = await auth.getAccessToken();
    expect(await auth.getAccessToken()).toBe(first);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });
});

describe('options', () => {
  it.each([[null], [42], ['subject']])(
    'refuses %j as options with a rejection, never a throw, even with a token cached',
    async (options) => {
      const auth = fx.auth();
      await auth.getAccessToken();
      let pending: Promise<unknown> | undefined;
      expect(() => {
        pending = auth.getAccessToken(options as unknown as undefined);
      }).not.toThrow();
      await expect(pending).rejects.toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
      await expect(
        auth.getAuthorizationHeader(options as unknown as undefined),
      ).rejects.toBeInstanceOf(ConfigurationError);
    },
  );
});

describe('subjects', () => {
  it.each([[''], [42]])('refuses %j as a subject without a request', async (subject) => {
    await expect(
      fx.auth().getAccessToken({ subject: subject as unknown as string }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
    expect(fx.server.mock.stats.tokenRequests).toBe(0);
  });
});

describe('discovery', () => {
  it('is shared, and one caller aborting does not fail the others', async () => {
    const auth = fx.auth();
    const controller = new AbortController();
    const aborted = auth.getTokenEndpoint({ signal: controller.signal });
    const patient = auth.getTokenEndpoint();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(patient).resolves.toBe(fx.server.tokenEndpoint);
  });
});

describe('configuration', () => {
  it('refuses plain http except on loopback', () => {
    expect(() => fx.auth({ tokenEndpoint: 'http://www.drillster.com/daas/oauth/token' })).toThrow(
      expect.objectContaining({ code: 'ERR_INSECURE_ENDPOINT' }),
    );
    expect(() => fx.auth({ issuer: 'http://example.com' })).toThrow(ConfigurationError);
    expect(() => fx.auth({ tokenEndpoint: 'http://localhost:1/token' })).not.toThrow();
  });

  it.each([
    ['clientId', { clientId: '' }],
    ['clientSecret', { clientSecret: undefined as unknown as string }],
    ['assertionLifetime', { assertionLifetime: 3601 }],
    ['timeout', { timeout: 0 }],
  ])('names an invalid %s', (name, overrides) => {
    try {
      createDrillsterAuth({
        key: fx.account.keyFile,
        clientId: 'c',
        clientSecret: 's',
        ...overrides,
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
      expect((error as Error).message).toContain(name);
    }
  });
});
