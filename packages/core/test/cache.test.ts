import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type CachedToken,
  type DrillsterAuthEvent,
  MemoryTokenCache,
  parseCachedToken,
  type SingleFlightOptions,
  serializeCachedToken,
  type TokenCache,
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
  fx.server.mock.resetStats();
  fx.server.mock.clearFaults();
  fx.events.length = 0;
});

/** A shared cache that fails every call, as a Redis that is down would. */
const brokenCache: TokenCache = {
  get: () => Promise.reject(new Error('ECONNREFUSED')),
  set: () => Promise.reject(new Error('ECONNREFUSED')),
  delete: () => Promise.reject(new Error('ECONNREFUSED')),
  singleFlight: () => Promise.reject(new Error('ECONNREFUSED')),
};

describe('MemoryTokenCache', () => {
  const token = (expiresAt: number): CachedToken => ({
    accessToken: 't',
    expiresAt,
    issuedAt: 0,
    subject: 's',
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = new MemoryTokenCache({ maxEntries: 2 });
    cache.set('a', token(Date.now() + 60_000));
    cache.set('b', token(Date.now() + 60_000));
    cache.get('a');
    cache.set('c', token(Date.now() + 60_000));
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.size).toBe(2);
  });

  it('does not return an expired entry', () => {
    let t = 1000;
    const cache = new MemoryTokenCache({ clock: () => t });
    cache.set('a', token(2000));
    expect(cache.get('a')).toBeDefined();
    t = 2000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe('serializeCachedToken / parseCachedToken', () => {
  it('round-trips a token and reads anything else as undefined', () => {
    const token = { accessToken: 'a.b.c', expiresAt: 2000, issuedAt: 1000, subject: 'u' };
    expect(parseCachedToken(serializeCachedToken(token))).toEqual(token);
    expect(parseCachedToken(serializeCachedToken({ ...token, extra: 1 } as CachedToken))).toEqual(
      token,
    );
    for (const garbage of [
      null,
      undefined,
      42,
      '',
      'not json',
      '[]',
      'null',
      '{"accessToken":""}',
    ]) {
      expect(parseCachedToken(garbage)).toBeUndefined();
    }
    expect(parseCachedToken(JSON.stringify({ ...token, expiresAt: '2000' }))).toBeUndefined();
    expect(parseCachedToken(JSON.stringify({ ...token, issuedAt: null }))).toBeUndefined();
  });

  it('reads an entry with an insane expiry as a miss', () => {
    const token = { accessToken: 'a.b.c', expiresAt: 2000, issuedAt: 1000, subject: 'u' };
    for (const fields of [
      { expiresAt: 1e300 },
      { expiresAt: 1000 },
      { expiresAt: 999 },
      { expiresAt: 1000 + 24 * 3600_000 + 1 },
      { issuedAt: -1 },
      { accessToken: 'a b' },
      { accessToken: 'abc\r\nX-Injected: yes' },
    ]) {
      expect(parseCachedToken(JSON.stringify({ ...token, ...fields }))).toBeUndefined();
    }
    expect(parseCachedToken(JSON.stringify({ ...token, expiresAt: 1000 + 24 * 3600_000 }))).toEqual(
      {
        ...token,
        expiresAt: 1000 + 24 * 3600_000,
      },
    );
  });
});

describe('a shared TokenCache', () => {
  it('lets a second client use the first client’s token', async () => {
    const cache = new MemoryTokenCache({ clock });
    const first = await fx.auth({ cache, clock }).getAccessToken();
    const second = await fx.auth({ cache, clock }).getAccessToken();
    expect(second.accessToken).toBe(first.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    expect(fx.events.filter((e) => e.type === 'cache_hit')).toEqual([
      { type: 'cache_hit', subject: first.subject, expiresAt: first.expiresAt, source: 'shared' },
    ]);
  });

  it('does not take a token from the shared cache that is about to expire', async () => {
    const cache = new MemoryTokenCache({ clock });
    const first = await fx.auth({ cache, clock }).getAccessToken();
    now = first.expiresAt - 20_000;
    const second = await fx.auth({ cache, clock }).getAccessToken();
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('takes a token from the shared cache until 30 s before its expiry, to the millisecond', async () => {
    const cache = new MemoryTokenCache({ clock });
    const first = await fx.auth({ cache, clock, refresh: { windowSeconds: 0 } }).getAccessToken();
    now = first.expiresAt - 30_001;
    const second = await fx.auth({ cache, clock }).getAccessToken();
    expect(second.accessToken).toBe(first.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
    now = first.expiresAt - 30_000;
    const third = await fx.auth({ cache, clock }).getAccessToken();
    expect(third.accessToken).not.toBe(first.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('refreshes once for two clients: the second adopts the first one’s new token', async () => {
    const cache = new MemoryTokenCache({ clock });
    const a = fx.auth({ cache, clock });
    const b = fx.auth({ cache, clock });
    const original = await a.getAccessToken();
    expect((await b.getAccessToken()).accessToken).toBe(original.accessToken);
    now += 57 * 60_000; // inside the refresh window
    await a.getAccessToken();
    // Wait until a has stored its new token (it takes it into memory right after storing it).
    await vi.waitFor(
      async () => expect((await a.getAccessToken()).accessToken).not.toBe(original.accessToken),
      { timeout: 5000, interval: 10 },
    );
    expect(fx.server.mock.stats.tokensIssued).toBe(2);
    // b still serves the original while its background refresh finds a's newer token in the shared
    // cache.
    expect((await b.getAccessToken()).accessToken).toBe(original.accessToken);
    await vi.waitFor(
      async () => expect((await b.getAccessToken()).accessToken).not.toBe(original.accessToken),
      { timeout: 5000, interval: 10 },
    );
    expect(fx.server.mock.stats.tokensIssued).toBe(2);
    const [fromA, fromB] = await Promise.all([a.getAccessToken(), b.getAccessToken()]);
    expect(fromB.accessToken).toBe(fromA.accessToken);
    expect(fromA.accessToken).not.toBe(original.accessToken);
  });

  it('carries on without a shared cache that fails, says so, and leaves it alone for 5 s', async () => {
    const events: DrillsterAuthEvent[] = [];
    const operations = () => events.flatMap((e) => (e.type === 'cache_error' ? [e.operation] : []));
    const auth = fx.auth({ cache: brokenCache, clock, onEvent: (e) => events.push(e) });
    const token = await auth.getAccessToken();
    expect(token.accessToken).toBeTruthy();
    expect(await auth.getAccessToken()).toBe(token);
    expect(operations()).toEqual(['get']);
    await auth.getAccessToken({
      subject: fx.server.mock.addManagedUser(fx.account.keyFile.serviceAccountId).userId,
    });
    expect(operations()).toEqual(['get']);
    now += 5_001;
    await auth.getAccessToken({ forceRefresh: true });
    expect(operations()).toEqual(['get', 'set']);
    expect(fx.server.mock.stats.tokensIssued).toBe(3);
  });

  it('passes minExpiresAt to singleFlight so a refresh is not answered by the old token', async () => {
    const seen: SingleFlightOptions[] = [];
    const inner = new MemoryTokenCache({ clock });
    const recording: TokenCache = {
      get: (key) => inner.get(key),
      set: (key, token) => inner.set(key, token),
      delete: (key) => inner.delete(key),
      singleFlight: (_key, mint, options) => {
        seen.push(options);
        return mint();
      },
    };
    const auth = fx.auth({ cache: recording, clock });
    const first = await auth.getAccessToken();
    now += 57 * 60_000;
    await auth.getAccessToken();
    await vi.waitFor(() => expect(seen).toHaveLength(2), { timeout: 5000, interval: 10 });
    expect(seen[0]?.minExpiresAt).toBe(0);
    expect(seen[1]?.minExpiresAt).toBe(first.expiresAt + 1);
  });

  it('invalidate() removes the token from the shared cache too', async () => {
    const cache = new MemoryTokenCache({ clock });
    const auth = fx.auth({ cache, clock });
    await auth.getAccessToken();
    expect(cache.size).toBe(1);
    await auth.invalidate();
    expect(cache.size).toBe(0);
  });
});

describe('invalidate with a shared cache', () => {
  it('reaches the shared cache when this client holds no slot for the subject', async () => {
    const cache = new MemoryTokenCache({ clock });
    const user = fx.server.mock.addManagedUser(fx.account.keyFile.serviceAccountId).userId;
    const first = await fx.auth({ cache, clock }).getAccessToken({ subject: user });
    const other = fx.auth({ cache, clock }); // never asked for a token for user
    await other.invalidate(user, { accessToken: 'not-the-stored-token' });
    expect(cache.size).toBe(1); // compare-and-invalidate: another token stays
    await other.invalidate(user, { accessToken: first.accessToken });
    expect(cache.size).toBe(0);
    const next = await fx.auth({ cache, clock }).getAccessToken({ subject: user });
    expect(next.accessToken).not.toBe(first.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
  });

  it('reaches the shared cache after the subject was evicted from memory', async () => {
    const cache = new MemoryTokenCache({ clock });
    const [a, b] = [0, 1].map(
      () => fx.server.mock.addManagedUser(fx.account.keyFile.serviceAccountId).userId,
    ) as [string, string];
    const auth = fx.auth({ cache, clock, maxSubjects: 1 });
    const tokenA = await auth.getAccessToken({ subject: a });
    await auth.getAccessToken({ subject: b }); // a leaves memory
    await auth.invalidate(a, { accessToken: tokenA.accessToken });
    const again = await auth.getAccessToken({ subject: a });
    expect(again.accessToken).not.toBe(tokenA.accessToken);
  });

  it('without accessToken, removes whatever the shared cache holds', async () => {
    const cache = new MemoryTokenCache({ clock });
    await fx.auth({ cache, clock }).getAccessToken();
    await fx.auth({ cache, clock }).invalidate();
    expect(cache.size).toBe(0);
  });
});

describe('tokens read from a shared cache', () => {
  /**
   * A shared cache that answers every key with `token`, as a tampered or misconfigured Redis
   * would.
   */
  const answering = (token: CachedToken): TokenCache => ({
    get: () => token,
    set: () => undefined,
    delete: () => undefined,
  });

  it('are not served for another subject', async () => {
    const ceo = await fx.auth({ clock }).getAccessToken();
    const user = fx.server.mock.addManagedUser(fx.account.keyFile.serviceAccountId).userId;
    fx.server.mock.resetStats();
    const stored = {
      accessToken: ceo.accessToken,
      expiresAt: ceo.expiresAt,
      issuedAt: now,
      subject: ceo.subject,
    };
    const token = await fx
      .auth({ cache: answering(stored), clock })
      .getAccessToken({ subject: user });
    expect(token.accessToken).not.toBe(ceo.accessToken);
    expect(token.subject).toBe(user);
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });

  it.each([
    ['an expiry of 1e300', { expiresAt: 1e300 }],
    ['a lifetime over 24 h', { expiresAt: Date.now() + 25 * 3600_000 }],
    [
      'an issue time in the future',
      { issuedAt: Date.now() + 3600_000, expiresAt: Date.now() + 7200_000 },
    ],
    [
      'an expiry before the issue time',
      { issuedAt: Date.now() + 120_000, expiresAt: Date.now() + 60_000 },
    ],
    ['a non-finite issue time', { issuedAt: Number.NEGATIVE_INFINITY }],
    ['a NaN expiry', { expiresAt: Number.NaN }],
    ['a token that would inject a header', { accessToken: 'abc\r\nX-Injected: yes' }],
    ['an empty token', { accessToken: '' }],
  ])('are not served with %s', async (_, fields) => {
    now = Date.now();
    const stored: CachedToken = {
      accessToken: 'stored-token',
      issuedAt: now - 60_000,
      expiresAt: now + 3600_000,
      subject: fx.account.keyFile.serviceAccountId,
      ...fields,
    };
    const token = await fx.auth({ cache: answering(stored), clock }).getAccessToken();
    expect(token.accessToken).not.toBe('stored-token');
    expect(fx.server.mock.stats.tokenRequests).toBe(1);
  });

  it('are served when sane (the check is not too strict)', async () => {
    now = Date.now();
    const stored: CachedToken = {
      accessToken: 'stored-token',
      issuedAt: now - 60_000,
      expiresAt: now + 24 * 3600_000 - 60_000,
      subject: fx.account.keyFile.serviceAccountId,
    };
    const token = await fx.auth({ cache: answering(stored), clock }).getAccessToken();
    expect(token.accessToken).toBe('stored-token');
    expect(fx.server.mock.stats.tokenRequests).toBe(0);
  });

  it('are kept apart by subject and by client id in one shared MemoryTokenCache', async () => {
    const cache = new MemoryTokenCache({ clock });
    const user = fx.server.mock.addManagedUser(fx.account.keyFile.serviceAccountId).userId;
    const one = fx.auth({ cache, clock });
    const own = await one.getAccessToken();
    const forUser = await one.getAccessToken({ subject: user });
    expect(forUser.accessToken).not.toBe(own.accessToken);
    // A second client of the same application finds both in the shared cache.
    const two = fx.auth({ cache, clock });
    expect((await two.getAccessToken()).accessToken).toBe(own.accessToken);
    expect((await two.getAccessToken({ subject: user })).accessToken).toBe(forUser.accessToken);
    expect(fx.server.mock.stats.tokenRequests).toBe(2);
    // Another client application does not.
    const other = fx.server.mock.registerClient();
    const three = fx.auth({ cache, clock, ...other });
    expect((await three.getAccessToken()).accessToken).not.toBe(own.accessToken);
    expect((await three.getAccessToken({ subject: user })).accessToken).not.toBe(
      forUser.accessToken,
    );
    expect(fx.server.mock.stats.tokenRequests).toBe(4);
    expect(cache.size).toBe(4);
  });
});
