import { expectNoLeaks } from '@drillster-auth/testing/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DrillsterAuth, DrillsterAuthEvent, DrillsterAuthOptions } from '../src/index.js';
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

const clients: DrillsterAuth[] = [];
/** A client on the shared fixture, closed after the test so nothing it started outlives it. */
function client(overrides: Partial<DrillsterAuthOptions>): DrillsterAuth {
  const auth = fx.auth({ clock, ...overrides });
  clients.push(auth);
  return auth;
}

afterEach(() => {
  vi.restoreAllMocks();
  for (const auth of clients.splice(0)) auth.close();
  now = Date.now();
  fx.server.mock.clearFaults();
  fx.server.mock.resetStats();
  fx.server.mock.setTokenLifetime(3600);
  fx.events.length = 0;
});

const backgroundAttempts = () =>
  fx.events.filter((e) => e.type === 'token_requested' && e.background).length;
const failures = () =>
  fx.events.filter((e): e is Extract<DrillsterAuthEvent, { type: 'token_failed' }> => {
    return e.type === 'token_failed';
  });

/** Lets every pending promise callback run, so a refresh that was started has said so. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('a failing background refresh', () => {
  it('backs off between attempts instead of re-firing on every hit, and serves the old token meanwhile', async () => {
    const auth = client({ retry: false });
    const first = await auth.getAccessToken();
    fx.server.mock.resetStats();
    now += 56 * 60_000; // past the refresh moment (40–50 % of the life), 3.5 minutes before the margin
    fx.server.mock.injectFault({ status: 503, count: Number.POSITIVE_INFINITY });

    expect(await auth.getAccessToken()).toBe(first);
    await vi.waitFor(() => expect(failures()).toHaveLength(1));
    for (let i = 0; i < 500; i++) expect(await auth.getAccessToken()).toBe(first);
    await settle();
    expect(backgroundAttempts()).toBe(1);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expect(failures()).toHaveLength(1);
    expect(failures()[0]).toMatchObject({
      background: true,
      error: { code: 'ERR_TOKEN_ENDPOINT' },
    });

    // The first wait is at most 3.6 s (full jitter from 1/1000 of the hour-long life), the
    // second at most 7.2 s.
    now += 3600;
    expect(await auth.getAccessToken()).toBe(first);
    await vi.waitFor(() => expect(failures()).toHaveLength(2));
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
    now += 7200;
    expect(await auth.getAccessToken()).toBe(first);
    await vi.waitFor(() => expect(failures()).toHaveLength(3));
    expect(backgroundAttempts()).toBe(3);

    // The old token is served up to its margin, never inside it.
    now = first.expiresAt - 30_001;
    expect(await auth.getAccessToken()).toBe(first);
    now = first.expiresAt - 30_000;
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_ENDPOINT' });
  });

  it('doubles the wait after each failure, from 1/1000 to 1/40 of the life: 3.6 s to 90 s for an hour (full jitter: random() near 1 waits the most)', async () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(1 - 1e-9);
    try {
      const auth = client({ retry: false });
      const first = await auth.getAccessToken();
      now = first.expiresAt - 400_000; // 370 s before the margin: room for 3.6 + 7.2 + … + 57.6 + 90 s
      fx.server.mock.injectFault({ status: 503, count: Number.POSITIVE_INFINITY });
      await auth.getAccessToken();
      await vi.waitFor(() => expect(failures()).toHaveLength(1));
      for (const [index, wait] of [3600, 7200, 14_400, 28_800, 57_600, 90_000, 90_000].entries()) {
        expect(failures()[index]?.retryAt).toBe(now + wait);
        now += wait - 1;
        expect(await auth.getAccessToken()).toBe(first);
        await settle();
        expect(backgroundAttempts()).toBe(index + 1);
        now += 1;
        expect(await auth.getAccessToken()).toBe(first);
        await vi.waitFor(() => expect(failures()).toHaveLength(index + 2));
      }
    } finally {
      random.mockRestore();
    }
  });

  it('starts the backoff over after a refresh succeeds', async () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(1 - 1e-9);
    try {
      const auth = client({ retry: false });
      const first = await auth.getAccessToken();
      now = first.expiresAt - 240_000;
      fx.server.mock.injectFault({ status: 503, count: 2 });
      await auth.getAccessToken();
      await vi.waitFor(() => expect(failures()).toHaveLength(1));
      now += 3600;
      await auth.getAccessToken();
      await vi.waitFor(() => expect(failures()).toHaveLength(2));
      now += 7200; // the third attempt succeeds
      await auth.getAccessToken();
      let second = first;
      await vi.waitFor(async () => {
        second = await auth.getAccessToken();
        expect(second).not.toBe(first);
      });
      now = second.expiresAt - 240_000;
      fx.server.mock.injectFault({ status: 503 });
      await auth.getAccessToken();
      await vi.waitFor(() => expect(failures()).toHaveLength(3));
      expect(failures()[2]?.retryAt).toBe(now + 3600);
    } finally {
      random.mockRestore();
    }
  });

  it('honours Retry-After between background attempts', async () => {
    const auth = client({ retry: false });
    const first = await auth.getAccessToken();
    fx.server.mock.resetStats();
    now += 56 * 60_000;
    fx.server.mock.injectFault({ status: 503, retryAfter: 120, count: Number.POSITIVE_INFINITY });
    await auth.getAccessToken();
    await vi.waitFor(() => expect(failures()).toHaveLength(1));
    expect(failures()[0]?.retryAt).toBe(now + 120_000);
    now += 119_000;
    expect(await auth.getAccessToken()).toBe(first);
    await settle();
    expect(backgroundAttempts()).toBe(1);
    now += 1000;
    expect(await auth.getAccessToken()).toBe(first);
    await vi.waitFor(() => expect(failures()).toHaveLength(2));
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('says no retryAt when the token goes stale before the next attempt may start', async () => {
    const auth = client({ retry: false });
    const first = await auth.getAccessToken();
    now = first.expiresAt - 240_000; // stale in 210 s
    fx.server.mock.injectFault({ status: 503, retryAfter: 210, count: Number.POSITIVE_INFINITY });
    await auth.getAccessToken();
    await vi.waitFor(() => expect(failures()).toHaveLength(1));
    expect(failures()[0]).not.toHaveProperty('retryAt');
    now += 209_999;
    expect(await auth.getAccessToken()).toBe(first);
    await settle();
    expect(backgroundAttempts()).toBe(1);
  });

  it('backs off after invalid_grant too, and its events carry no secret', async () => {
    const user = fx.server.mock.addManagedUser(fx.account.serviceAccountId);
    const auth = client({});
    const first = await auth.getAccessToken({ subject: user.userId });
    fx.server.mock.resetStats();
    now += 56 * 60_000;
    fx.server.mock.injectFault({
      status: 400,
      body: JSON.stringify({ error: 'invalid_grant', error_description: 'user was removed' }),
      count: Number.POSITIVE_INFINITY,
    });
    expect(await auth.getAccessToken({ subject: user.userId })).toBe(first);
    await vi.waitFor(() => expect(failures()).toHaveLength(1));
    for (let i = 0; i < 100; i++) {
      expect(await auth.getAccessToken({ subject: user.userId })).toBe(first);
    }
    await settle();
    expect(backgroundAttempts()).toBe(1);
    expectNoLeaks(fx.events, {
      clientSecret: fx.client.clientSecret,
      privateKey: fx.account.keyFile.privateKey,
      accessToken: first.accessToken,
    });
  });
});

describe('the refresh moment', () => {
  /** A client whose subjects all draw `spreadPoint` as their place in the spread (until the test ends). */
  function placed(spreadPoint: number, overrides: Partial<DrillsterAuthOptions> = {}) {
    vi.spyOn(Math, 'random').mockReturnValue(spreadPoint);
    return client(overrides);
  }

  it('is 40 % of the life at the start of the spread, to the millisecond', async () => {
    const auth = placed(0);
    const first = await auth.getAccessToken();
    now = first.expiresAt - 3_600_000 + 1_440_000 - 1;
    expect(await auth.getAccessToken()).toBe(first);
    await settle();
    expect(backgroundAttempts()).toBe(0);
    now += 1;
    expect(await auth.getAccessToken()).toBe(first);
    await vi.waitFor(() => expect(fx.server.mock.stats.tokensIssued).toBe(2));
    expect(backgroundAttempts()).toBe(1);
  });

  it('is fromRatio + spreadRatio × the slot’s place in the spread (0.5: 45 %; fromRatio 0.6: 65 %)', async () => {
    for (const [options, at] of [
      [{}, 1_620_000],
      [{ refresh: { fromRatio: 0.6 } }, 2_340_000],
    ] as const) {
      fx.events.length = 0;
      const auth = placed(0.5, options);
      const first = await auth.getAccessToken();
      now = first.expiresAt - 3_600_000 + at - 1;
      await auth.getAccessToken();
      await settle();
      expect(backgroundAttempts()).toBe(0);
      now += 1;
      await auth.getAccessToken();
      await vi.waitFor(() => expect(backgroundAttempts()).toBe(1));
      now = Date.now();
    }
  });

  // The deprecated window options still bound the refresh: given both, the old policy exactly.
  it('is no earlier than the deprecated window: the shorter of windowSeconds and windowRatio × lifetime', async () => {
    // 3600 s tokens: 10 % is 360 s, so the window is the last 300 s, not the last 360 s.
    const auth = placed(0, { refresh: { windowSeconds: 300, windowRatio: 0.1 } });
    const first = await auth.getAccessToken();
    now = first.expiresAt - 300_001;
    expect(await auth.getAccessToken()).toBe(first);
    await settle();
    expect(backgroundAttempts()).toBe(0);

    now = first.expiresAt - 300_000;
    expect(await auth.getAccessToken()).toBe(first);
    await vi.waitFor(() => expect(fx.server.mock.stats.tokensIssued).toBe(2));
    expect(backgroundAttempts()).toBe(1);
  });

  it('is no earlier than the deprecated windowRatio when that is shorter', async () => {
    fx.server.mock.setTokenLifetime(600); // 10 %: 60 s, shorter than 300 s
    const auth = placed(0, { refresh: { windowSeconds: 300, windowRatio: 0.1 } });
    const first = await auth.getAccessToken();
    now = first.expiresAt - 60_001;
    expect(await auth.getAccessToken()).toBe(first);
    await settle();
    expect(backgroundAttempts()).toBe(0);
    now = first.expiresAt - 60_000;
    expect(await auth.getAccessToken()).toBe(first);
    await vi.waitFor(() => expect(backgroundAttempts()).toBe(1));
  });

  it('spreads subjects: the refreshes of many subjects whose tokens were issued together do not arrive together', async () => {
    const subjects = Array.from(
      { length: 20 },
      () => fx.server.mock.addManagedUser(fx.account.serviceAccountId).userId,
    );
    const auth = client({});
    const firsts = await Promise.all(subjects.map((subject) => auth.getAccessToken({ subject })));
    const issuedAt = Math.min(...firsts.map((t) => t.expiresAt)) - 3_600_000;
    // Every subject is called each second from 40 % to 50 % of the life; record when each one's
    // refresh was requested.
    const started = new Map<string, number>();
    for (let at = 1_440_000; at <= 1_800_000; at += 1000) {
      now = issuedAt + at;
      await Promise.all(subjects.map((subject) => auth.getAccessToken({ subject })));
      await settle();
      for (const e of fx.events) {
        if (e.type === 'token_requested' && e.background && !started.has(e.subject)) {
          started.set(e.subject, at);
        }
      }
    }
    expect(started.size).toBe(20);
    const seconds = new Set([...started.values()].map((at) => Math.floor(at / 1000)));
    // 20 draws over 360 one-second buckets: almost surely 15 or more distinct seconds.
    expect(seconds.size).toBeGreaterThanOrEqual(15);
  });
});

