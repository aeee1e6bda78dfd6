import { expectNoLeaks } from '@drillster-auth/testing/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  createDrillsterAuth,
  type DrillsterAuth,
  type DrillsterAuthOptions,
  MemoryTokenCache,
} from '../src/index.js';
import { type Fixture, startFixture } from './server.js';

let fx: Fixture;
let now = Date.now();
const clock = () => now;

beforeAll(async () => {
  fx = await startFixture({ clock });
});

afterAll(async () => {
  await fx.server.close();
});

afterEach(() => {
  now = Date.now();
  fx.server.mock.clearFaults();
  fx.server.mock.resetStats();
  fx.server.mock.setTokenLifetime(3600);
  fx.events.length = 0;
});

function expectInvalidOption(error: unknown, name: string): void {
  expect(error).toBeInstanceOf(ConfigurationError);
  expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
  expect((error as Error).message).toContain(name);
}

describe('subject', () => {
  const invalid: [string, unknown][] = [
    ['null', null],
    ['an empty string', ''],
    ['a number', 42],
    ['an object', { toString: () => 'x' }],
    ['false', false],
  ];

  it.each(invalid)(
    'refuses %s in every method, even with the service account token cached',
    async (_, subject) => {
      const auth = fx.auth({ clock });
      await auth.getAccessToken();
      fx.server.mock.resetStats();
      const bad = { subject: subject as string };
      const errors = [
        await auth.getAccessToken(bad).catch((e: unknown) => e),
        await auth.getAuthorizationHeader(bad).catch((e: unknown) => e),
        await auth.invalidate(subject as string).catch((e: unknown) => e),
        await auth.createAssertion(bad).catch((e: unknown) => e),
      ];
      for (const error of errors) expectInvalidOption(error, 'subject');
      expect(fx.server.mock.stats.tokenRequests).toBe(0);
      // The service account's token was not invalidated by invalidate(null).
      await auth.getAccessToken();
      expect(fx.server.mock.stats.tokenRequests).toBe(0);
    },
  );

  it('takes undefined, and only undefined, as the service account', async () => {
    const auth = fx.auth({ clock });
    const own = await auth.getAccessToken({ subject: undefined });
    expect(own.subject).toBe(fx.account.keyFile.serviceAccountId);
    expect(await auth.getAccessToken()).toBe(own);
  });
});

