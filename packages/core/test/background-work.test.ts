/**
 * Token work a call starts and does not wait for (a background refresh, a token request others
 * join): the `waitUntil` hook it is handed to, and what callers do when such work never settles
 * (a Worker request that ended took it along; see packages/edge/test/background-work.test.ts for
 * the same in workerd).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DrillsterAuth, DrillsterAuthOptions } from '../src/index.js';
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
function client(overrides: Partial<DrillsterAuthOptions> = {}): DrillsterAuth {
  const auth = fx.auth({ clock, ...overrides });
  clients.push(auth);
  return auth;
}

afterEach(() => {
  for (const auth of clients.splice(0)) auth.close();
  now = Date.now();
  fx.server.mock.clearFaults();
  fx.server.mock.resetStats();
  fx.events.length = 0;
});

/** A user the service account manages: a subject the mock issues tokens for. */
const managedUser = () => fx.server.mock.addManagedUser(fx.account.keyFile.serviceAccountId).userId;

const requested = (background: boolean) =>
  fx.events.filter((e) => e.type === 'token_requested' && e.background === background).length;

/** A `waitUntil` that keeps what it is handed. */
function collector() {
  const handed: Promise<unknown>[] = [];
  return { handed, waitUntil: (promise: Promise<unknown>) => void handed.push(promise) };
}

/** Past the refresh moment of a token just issued (40–50 % of its hour), far from stale. */
const REFRESH_DUE = 51 * 60_000;

describe('waitUntil', () => {
  it('gets the background refresh a hit starts, settling once the new token is in', async () => {
    const auth = client();
    await auth.getAccessToken();
    const refreshAt = auth.nextRefreshAt()!;
    now += REFRESH_DUE;
    const { handed, waitUntil } = collector();

    await auth.getAccessToken({ waitUntil });
    expect(handed).toHaveLength(1);
    expect(auth.nextRefreshAt()).toBe(refreshAt);
    await handed[0];
    expect(requested(true)).toBe(1);
    expect(auth.nextRefreshAt()).toBeGreaterThan(refreshAt);
    // A hit that starts nothing hands nothing over.
    await auth.getAccessToken({ waitUntil });
    expect(handed).toHaveLength(1);
  });

  it('gets a promise that resolves when the refresh fails', async () => {
    const auth = client({ retry: false });
    await auth.getAccessToken();
    now += REFRESH_DUE;
    fx.server.mock.injectFault({ status: 503 });
    const { handed, waitUntil } = collector();

    await auth.getAccessToken({ waitUntil });
    await expect(handed[0]).resolves.toBeUndefined();
    expect(fx.events.filter((e) => e.type === 'token_failed')).toHaveLength(1);
  });

  it('gets the token request a call starts, not the one a call joins', async () => {
    const auth = client();
    const starter = collector();
    const joiner = collector();
    const first = auth.getAccessToken({ waitUntil: starter.waitUntil });
    const second = auth.getAccessToken({ waitUntil: joiner.waitUntil });
    expect(starter.handed).toHaveLength(1);
    expect(joiner.handed).toHaveLength(0);
    await starter.handed[0];
    expect(fx.events.filter((e) => e.type === 'token_issued')).toHaveLength(1);
    expect(await second).toBe(await first);
  });

  it('is passed on by getWidgetToken and getAuthorizationHeader', async () => {
    const auth = client();
    const { handed, waitUntil } = collector();
    await auth.getWidgetToken(managedUser(), { waitUntil });
    expect(handed).toHaveLength(1);
    await auth.getAuthorizationHeader({ subject: managedUser(), waitUntil });
    expect(handed).toHaveLength(2);
  });

  it('that throws fails nothing: the call gets its token and the refresh goes on', async () => {
    const auth = client();
    const first = await auth.getAccessToken();
    now += REFRESH_DUE;
    const waitUntil = () => {
      throw new Error('Illegal invocation');
    };
    expect(await auth.getAccessToken({ waitUntil })).toBe(first);
    expect(await auth.getAccessToken({ subject: managedUser(), waitUntil })).toBeDefined();
    await expect.poll(() => fx.events.filter((e) => e.type === 'token_issued').length).toBe(3);
  });

  it('that is not a function is refused, even while a token is cached', async () => {
    const auth = client();
    await auth.getAccessToken();
    const waitUntil = 'ctx.waitUntil' as unknown as () => void;
    await expect(auth.getAccessToken({ waitUntil })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
      message: 'waitUntil must be a function',
    });
  });
});

