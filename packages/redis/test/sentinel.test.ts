import type { DrillsterAuthEvent } from '@drillster-auth/core';
import { expectNoLeaks } from '@drillster-auth/testing/node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisTokenCache } from '../src/index.js';
import { type Fixture, startFixture, uniquePrefix } from './helpers/drillster.js';
import { readLoop, runFleet } from './helpers/fleet.js';
import { MASTER_NAME, type RedisSentinel, startRedisSentinel } from './helpers/sentinel.js';

const cacheErrors = (events: DrillsterAuthEvent[]) =>
  events.filter((event) => event.type === 'cache_error');

let setup: RedisSentinel;
let drillster: Fixture;

beforeAll(async () => {
  [setup, drillster] = await Promise.all([startRedisSentinel(), startFixture()]);
}, 60_000);

afterAll(async () => {
  await setup?.close();
  await drillster?.server.close();
});

/** An ioredis client that asks the sentinel for the primary, as an app would configure it. */
async function connectThroughSentinel(): Promise<Redis> {
  const client = new Redis({ sentinels: setup.sentinels, name: MASTER_NAME, lazyConnect: true });
  client.on('error', () => {});
  await client.connect();
  return client;
}

describe('a Sentinel-managed primary with ioredis', () => {
  it('8 processes × 50 callers on a cold cache make one token request', async () => {
    const prefix = uniquePrefix('sentinel-fleet');
    drillster.server.mock.resetStats();
    const report = await runFleet({
      drillster,
      connections: [{ kind: 'ioredis sentinel', sentinels: setup.sentinels, name: MASTER_NAME }],
      prefix,
      workers: 8,
      callers: 50,
    });
    expect(report.failures).toEqual([]);
    expect(report.cacheErrors).toEqual([]);
    expect(report.exitCodes).toEqual(Array(8).fill(0));
    expect(report.tokens).toHaveLength(400);
    expect(new Set(report.tokens).size).toBe(1);
    expect(drillster.server.mock.stats.tokenRequests).toBe(1);
    const keys = await setup.primary.admin.keys(`${prefix}*`);
    expect(keys).toHaveLength(1);
    expect(JSON.parse((await setup.primary.admin.get(keys[0]!))!).accessToken).toBe(
      report.tokens[0],
    );
  }, 60_000);

  // Last: the setup has no spare replica afterwards.
  it('follows a failover without a restart: zero failed calls, then the new primary holds the tokens', async () => {
    const redis = await connectThroughSentinel();
    const prefix = uniquePrefix('sentinel-failover');
    // 2 s, not 200 ms: on this shared machine a stalled event loop alone can outlast the default,
    // and the claim under test is following the failover, not latency.
    const store = createRedisTokenCache({ client: redis, prefix, timeout: 2_000 });
    const first = drillster.authWithEvents({ cache: store });
    const minted = (await first.auth.getAccessToken()).accessToken;
    first.auth.close();
    expect(await setup.masterPort()).toBe(setup.primary.port);

    const loop = readLoop(drillster, [store], 3);
    try {
      await vi.waitFor(() => expect(loop.calls).toBeGreaterThanOrEqual(5), { timeout: 10_000 });
      await setup.failover();
      const atFailover = loop.calls;
      await vi.waitFor(() => expect(loop.calls).toBeGreaterThanOrEqual(atFailover + 10), {
        timeout: 10_000,
      });
      await loop.stop();
      expect(loop.failures).toEqual([]);
      // The outage was seen (the store failed, the callers did not).
      expect(cacheErrors(loop.events).length).toBeGreaterThan(0);
      expect(loop.tokens.has(minted)).toBe(true);
      expectNoLeaks(loop.events, {
        clientSecret: drillster.client.clientSecret,
        ...Object.fromEntries([...loop.tokens].map((token, index) => [`token #${index}`, token])),
      });

      // The same client, never restarted, now writes to the promoted replica: a fresh client
      // that must refresh stores its token there, and the next fresh client is served from it.
      const newPrimary = setup.replica.admin;
      const refreshed = await vi.waitFor(
        async () => {
          const { auth, events } = drillster.authWithEvents({ cache: store });
          try {
            const token = (await auth.getAccessToken({ forceRefresh: true })).accessToken;
            expect(cacheErrors(events)).toEqual([]);
            return token;
          } finally {
            auth.close();
          }
        },
        { timeout: 15_000, interval: 100 },
      );
      const [key] = await newPrimary.keys(`${prefix}*`);
      expect(JSON.parse((await newPrimary.get(key!))!).accessToken).toBe(refreshed);
      drillster.server.mock.resetStats();
      const { auth, events } = drillster.authWithEvents({ cache: store });
      expect((await auth.getAccessToken()).accessToken).toBe(refreshed);
      auth.close();
      expect(drillster.server.mock.stats.tokenRequests).toBe(0);
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'cache_hit', source: 'shared' }),
      );
    } finally {
      await loop.stop();
      redis.disconnect();
    }
  }, 40_000);
});