describe('numeric options', () => {
  const base = () => ({ key: fx.account.keyFile, clientId: 'client', clientSecret: 'secret' });
  const cases: [string, Partial<DrillsterAuthOptions>][] = [
    ['timeout', { timeout: Number.POSITIVE_INFINITY }],
    ['timeout', { timeout: 2 ** 32 }],
    ['timeout', { timeout: 1500.5 }],
    ['timeout', { timeout: Number.NaN }],
    ['retry.attempts', { retry: { attempts: Number.NaN } }],
    ['retry.attempts', { retry: { attempts: 0 } }],
    ['retry.attempts', { retry: { attempts: 2.5 } }],
    ['retry.attempts', { retry: { attempts: Number.POSITIVE_INFINITY } }],
    ['retry.baseDelay', { retry: { baseDelay: Number.NaN } }],
    ['retry.baseDelay', { retry: { baseDelay: -1 } }],
    ['retry.baseDelay', { retry: { baseDelay: Number.POSITIVE_INFINITY } }],
    ['retry.maxDelay', { retry: { maxDelay: Number.NaN } }],
    ['retry.maxDelay', { retry: { maxDelay: 2 ** 31 } }],
    ['retry', { retry: 'yes' as unknown as false }],
    ['maxSubjects', { maxSubjects: Number.NaN }],
    ['maxSubjects', { maxSubjects: 0 }],
    ['maxSubjects', { maxSubjects: 10.5 }],
    ['cacheFailurePause', { cacheFailurePause: Number.NaN }],
    ['cacheFailurePause', { cacheFailurePause: -1 }],
    ['assertionLifetime', { assertionLifetime: 30.5 }],
    ['refresh.windowSeconds', { refresh: { windowSeconds: Number.NaN } }],
    ['refresh.windowSeconds', { refresh: { windowSeconds: Number.POSITIVE_INFINITY } }],
    ['refresh.windowRatio', { refresh: { windowRatio: 1.5 } }],
    ['refresh.expiryMarginSeconds', { refresh: { expiryMarginSeconds: Number.POSITIVE_INFINITY } }],
    ['refresh.fromRatio', { refresh: { fromRatio: Number.NaN } }],
    ['refresh.fromRatio', { refresh: { fromRatio: -0.1 } }],
    ['refresh.fromRatio', { refresh: { fromRatio: 1.01 } }],
    ['refresh.spreadRatio', { refresh: { spreadRatio: Number.POSITIVE_INFINITY } }],
    ['refresh.spreadRatio', { refresh: { spreadRatio: -1 } }],
    ['refresh.fromRatio + refresh.spreadRatio', { refresh: { fromRatio: 0.8, spreadRatio: 0.3 } }],
    ['refresh', { refresh: 'early' as unknown as { fromRatio: number } }],
    ['defaultExpiresIn', { defaultExpiresIn: Number.POSITIVE_INFINITY }],
    ['clock', { clock: 42 as unknown as () => number }],
  ];

  it.each(cases)('refuses an invalid %s: %j', (name, overrides) => {
    let error: unknown;
    try {
      createDrillsterAuth({ ...base(), ...overrides });
    } catch (e) {
      error = e;
    }
    expectInvalidOption(error, name);
  });

  it('accepts the limits themselves', () => {
    expect(() =>
      createDrillsterAuth({
        ...base(),
        timeout: 2 ** 31 - 1,
        retry: { attempts: 1, baseDelay: 0, maxDelay: 0 },
        maxSubjects: 1,
        cacheFailurePause: 0,
        refresh: { windowSeconds: 0, windowRatio: 1, expiryMarginSeconds: 0 },
      }),
    ).not.toThrow();
    for (const refresh of [
      { fromRatio: 0, spreadRatio: 1 },
      { fromRatio: 1, spreadRatio: 0 },
      { fromRatio: 1 }, // the spread's default shrinks to fit: 0
      { fromRatio: 0.95 }, // 0.05
    ]) {
      expect(() => createDrillsterAuth({ ...base(), refresh })).not.toThrow();
    }
  });

  it.each([[Number.NaN], [0], [1.5], [-1], [Number.POSITIVE_INFINITY], ['10']])(
    'MemoryTokenCache refuses maxEntries %j',
    (maxEntries) => {
      let error: unknown;
      try {
        new MemoryTokenCache({ maxEntries: maxEntries as number });
      } catch (e) {
        error = e;
      }
      expectInvalidOption(error, 'maxEntries');
    },
  );

  it('MemoryTokenCache keeps at most maxEntries entries', () => {
    const cache = new MemoryTokenCache({ maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) {
      cache.set(key, {
        accessToken: 't',
        expiresAt: Date.now() + 60_000,
        issuedAt: Date.now(),
        subject: key,
      });
    }
    expect(cache.size).toBe(2);
  });
});

describe('minValidity', () => {
  const clients: DrillsterAuth[] = [];
  afterEach(() => {
    for (const auth of clients.splice(0)) auth.close();
  });
  const client = (overrides: Partial<DrillsterAuthOptions> = {}) => {
    const auth = fx.auth({ clock, ...overrides });
    clients.push(auth);
    return auth;
  };

  it('serves the cached token while it lasts that long, and gets a new one below it', async () => {
    const auth = client();
    const first = await auth.getAccessToken();
    now = first.expiresAt - 600_000; // 10 minutes left
    expect(await auth.getAccessToken({ minValidity: 600 })).toBe(first);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    const fresh = await Promise.all(
      Array.from({ length: 20 }, () => auth.getAccessToken({ minValidity: 900 })),
    );
    expect(new Set(fresh).size).toBe(1);
    expect(fresh[0]).not.toBe(first);
    expect(fresh[0]!.expiresAt - now).toBeGreaterThanOrEqual(900_000);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
    // Everyone gets the new token from now on.
    expect(await auth.getAccessToken()).toBe(fresh[0]);
  });

  it('applies to getAuthorizationHeader', async () => {
    const auth = client();
    const first = await auth.getAccessToken();
    now = first.expiresAt - 600_000;
    const header = await auth.getAuthorizationHeader({ minValidity: 900 });
    expect(header).not.toBe(`Bearer ${first.accessToken}`);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('does not take a token from the shared cache that expires too soon', async () => {
    const cache = new MemoryTokenCache({ clock });
    const first = await client({ cache }).getAccessToken();
    now = first.expiresAt - 600_000;
    const second = await client({ cache }).getAccessToken({ minValidity: 900 });
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
    // …but takes one that lasts long enough.
    const third = await client({ cache }).getAccessToken({ minValidity: 900 });
    expect(third.accessToken).toBe(second.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('does not settle for what a shared refresh brought when that expires too soon', async () => {
    const cache = new MemoryTokenCache({ clock });
    const b = client({ cache });
    const old = await b.getAccessToken(); // stored, and in b's memory
    now += 10 * 60_000;
    const newer = await client({ cache }).getAccessToken({ forceRefresh: true }); // replaces it in the cache
    now = old.expiresAt - 200_000; // old is in b's refresh window; newer has 800 s left
    expect(await b.getAccessToken()).toBe(old); // starts b's background refresh, which finds newer
    const lasting = await b.getAccessToken({ minValidity: 900 }); // joins it, and needs more
    expect(lasting.accessToken).not.toBe(newer.accessToken);
    expect(lasting.expiresAt - now).toBeGreaterThanOrEqual(900_000);
    expect(fx.server.mock.stats.tokensIssued).toBe(3);
  });

  it('fails with a typed error, once, when even a new token cannot last that long', async () => {
    const auth = client();
    const error = await auth.getAccessToken({ minValidity: 7200 }).catch((e: unknown) => e);
    expectInvalidOption(error, 'minValidity');
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    // The new token is cached for callers that ask less of it; asking again does not mint again.
    const token = await auth.getAccessToken();
    const again = await auth.getAccessToken({ minValidity: 7200 }).catch((e: unknown) => e);
    expectInvalidOption(again, 'minValidity');
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expectNoLeaks([error, again], {
      accessToken: token.accessToken,
      clientSecret: fx.client.clientSecret,
    });
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY], ['600'], [86_401]])(
    'refuses minValidity %j, even when a token is cached',
    async (minValidity) => {
      const auth = client();
      await auth.getAccessToken();
      const error = await auth
        .getAccessToken({ minValidity: minValidity as number })
        .catch((e: unknown) => e);
      expectInvalidOption(error, 'minValidity');
      expect(fx.server.mock.stats.tokenRequests).toBe(1);
    },
  );
});
