import { describe, expect, it } from 'vitest';
import type { CachedToken, DrillsterAuthEvent, TokenCache } from '../src/index.js';
import { SharedCache } from '../src/shared-cache.js';

// The shared cache's guard without HTTP: a fake TokenCache, a clock that is a variable.
const T0 = 1_700_000_000_000;
const timing = {
  fromRatio: 0.4,
  spreadRatio: 0.1,
  windowMs: Number.POSITIVE_INFINITY,
  windowRatio: 1,
  marginMs: 30_000,
};

function setup(cache: TokenCache, pause = 5000) {
  let now = T0;
  const events: DrillsterAuthEvent[] = [];
  const shared = new SharedCache(
    cache,
    pause,
    timing,
    () => now,
    (event) => events.push(event),
  );
  return { shared, events, advance: (ms: number) => (now += ms) };
}

const good: CachedToken = {
  accessToken: 'stored-token',
  issuedAt: T0,
  expiresAt: T0 + 3_600_000,
  subject: 'sa',
};

function failing(): TokenCache {
  return {
    get: () => Promise.reject(new Error('down')),
    set: () => Promise.reject(new Error('down')),
    delete: () => Promise.reject(new Error('down')),
  };
}

describe('SharedCache: pause after failure', () => {
  it('a failed call gives undefined, reports cache_error and pauses the cache for cacheFailurePause ms', async () => {
    const { shared, events, advance } = setup(failing(), 5000);
    expect(shared.paused()).toBe(false);
    await expect(shared.call('get', () => Promise.reject(new Error('down')))).resolves.toBe(
      undefined,
    );
    expect(events).toEqual([{ type: 'cache_error', operation: 'get', error: expect.any(Error) }]);
    expect(shared.paused()).toBe(true);
    advance(4999);
    expect(shared.paused()).toBe(true);
    advance(1);
    expect(shared.paused()).toBe(false);
  });

  it('a pause of 0 never pauses', async () => {
    const { shared } = setup(failing(), 0);
    await shared.call('delete', () => Promise.reject(new Error('down')));
    expect(shared.paused()).toBe(false);
  });

  it('mintAndStore does not write to a cache paused while minting', async () => {
    const writes: CachedToken[] = [];
    const cache: TokenCache = {
      get: () => undefined,
      set: (_k, t) => void writes.push(t),
      delete: () => {},
    };
    const { shared } = setup(cache);
    await shared.mintAndStore('k', async () => good);
    expect(writes).toEqual([good]);
    shared.failed('get', new Error('down'));
    await shared.mintAndStore('k', async () => good);
    expect(writes).toHaveLength(1);
  });
});

describe('SharedCache: the usable check', () => {
  const { shared } = setup({ get: () => undefined, set: () => {}, delete: () => {} });

  it('serves a sane token for the subject', () => {
    expect(shared.usable(good, 'sa', 0)).toBe(true);
  });

  it("refuses another subject's token, a token expiring before minExpiresAt or inside the margin, one issued over 5 min in the future, a malformed one", () => {
    expect(shared.usable(good, 'user', 0)).toBe(false);
    expect(shared.usable(good, 'sa', good.expiresAt + 1)).toBe(false);
    expect(shared.usable(good, 'sa', good.expiresAt)).toBe(true);
    expect(
      shared.usable({ ...good, expiresAt: T0 + 30_000, issuedAt: T0 - 3_600_000 }, 'sa', 0),
    ).toBe(false);
    expect(
      shared.usable({ ...good, issuedAt: T0 + 300_001, expiresAt: T0 + 3_000_000 }, 'sa', 0),
    ).toBe(false);
    expect(shared.usable({ ...good, accessToken: 'has space' }, 'sa', 0)).toBe(false);
  });
});

describe('SharedCache: single flight', () => {
  const signal = new AbortController().signal;

  it('without singleFlight, mints and stores its own token', async () => {
    const { shared } = setup({ get: () => undefined, set: () => {}, delete: () => {} });
    await expect(shared.mintShared('k', 'sa', async () => good, 0, signal)).resolves.toEqual({
      token: good,
      minted: true,
    });
  });

  it("takes another process's usable token without minting (minted: false)", async () => {
    let mints = 0;
    const cache: TokenCache = {
      get: () => undefined,
      set: () => {},
      delete: () => {},
      singleFlight: async () => good,
    };
    const { shared } = setup(cache);
    const result = await shared.mintShared(
      'k',
      'sa',
      async () => {
        mints++;
        return good;
      },
      0,
      signal,
    );
    expect(result).toEqual({ token: good, minted: false });
    expect(mints).toBe(0);
  });

  it("mints its own when the cache hands back an unusable token (another subject's)", async () => {
    const mine = { ...good, accessToken: 'mine' };
    const cache: TokenCache = {
      get: () => undefined,
      set: () => {},
      delete: () => {},
      singleFlight: async () => ({ ...good, subject: 'other' }),
    };
    const { shared } = setup(cache);
    await expect(shared.mintShared('k', 'sa', async () => mine, 0, signal)).resolves.toEqual({
      token: mine,
      minted: true,
    });
  });

  it('a failing singleFlight is reported and paused, and the token minted here', async () => {
    const cache: TokenCache = {
      get: () => undefined,
      set: () => {},
      delete: () => {},
      singleFlight: () => Promise.reject(new Error('lock down')),
    };
    const { shared, events } = setup(cache);
    const result = await shared.mintShared('k', 'sa', async () => good, 0, signal);
    expect(result).toEqual({ token: good, minted: true });
    expect(events).toEqual([
      { type: 'cache_error', operation: 'singleFlight', error: expect.any(Error) },
    ]);
    expect(shared.paused()).toBe(true);
  });

  it("our own mint's failure inside singleFlight is the answer, not a cache failure", async () => {
    const cache: TokenCache = {
      get: () => undefined,
      set: () => {},
      delete: () => {},
      singleFlight: (_key, mint) => mint(),
    };
    const { shared, events } = setup(cache);
    const refused = Object.assign(new Error('refused'), { code: 'ERR_TOKEN_ENDPOINT' });
    await expect(
      shared.mintShared('k', 'sa', () => Promise.reject(refused), 0, signal),
    ).rejects.toMatchObject({ code: 'ERR_TOKEN_ENDPOINT' });
    expect(events).toEqual([]);
    expect(shared.paused()).toBe(false);
  });
});