describe('the expiry margin', () => {
  it('serves a token until 30 s before expiry, to the millisecond', async () => {
    const auth = client({ refresh: { windowSeconds: 0 } });
    const first = await auth.getAccessToken();
    now = first.expiresAt - 30_001;
    expect(await auth.getAccessToken()).toBe(first);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    now = first.expiresAt - 30_000;
    expect(await auth.getAccessToken()).not.toBe(first);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });
});

describe('close()', () => {
  it('stops a background refresh that is waiting to retry, and starts no more', async () => {
    const auth = client({});
    const first = await auth.getAccessToken();
    fx.server.mock.resetStats();
    now += 56 * 60_000;
    fx.server.mock.injectFault({ status: 503, retryAfter: 1, count: Number.POSITIVE_INFINITY });
    await auth.getAccessToken();
    await vi.waitFor(() => expect(fx.events.some((e) => e.type === 'retry')).toBe(true));
    auth.close();
    await vi.waitFor(() => expect(failures()).toHaveLength(1));
    expect(failures()[0]).toMatchObject({ background: true, error: { code: 'ERR_ABORTED' } });
    now += 60_000;
    expect(await auth.getAccessToken()).toBe(first); // still served until its margin
    await settle();
    expect(backgroundAttempts()).toBe(1);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });
});
