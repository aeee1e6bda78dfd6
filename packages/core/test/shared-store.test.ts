import { describe, expect, it } from 'vitest';
import type { CachedToken, DrillsterAuthEvent, TokenCache } from '../src/index.js';
import { SharedStore } from '../src/shared-store.js';

// The store guard without HTTP: a fake TokenCache, a clock that is a variable.
const T0 = 1_700_000_000_000;
const timing = { windowMs: 300_000, windowRatio: 0.1, marginMs: 30_000 };

function setup(cache: TokenCache, pause = 5000) {
  let now = T0;
  const events: DrillsterAuthEvent[] = [];
  const store = new SharedStore(
    cache,
    pause,
    timing,
    () => now,
    (event) => events.push(event),
  );
  return { store, events, advance: (ms: number) => (now += ms) };
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

describe('SharedStore: pause after failure', () => {
  it('a failed call gives undefined, reports cache_error and pauses the store for cacheFailurePause ms', async () => {
    const { store, events, advance } = setup(failing(), 5000);
    expect(store.paused()).toBe(false);
    await expect(store.call('get', () => Promise.reject(new Error('down')))).resolves.toBe(
      undefined,
    );
    expect(events).toEqual([{ type: 'cache_error', operation: 'get', error: expect.any(Error) }]);
    expect(store.paused()).toBe(true);
    advance(4999);
    expect(store.paused()).toBe(true);
    advance(1);
    expect(store.paused()).toBe(false);
  });

  it('a pause of 0 never pauses', async () => {
    const { store } = setup(failing(), 0);
    await store.call('delete', () => Promise.reject(new Error('down')));
    expect(store.paused()).toBe(false);
  });

  it('mintAndStore does not write to a store paused while minting', async () => {
    const writes: CachedToken[] = [];
    const cache: TokenCache = {
      get: () => undefined,
      set: (_k, t) => void writes.push(t),
      delete: () => {},
    };
    const { store } = setup(cache);
    await store.mintAndStore('k', async () => good);
    expect(writes).toEqual([good]);
    store.failed('get', new Error('down'));
    await store.mintAndStore('k', async () => good);
    expect(writes).toHaveLength(1);
  });
});

describe('SharedStore: the usable check', () => {
  const { store } = setup({ get: () => undefined, set: () => {}, delete: () => {} });

  it('serves a sane token for the subject', () => {
    expect(store.usable(good, 'sa', 0)).toBe(true);
  });

  it("refuses another subject's token, a token expiring before minExpiresAt or inside the margin, one issued over 5 min in the future, a malformed one", () => {
    expect(store.usable(good, 'user', 0)).toBe(false);
    expect(store.usable(good, 'sa', good.expiresAt + 1)).toBe(false);
    expect(store.usable(good, 'sa', good.expiresAt)).toBe(true);
    expect(
      store.usable({ ...good, expiresAt: T0 + 30_000, issuedAt: T0 - 3_600_000 }, 'sa', 0),
    ).toBe(false);
    expect(
      store.usable({ ...good, issuedAt: T0 + 300_001, expiresAt: T0 + 3_000_000 }, 'sa', 0),
    ).toBe(false);
    expect(store.usable({ ...good, accessToken: 'has space' }, 'sa', 0)).toBe(false);
  });
});

describe('SharedStore: single flight', () => {
  const signal = new AbortController().signal;

  it('without singleFlight, mints and stores its own token', async () => {
    const { store } = setup({ get: () => undefined, set: () => {}, delete: () => {} });
    await expect(store.mintShared('k', 'sa', async () => good, 0, signal)).resolves.toEqual({
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
    const { store } = setup(cache);
    const result = await store.mintShared(
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

  it("mints its own when the store hands back an unusable token (another subject's)", async () => {
    const mine = { ...good, accessToken: 'mine' };
    const cache: TokenCache = {
      get: () => undefined,
      set: () => {},
      delete: () => {},
      singleFlight: async () => ({ ...good, subject: 'other' }),
    };
    const { store } = setup(cache);
    await expect(store.mintShared('k', 'sa', async () => mine, 0, signal)).resolves.toEqual({
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
    const { store, events } = setup(cache);
    const result = await store.mintShared('k', 'sa', async () => good, 0, signal);
    expect(result).toEqual({ token: good, minted: true });
    expect(events).toEqual([
      { type: 'cache_error', operation: 'singleFlight', error: expect.any(Error) },
    ]);
    expect(store.paused()).toBe(true);
  });

  it("our own mint's failure inside singleFlight is the answer, not a store failure", async () => {
    const cache: TokenCache = {
      get: () => undefined,
      set: () => {},
      delete: () => {},
      singleFlight: (_key, mint) => mint(),
    };
    const { store, events } = setup(cache);
    const refused = Object.assign(new Error('refused'), { code: 'ERR_TOKEN_ENDPOINT' });
    await expect(
      store.mintShared('k', 'sa', () => Promise.reject(refused), 0, signal),
    ).rejects.toMatchObject({ code: 'ERR_TOKEN_ENDPOINT' });
    expect(events).toEqual([]);
    expect(store.paused()).toBe(false);
  });
});