/**
 * A `fetch` whose first request to a URL `match` accepts never settles, whatever its signal does
 * (what workerd makes of a request that belonged to an ended Worker request, with
 * `no_handle_cross_request_promise_resolution`); the others go out.
 */
function droppingFirst(match: (url: string) => boolean): typeof fetch {
  let dropped = false;
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!dropped && match(url)) {
      dropped = true;
      return new Promise<Response>(() => {});
    }
    return fetch(input, init);
  };
}
const tokenRequests = (url: string) => url.endsWith('/daas/oauth/token');
const elapsed = (from: number) => performance.now() - from;

// With retry off and a 50 ms timeout: the mint's attempt, the clock-skew retry and the shared
// cache's allowance make abandonAfter 150 ms; discovery's attempt adds 50.
describe('a token request that never settles', () => {
  it('is waited for by callers who join it no longer than abandonAfter; then they share a new one', async () => {
    const auth = client({
      retry: false,
      timeout: 50,
      tokenEndpoint: fx.server.tokenEndpoint,
      fetch: droppingFirst(tokenRequests),
    });
    const from = performance.now();
    const never = auth.getAccessToken();
    const joiner = auth.getAccessToken({});
    const bare = auth.getAccessToken();
    const [token, same] = await Promise.all([joiner, bare]);
    expect(elapsed(from)).toBeGreaterThanOrEqual(140);
    expect(same).toBe(token);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expect(await Promise.race([never, 'pending'])).toBe('pending');
  });

  it('older than abandonAfter is not joined: the next caller starts one at once', async () => {
    const auth = client({
      retry: false,
      timeout: 50,
      tokenEndpoint: fx.server.tokenEndpoint,
      fetch: droppingFirst(tokenRequests),
    });
    void auth.getAccessToken();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const from = performance.now();
    await auth.getAccessToken({});
    expect(elapsed(from)).toBeLessThan(140);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });

  it('as a background refresh holds back the next one only until abandonAfter', async () => {
    let sent = 0;
    const auth = client({
      retry: false,
      timeout: 50,
      tokenEndpoint: fx.server.tokenEndpoint,
      // The first refresh (the second token request) is dropped.
      fetch: (input, init) => (++sent === 2 ? new Promise<Response>(() => {}) : fetch(input, init)),
    });
    await auth.getAccessToken();
    const refreshAt = auth.nextRefreshAt()!;
    now += REFRESH_DUE;
    await auth.getAccessToken();
    await expect.poll(() => sent).toBe(2);
    await auth.getAccessToken();
    expect(requested(true)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await auth.getAccessToken();
    expect(requested(true)).toBe(2);
    await expect.poll(() => auth.nextRefreshAt()).toBeGreaterThan(refreshAt);
  });

  it('in discovery is started again once it is older than abandonAfter', async () => {
    const auth = client({
      retry: false,
      timeout: 50,
      issuer: fx.server.issuer,
      fetch: droppingFirst((url) => url.includes('/.well-known/')),
    });
    void auth.getAccessToken();
    const from = performance.now();
    await auth.getAccessToken({});
    expect(elapsed(from)).toBeGreaterThanOrEqual(190);
    expect(fx.server.mock.stats.metadataRequests).toBe(1);
    expect(await auth.getTokenEndpoint()).toBe(fx.server.tokenEndpoint);
  });
});
