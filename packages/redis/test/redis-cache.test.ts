import { createHash } from 'node:crypto';
import {
  type CachedToken,
  ConfigurationError,
  createEncryptedTokenCache,
} from '@drillster-auth/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createRedisTokenCache,
  type RedisClient,
  type RedisTokenCacheOptions,
} from '../src/index.js';
import { clientKinds, type TestClient } from './helpers/clients.js';
import { type Fixture, startFixture, uniquePrefix } from './helpers/drillster.js';

const SECRET = 'a secret of more than sixteen bytes';
const BUSY_TIMEOUT = 2_000;

function token(overrides: Partial<CachedToken> = {}): CachedToken {
  const now = Date.now();
  return {
    accessToken: `token-${Math.random().toString(36).slice(2)}`,
    expiresAt: now + 3_600_000,
    issuedAt: now,
    subject: 'someone',
    ...overrides,
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `client`, except that a `GET` of `held` never answers, as if its reply were lost. */
function holdingGets(client: RedisClient, held: string): RedisClient {
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property === 'get') {
        return (key: string) =>
          key === held
            ? new Promise(() => {})
            : (value as (key: string) => unknown).call(target, key);
      }
      return value.bind(target);
    },
  });
}

/** `client`, recording what each `GET` of `watched` answered, in order. */
function recordingGets(
  client: RedisClient,
  watched: string,
  answers: (string | null)[],
): RedisClient {
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property === 'get') {
        return async (key: string) => {
          const answer = await (value as (key: string) => Promise<string | null>).call(target, key);
          if (key === watched) answers.push(answer);
          return answer;
        };
      }
      return value.bind(target);
    },
  });
}

