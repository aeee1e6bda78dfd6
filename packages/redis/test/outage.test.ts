import { setTimeout as delay } from 'node:timers/promises';
import { inspect } from 'node:util';
import type { DrillsterAuthEvent } from '@drillster-auth/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisTokenCache } from '../src/index.js';
import { clientKinds, type TestClient } from './helpers/clients.js';
import { type Fixture, startFixture, uniquePrefix } from './helpers/drillster.js';
import { type PrivateRedis, startPrivateRedis } from './helpers/redis-server.js';

const cacheErrors = (events: DrillsterAuthEvent[]) =>
  events.filter(
    (event): event is Extract<DrillsterAuthEvent, { type: 'cache_error' }> =>
      event.type === 'cache_error',
  );

/** Retries `check` until it passes, for state that settles after a reconnect. */
function eventually(check: () => Promise<unknown>, timeout = 5_000): Promise<unknown> {
  return vi.waitFor(check, { timeout, interval: 50 });
}

describe.each(clientKinds)('Redis failures with $name', ({ name, connect }) => {
  let server: PrivateRedis;
  let redis: TestClient;
  let drillster: Fixture;

  beforeAll(async () => {
    [server, drillster] = await Promise.all([startPrivateRedis(), startFixture()]);
    redis = await connect(server.url);
  });

  // Each test leaves Redis running and the client connected, even when it fails half-way
  // through an outage: the next test must not inherit a killed or frozen server.
  afterEach(async () => {
    await server.restore();
    await eventually(() => redis.raw.get('drillster-auth-test:probe'), 10_000);
  });

  afterAll(async () => {
    server?.resume();
    await redis?.close();
    await server?.kill();
    await drillster?.server.close();
  });

  it('serves every caller while Redis is killed, and uses Redis again once it is back', async () => {
    const prefix = uniquePrefix(name);
    const store = createRedisTokenCache({ client: redis.client, prefix });
    // Try Redis on every call (no pause after a failure), so the outage is seen from both sides.
    const clients = [
      drillster.authWithEvents({ cache: store, cacheFailurePause: 0 }),
      drillster.authWithEvents({ cache: store, cacheFailurePause: 0 }),
    ];
    const issued = new Set<string>();
    const failures: unknown[] = [];
    let calls = 0;
    let running = true;
    const callers = clients.flatMap(({ auth }) =>
      Array.from({ length: 5 }, async (_, index) => {
        while (running) {
          try {
            // Forced refreshes go through Redis every time: lock, mint, store.
            const token = await auth.getAccessToken({ forceRefresh: index % 2 === 0 });
            issued.add(token.accessToken);
            calls++;
          } catch (error) {
            failures.push(error);
          }
          await delay(5);
        }
      }),
    );

    // Wait for what is asserted: calls that completed through Redis. A key under the prefix is
    // not enough: the lock appears before any call completes.
    await eventually(async () => expect(calls).toBeGreaterThan(0), 10_000);
    const callsBeforeKill = calls;
    await server.kill();
    const callsAtKill = calls;
    await eventually(async () => {
      expect(clients.flatMap(({ events }) => cacheErrors(events)).length).toBeGreaterThan(5);
      expect(calls).toBeGreaterThan(callsAtKill + 20);
    });
    running = false;
    await Promise.all(callers);

    expect(failures).toEqual([]);
    expect(callsBeforeKill).toBeGreaterThan(0);
    const errors = clients.flatMap(({ events }) => cacheErrors(events));
    expect(new Set(errors.map((event) => event.operation))).not.toContain('delete');
    for (const event of errors) {
      expect(event.error).toMatchObject({ code: expect.stringMatching(/^ERR_(NETWORK|TIMEOUT)$/) });
      const shown = `${inspect(event.error, { depth: 5 })} ${JSON.stringify(event.error)}`;
      for (const token of issued) expect(shown).not.toContain(token);
    }

    await server.start();
    await eventually(async () => expect(await redis.raw.get(`${prefix}probe`)).toBeNull());
    const [first] = clients;
    drillster.server.mock.resetStats();
    const fresh = await first!.auth.getAccessToken({ forceRefresh: true });
    // The caller may have its token before the mint lock is released: wait for the lock to go.
    await eventually(async () => expect(await redis.raw.keys(`${prefix}*`)).toHaveLength(1));
    // A new client (think: a new process) finds the token in Redis instead of minting.
    const late = drillster.authWithEvents({ cache: store });
    expect((await late.auth.getAccessToken()).accessToken).toBe(fresh.accessToken);
    expect(drillster.server.mock.stats.tokenRequests).toBe(1);
    expect(cacheErrors(late.events)).toEqual([]);
    await redis.raw.del(await redis.raw.keys(`${prefix}*`));
  });

  it('gives up on a Redis that does not answer within the timeout', async () => {
    const prefix = uniquePrefix(name);
    const store = createRedisTokenCache({ client: redis.client, prefix, timeout: 100 });
    await eventually(async () => expect(await redis.raw.get(`${prefix}probe`)).toBeNull());
    drillster.server.mock.resetStats();
    server.pause();
    try {
      await expect(store.get('k')).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
      const { auth, events } = drillster.authWithEvents({ cache: store, cacheFailurePause: 0 });
      const token = await auth.getAccessToken();
      expect(await drillster.server.mock.verifyAccessToken(token.accessToken)).toBeDefined();
      expect(drillster.server.mock.stats.tokenRequests).toBe(1);
      expect(cacheErrors(events).map((event) => event.operation)).toEqual([
        'get',
        'singleFlight',
        'set',
      ]);
      for (const event of cacheErrors(events)) {
        expect(event.error).toMatchObject({ code: 'ERR_TIMEOUT' });
      }
    } finally {
      server.resume();
    }
    // The token that could not be stored in time was stored once Redis woke up.
    await eventually(async () => expect(await redis.raw.keys(`${prefix}*`)).toHaveLength(1));
    await redis.raw.del(await redis.raw.keys(`${prefix}*`));
  });

  it('pays one timeout for an outage, not one per token, with the default pause', async () => {
    const prefix = uniquePrefix(name);
    const store = createRedisTokenCache({ client: redis.client, prefix, timeout: 100 });
    await eventually(async () => expect(await redis.raw.get(`${prefix}probe`)).toBeNull());
    const users = Array.from({ length: 5 }, () =>
      drillster.server.mock.addManagedUser(drillster.account.serviceAccountId),
    );
    server.pause();
    try {
      const { auth, events } = drillster.authWithEvents({ cache: store });
      for (const user of users) await auth.getAccessToken({ subject: user.userId });
      expect(cacheErrors(events).map((event) => event.operation)).toEqual(['get']);
    } finally {
      server.resume();
    }
  });

  it('releases a lock whose request timed out but ran later', async () => {
    const prefix = uniquePrefix(name);
    const store = createRedisTokenCache({ client: redis.client, prefix, timeout: 100 });
    await eventually(async () => expect(await store.get('k')).toBeUndefined());
    server.pause();
    let mints = 0;
    try {
      await expect(
        store.singleFlight(
          'k',
          async () => {
            mints++;
            throw new Error('not expected to mint');
          },
          {},
        ),
      ).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    } finally {
      server.resume();
    }
    expect(mints).toBe(0);
    // The lock request reached Redis after all; the release queued behind it removed the lock.
    await eventually(async () => {
      expect(await redis.raw.get(`${prefix}probe`)).toBeNull();
      expect(await redis.raw.keys(`${prefix}*`)).toEqual([]);
    });
  });
});