describe.each(clientKinds)('RedisTokenCache with $name', ({ name, connect }) => {
  let redis: TestClient;
  let drillster: Fixture;
  let prefix: string;

  // Commands get 2 s, not the default 200 ms, unless a test says: these tests count token
  // requests, and on a busy 2-core machine a stalled event loop alone can outlast 200 ms (the
  // store is then skipped and a second token minted). Timeouts are tested in outage.test.ts.
  const cache = (options: Partial<RedisTokenCacheOptions> = {}) =>
    createRedisTokenCache({ client: redis.client, prefix, timeout: BUSY_TIMEOUT, ...options });
  const entryKey = (key: string) => prefix + sha256(key);
  const lockKey = (key: string) => `${prefix}lock:${sha256(key)}`;

  beforeAll(async () => {
    redis = await connect();
    drillster = await startFixture();
  });

  beforeEach(async () => {
    prefix = uniquePrefix(name);
    drillster.server.mock.resetStats();
    drillster.server.mock.clearFaults();
  });

  afterAll(async () => {
    await redis.raw.del(await redis.raw.keys('drillster-auth-test:*'));
    await redis.close();
    await drillster.server.close();
  });

  it('shares one token between clients', async () => {
    const shared = cache();
    const first = drillster.authWithEvents({ cache: shared });
    const second = drillster.authWithEvents({ cache: shared });
    const a = await first.auth.getAccessToken();
    const b = await second.auth.getAccessToken();
    expect(b.accessToken).toBe(a.accessToken);
    expect(b.expiresAt).toBe(a.expiresAt);
    expect((await drillster.server.mock.verifyAccessToken(b.accessToken))?.subject).toBe(
      drillster.account.serviceAccountId,
    );
    expect(drillster.server.mock.stats.tokenRequests).toBe(1);
    expect(second.events.filter((event) => event.type === 'cache_error')).toEqual([]);
  });

  it('keeps serving a token across a key rotation: its entry does not depend on the key', async () => {
    const shared = cache();
    const before = drillster.authWithEvents({ cache: shared });
    const token = await before.auth.getAccessToken();
    const next = await drillster.server.mock.addKey(drillster.account.serviceAccountId);
    const after = drillster.authWithEvents({
      cache: shared,
      key: [next.keyFile, drillster.account.keyFile],
    });
    const served = await after.auth.getAccessToken();
    expect(served.accessToken).toBe(token.accessToken);
    expect(drillster.server.mock.stats.tokenRequests).toBe(1);
    expect(after.events.filter((event) => event.type === 'cache_hit')).toMatchObject([
      { source: 'shared' },
    ]);
  });

  it('round-trips entries and deletes them', async () => {
    const store = cache();
    const original = token();
    await store.set('k', original);
    expect(await store.get('k')).toEqual(original);
    expect(JSON.parse((await redis.raw.get(entryKey('k')))!)).toEqual(original);
    await store.delete('k');
    expect(await store.get('k')).toBeUndefined();
    expect(await redis.raw.get(entryKey('k'))).toBeNull();
  });

  it('lets entries expire with their token', async () => {
    const store = cache();
    const expiresAt = Date.now() + 60_000;
    await store.set('k', token({ expiresAt }));
    const pttl = await redis.raw.pttl(entryKey('k'));
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000);

    await store.set('expired', token({ expiresAt: Date.now() - 1 }));
    expect(await redis.raw.get(entryKey('expired'))).toBeNull();
  });

  it('names keys by hash, so no id appears in Redis', async () => {
    const user = drillster.server.mock.addManagedUser(drillster.account.serviceAccountId);
    const auth = drillster.auth({ cache: cache() });
    await auth.getAccessToken();
    await auth.getAccessToken({ subject: user.userId });
    const keys = await redis.raw.keys(`${prefix}*`);
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key).toMatch(new RegExp(`^${prefix.replaceAll('.', '\\.')}[0-9a-f]{64}$`));
      for (const id of [
        drillster.client.clientId,
        drillster.account.serviceAccountId,
        drillster.account.keyId,
        user.userId,
      ]) {
        expect(key).not.toContain(id);
      }
    }
  });

  it('fails a hung command after its timeout while other commands keep answering', async () => {
    // The busy timeout, not a short one: the answered commands must not time out in a stall.
    const store = cache({ client: holdingGets(redis.client, entryKey('hung')) });
    const original = token();
    await store.set('fast', original);
    for (let i = 0; i < 5; i++) expect(await store.get('fast')).toEqual(original);
    const sent = performance.now();
    let failed: { error: unknown; after: number } | undefined;
    const hung = store.get('hung').then(
      () => {
        throw new Error('a GET that never answers answered');
      },
      (error: unknown) => {
        failed = { error, after: performance.now() - sent };
      },
    );
    let answered = 0;
    while (failed === undefined) {
      expect(await store.get('fast')).toEqual(original);
      answered++;
    }
    await hung;
    expect(failed.error).toMatchObject({
      code: 'ERR_TIMEOUT',
      message: `Redis GET took longer than ${BUSY_TIMEOUT} ms`,
    });
    expect(failed.after).toBeGreaterThanOrEqual(BUSY_TIMEOUT);
    expect(answered).toBeGreaterThan(0);
  });

  it('reads an entry again in full once it changed: a hostile one is still a miss', async () => {
    const store = cache();
    const original = token();
    await store.set('k', original);
    expect(await store.get('k')).toEqual(original);
    const stored = (await redis.raw.get(entryKey('k')))!;
    const hostile = [
      JSON.stringify({ ...original, accessToken: `${original.accessToken}\r\nX-Injected: 1` }),
      JSON.stringify({ ...original, expiresAt: original.issuedAt + 25 * 3_600_000 }),
      JSON.stringify({ ...original, subject: 7 }),
      stored.slice(0, -1),
    ];
    for (const value of hostile) {
      await redis.raw.set(entryKey('k'), value, 60_000);
      await expect(store.get('k')).resolves.toBeUndefined();
      await expect(store.get('k')).resolves.toBeUndefined();
    }
    await redis.raw.set(entryKey('k'), stored, 60_000);
    expect(await store.get('k')).toEqual(original);
  });

  it('checks the expiry of an entry it read before on every read', async () => {
    const store = cache();
    // Only the clock is fake: the expiry is decided by Date.now(), Redis is real.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const original = token();
      // Stored without a TTL, so only the token's own expiry can make it a miss.
      await redis.raw.set(entryKey('k'), JSON.stringify(original));
      expect(await store.get('k')).toEqual(original);
      vi.setSystemTime(original.expiresAt - 1);
      expect(await store.get('k')).toEqual(original);
      vi.setSystemTime(original.expiresAt);
      expect(await store.get('k')).toBeUndefined();
      expect(await redis.raw.get(entryKey('k'))).not.toBeNull();
    } finally {
      vi.useRealTimers();
      await redis.raw.del([entryKey('k')]);
    }
  });

  it('hands every caller its own copy of a token', async () => {
    const store = cache();
    const original = token();
    await store.set('k', original);
    const first = (await store.get('k'))!;
    first.accessToken = 'changed by a caller';
    first.expiresAt = Number.POSITIVE_INFINITY;
    expect(await store.get('k')).toEqual(original);
  });

  it('reads garbage as a miss', async () => {
    const store = cache();
    const garbage = [
      'not json',
      'null',
      '42',
      '"text"',
      '[]',
      '{}',
      JSON.stringify({ ...token(), accessToken: 7 }),
      JSON.stringify({ ...token(), expiresAt: '2999-01-01' }),
      JSON.stringify({ ...token(), subject: null }),
      JSON.stringify(token({ expiresAt: Date.now() - 1000 })),
    ];
    for (const value of garbage) {
      await redis.raw.set(entryKey('k'), value, 60_000);
      await expect(store.get('k')).resolves.toBeUndefined();
    }
  });

  it('mints a new token over a garbage entry, without reporting an error', async () => {
    const store = cache();
    const first = drillster.authWithEvents({ cache: store });
    await first.auth.getAccessToken();
    const [key] = await redis.raw.keys(`${prefix}*`);
    await redis.raw.set(key!, '{"accessToken": "forged"', 60_000);
    const second = drillster.authWithEvents({ cache: store });
    const fresh = await second.auth.getAccessToken();
    expect(fresh.accessToken).not.toBe('forged');
    expect(await drillster.server.mock.verifyAccessToken(fresh.accessToken)).toBeDefined();
    expect(drillster.server.mock.stats.tokenRequests).toBe(2);
    expect(second.events.filter((event) => event.type === 'cache_error')).toEqual([]);
    expect(JSON.parse((await redis.raw.get(key!))!).accessToken).toBe(fresh.accessToken);
  });

  describe('singleFlight', () => {
    it('mints under a lock and releases it', async () => {
      const store = cache();
      const minted = token();
      let lockDuringMint: string | null = null;
      const result = await store.singleFlight(
        'k',
        async () => {
          lockDuringMint = await redis.raw.get(lockKey('k'));
          await store.set('k', minted);
          return minted;
        },
        {},
      );
      expect(result).toEqual(minted);
      expect(lockDuringMint).toMatch(/^[0-9a-f-]{36}$/);
      expect(await redis.raw.get(lockKey('k'))).toBeNull();
    });

    it('releases only its own lock', async () => {
      const store = cache();
      const minted = token();
      await store.singleFlight(
        'k',
        async () => {
          // Our lock expired and another process took it while we were minting.
          await redis.raw.set(lockKey('k'), 'another-holder', 60_000);
          return minted;
        },
        {},
      );
      expect(await redis.raw.get(lockKey('k'))).toBe('another-holder');
    });

    it('releases the lock when minting fails, and passes the failure on', async () => {
      const store = cache();
      const failure = new Error('token endpoint down');
      await expect(store.singleFlight('k', () => Promise.reject(failure), {})).rejects.toBe(
        failure,
      );
      expect(await redis.raw.get(lockKey('k'))).toBeNull();
    });

    it('hands waiters the token the holder stored', async () => {
      const holder = cache();
      const waiter = cache();
      const minted = token();
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let lockTaken!: () => void;
      const taken = new Promise<void>((resolve) => {
        lockTaken = resolve;
      });
      const holding = holder.singleFlight(
        'k',
        async () => {
          lockTaken();
          await released;
          await holder.set('k', minted);
          return minted;
        },
        {},
      );
      await taken;
      let waiterMints = 0;
      const waiting = waiter.singleFlight(
        'k',
        async () => {
          waiterMints++;
          return token();
        },
        {},
      );
      release();
      expect(await waiting).toEqual(minted);
      expect(await holding).toEqual(minted);
      expect(waiterMints).toBe(0);
    });

    it('does not hand back the token the caller already had', async () => {
      const store = cache();
      const stale = token({ expiresAt: Date.now() + 10_000 });
      await store.set('k', stale);
      // The client found this token too close to expiry and asks for a new one.
      expect(await store.get('k')).toEqual(stale);
      const fresh = token();
      const result = await store.singleFlight(
        'k',
        async () => {
          await store.set('k', fresh);
          return fresh;
        },
        {},
      );
      expect(result).toEqual(fresh);
    });

    it('waits for a token other than the one get read, also when get read it twice', async () => {
      const store = cache();
      const writer = cache();
      const seen = token();
      await store.set('k', seen);
      expect(await store.get('k')).toEqual(seen);
      expect(await store.get('k')).toEqual(seen);
      // Another process replaced it in the meantime: that one is new to this caller.
      const replaced = token();
      await writer.set('k', replaced);
      const mint = vi.fn(async () => token());
      expect(await store.singleFlight('k', mint, {})).toEqual(replaced);
      expect(mint).not.toHaveBeenCalled();
    });

    it('does not answer a refresh with a token older than minExpiresAt', async () => {
      const answers: (string | null)[] = [];
      const waiter = cache({
        client: recordingGets(redis.client, entryKey('k'), answers),
        pollInterval: 10,
      });
      const writer = cache();
      await redis.raw.set(lockKey('k'), 'another-instance', 5_000);
      const replaced = Date.now() + 600_000;
      let waiterMints = 0;
      const waiting = waiter.singleFlight(
        'k',
        async () => {
          waiterMints++;
          return token();
        },
        { minExpiresAt: replaced + 1 },
      );
      // The waiter has read the entry (empty) it waits to see change, so the older token written
      // next is new to it: only minExpiresAt can turn it down.
      await vi.waitFor(() => expect(answers).toContain(null));
      // Some instance writes back the token being replaced (it read it before the refresh began).
      await writer.set('k', token({ expiresAt: replaced }));
      const older = await redis.raw.get(entryKey('k'));
      // The waiter has polled it; the assertions below show it kept waiting.
      await vi.waitFor(() => expect(answers).toContain(older));
      const refreshed = token();
      await writer.set('k', refreshed);
      expect(await waiting).toEqual(refreshed);
      expect(waiterMints).toBe(0);
    });

    it('takes over when the holder dies', async () => {
      const store = cache({ lockWait: 10_000, pollInterval: 20 });
      await redis.raw.set(lockKey('k'), 'dead-holder', 500);
      const minted = token();
      const locks: (string | null)[] = [];
      const result = await store.singleFlight(
        'k',
        async () => {
          locks.push(await redis.raw.get(lockKey('k')));
          return minted;
        },
        {},
      );
      expect(result).toEqual(minted);
      expect(locks).toHaveLength(1);
      // It minted holding its own lock: the dead holder's had expired.
      expect(locks[0]).not.toBe('dead-holder');
      expect(locks[0]).not.toBeNull();
    });

    it('mints without the lock when the wait runs out', async () => {
      const store = cache({ lockWait: 200, pollInterval: 20 });
      await redis.raw.set(lockKey('k'), 'stuck-holder', 60_000);
      const minted = token();
      let mints = 0;
      const result = await store.singleFlight(
        'k',
        async () => {
          mints++;
          return minted;
        },
        {},
      );
      expect(result).toEqual(minted);
      expect(mints).toBe(1);
      expect(await redis.raw.get(lockKey('k'))).toBe('stuck-holder');
    });

    it('stops waiting when the signal fires, before minting', async () => {
      const store = cache({ lockWait: 10_000, pollInterval: 20 });
      await redis.raw.set(lockKey('k'), 'stuck-holder', 60_000);
      const controller = new AbortController();
      let mints = 0;
      const waiting = store.singleFlight(
        'k',
        async () => {
          mints++;
          return token();
        },
        { signal: controller.signal },
      );
      setTimeout(() => controller.abort(new Error('closed')), 100);
      await expect(waiting).rejects.toThrow();
      expect(mints).toBe(0);
    });

    it('keeps its lock while a slow mint runs: one token request for clients on several connections', async () => {
      // Minting takes many lock lifetimes; without a heartbeat the lock expires under the
      // holder and every waiter mints too (the second request is fast, so it would count).
      // 2 s locks, renewed every 667 ms: a holder descheduled for a second on a busy machine still
      // renews in time (with 750 ms locks, seen: a second token request under load).
      drillster.server.mock.injectFault({ delayMs: 4_500 });
      const connections = await Promise.all([connect(), connect(), connect()]);
      try {
        const clients = [redis, ...connections].map((connection) =>
          drillster.auth({
            cache: createRedisTokenCache({
              client: connection.client,
              prefix,
              lockTtl: 2_000,
              pollInterval: 20,
              timeout: BUSY_TIMEOUT,
            }),
          }),
        );
        const tokens = await Promise.all(
          clients.flatMap((auth) => Array.from({ length: 3 }, () => auth.getAccessToken())),
        );
        expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
        expect(drillster.server.mock.stats.tokenRequests).toBe(1);
        expect(await redis.raw.keys(`${prefix}lock:*`)).toEqual([]);
      } finally {
        await Promise.all(connections.map((connection) => connection.close()));
      }
    });

    it('extends only its own lock, and stops once the mint settles', async () => {
      const lockTtl = 2_000; // renewed every 667 ms; a busy machine may stall us for a second
      const store = cache({ lockTtl });
      const lockValue = () => redis.raw.get(lockKey('k'));
      /** Waits out a lock lifetime and more: only a heartbeat keeps a lock that long. */
      const gone = () =>
        vi.waitFor(async () => expect(await lockValue()).toBeNull(), {
          timeout: 5_000,
          interval: 50,
        });

      let ours: string | null = null;
      await store.singleFlight(
        'k',
        async () => {
          ours = await lockValue();
          const until = Date.now() + 2 * lockTtl;
          while (Date.now() < until) {
            expect(await lockValue()).toBe(ours);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          return token();
        },
        {},
      );
      expect(ours).toMatch(/^[0-9a-f-]{36}$/);
      // Our lock put back as if the release had been lost: with the heartbeat stopped, it expires.
      await redis.raw.set(lockKey('k'), ours!, 300);
      await gone();

      // Likewise after a mint that fails.
      await expect(
        store.singleFlight(
          'k',
          async () => {
            ours = await lockValue();
            throw new Error('mint failed');
          },
          {},
        ),
      ).rejects.toThrow('mint failed');
      await redis.raw.set(lockKey('k'), ours!, 300);
      await gone();

      // Another holder's lock is never extended, even while we are still minting.
      await store.singleFlight(
        'k',
        async () => {
          await redis.raw.set(lockKey('k'), 'another-holder', 300);
          await gone();
          return token();
        },
        {},
      );
    });

    it('gives one token to many clients of one cache at once', async () => {
      const store = cache();
      const clients = Array.from({ length: 5 }, () => drillster.auth({ cache: store }));
      const tokens = await Promise.all(
        clients.flatMap((auth) => Array.from({ length: 10 }, () => auth.getAccessToken())),
      );
      expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
      expect(drillster.server.mock.stats.tokenRequests).toBe(1);
    });
  });

  describe('with createEncryptedTokenCache', () => {
    it('round-trips encrypted entries through Redis', async () => {
      const encrypted = () => createEncryptedTokenCache(cache(), { secret: SECRET });
      const first = drillster.authWithEvents({ cache: encrypted() });
      const second = drillster.authWithEvents({ cache: encrypted() });
      const a = await first.auth.getAccessToken();
      const b = await second.auth.getAccessToken();
      expect(b.accessToken).toBe(a.accessToken);
      expect(drillster.server.mock.stats.tokenRequests).toBe(1);

      const [key] = await redis.raw.keys(`${prefix}*`);
      const stored = (await redis.raw.get(key!))!;
      expect(stored).not.toContain(a.accessToken);
      expect(stored).not.toContain(drillster.account.serviceAccountId);
      expect(JSON.parse(stored).accessToken).toMatch(/^enc1\./);
    });

    it('reads a tampered entry as a miss', async () => {
      const encrypted = () => createEncryptedTokenCache(cache(), { secret: SECRET });
      const first = drillster.authWithEvents({ cache: encrypted() });
      const original = await first.auth.getAccessToken();
      const [key] = await redis.raw.keys(`${prefix}*`);
      const stored = JSON.parse((await redis.raw.get(key!))!);
      const sealed = Buffer.from((stored.accessToken as string).slice('enc1.'.length), 'base64url');
      sealed[sealed.length - 1]! ^= 0x01;
      const tampered = { ...stored, accessToken: `enc1.${sealed.toString('base64url')}` };
      await redis.raw.set(key!, JSON.stringify(tampered), 60_000);

      const second = drillster.authWithEvents({ cache: encrypted() });
      const fresh = await second.auth.getAccessToken();
      expect(fresh.accessToken).not.toBe(original.accessToken);
      expect(await drillster.server.mock.verifyAccessToken(fresh.accessToken)).toBeDefined();
      expect(drillster.server.mock.stats.tokenRequests).toBe(2);
      expect(second.events.filter((event) => event.type === 'cache_error')).toEqual([]);
    });
  });

  it('refuses numeric options out of range, naming the option', () => {
    const bad: unknown[] = [NaN, Infinity, -1, 0.5, 1500.5, 2 ** 31, '100', null];
    for (const name of ['timeout', 'lockTtl', 'lockWait', 'pollInterval'] as const) {
      for (const value of bad) {
        let thrown: unknown;
        try {
          cache({ [name]: value as number });
        } catch (error) {
          thrown = error;
        }
        expect(thrown, `${name}: ${String(value)}`).toBeInstanceOf(ConfigurationError);
        expect(thrown).toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
        expect((thrown as Error).message).toContain(name);
      }
    }
    // A lock that lives under 100 ms could not be renewed in time.
    expect(() => cache({ lockTtl: 99 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    );
    expect(() => cache({ timeout: 1, lockTtl: 100, lockWait: 0, pollInterval: 1 })).not.toThrow();
  });

  it('refuses a client that is not a Redis client', () => {
    expect(() => createRedisTokenCache({ client: {} as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    );
    expect(() => cache({ timeout: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    );
  });
});
