import { runOutageDrill, tokenRequestTracker } from '@drillster-auth/testing';
import { expectNoLeaks } from '@drillster-auth/testing/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DrillsterAuth } from '../src/index.js';
import { type Fixture, startFixture } from './server.js';

// One clock for the mock and the client: an hour of token life passes in a second of test.
const clock = { now: Date.now() };
let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture({ clock: () => clock.now });
});

afterAll(async () => {
  await fx.server.close();
});

const clients: DrillsterAuth[] = [];
afterEach(() => {
  for (const auth of clients.splice(0)) auth.close();
  vi.restoreAllMocks();
  fx.server.mock.clearFaults();
  fx.server.mock.resetStats();
  fx.server.mock.setTokenLifetime(3600);
  fx.events.length = 0;
});

/** A client with the default refresh policy, on the shared clock, one attempt per request. */
function client(tracker: ReturnType<typeof tokenRequestTracker>): DrillsterAuth {
  const auth = fx.auth({
    clock: () => clock.now,
    retry: false,
    onEvent: (event) => {
      fx.events.push(event);
      tracker.onEvent(event);
    },
  });
  clients.push(auth);
  return auth;
}

describe('a token endpoint outage of 40 % of the token lifetime, starting as the refresh starts', () => {
  it.each(['503', 'drop'] as const)(
    'fails no call (%s), at the latest refresh moment and the slowest backoff',
    async (outage) => {
      // random() near 1: the slot refreshes at the end of its spread (50 % of the life) and
      // every backoff waits its longest: the worst moment and the worst retries.
      vi.spyOn(Math, 'random').mockReturnValue(1 - 2 ** -30);
      const tracker = tokenRequestTracker();
      const auth = client(tracker);
      const report = await runOutageDrill({
        mock: fx.server.mock,
        clock,
        lifetimeSeconds: 3600,
        outage,
        stepMs: 10_000,
        call: async () => {
          const token = await auth.getAccessToken();
          // Valid at the protected resource, by the mock's clock.
          expect(await fx.server.mock.verifyAccessToken(token.accessToken)).toBeDefined();
        },
        settle: () => vi.waitFor(() => expect(tracker.idle()).toBe(true), { interval: 1 }),
      });

      expect(report.failures).toEqual([]);
      const { outageStartedAt = 0, outageEndedAt = 0, refreshedAt = Infinity } = report;
      // The outage met the refresh at 50 % of the life (within one 10 s step)…
      expect(outageStartedAt - report.firstTokenAt).toBeGreaterThanOrEqual(1_800_000);
      expect(outageStartedAt - report.firstTokenAt).toBeLessThanOrEqual(1_810_000);
      // …it refused every request for 40 % of the life, and the refresh went on until it ended:
      // the backoff (at most 90 s for an hour-long token) found the endpoint back in time.
      expect(report.refusedRequests).toBeGreaterThan(10);
      expect(refreshedAt).toBeGreaterThanOrEqual(outageEndedAt);
      expect(refreshedAt - outageEndedAt).toBeLessThanOrEqual(90_000 + 10_000);
      expect(refreshedAt).toBeLessThan(report.firstTokenAt + 3_600_000 - 30_000);
      expect(report.tokenRequests).toBe(report.refusedRequests + 1);
      const failed = fx.events.filter((e) => e.type === 'token_failed');
      expect(failed).toHaveLength(report.refusedRequests);
      expect(failed.every((e) => e.type === 'token_failed' && e.background)).toBe(true);
      expectNoLeaks(fx.events, {
        clientSecret: fx.client.clientSecret,
        privateKey: fx.account.keyFile.privateKey,
      });
    },
  );

  it('is not ridden out by the old policy (refresh in the last 5 minutes): the drill can fail', async () => {
    const tracker = tokenRequestTracker();
    const auth = fx.auth({
      clock: () => clock.now,
      retry: false,
      refresh: { windowSeconds: 300, windowRatio: 0.1 },
      onEvent: tracker.onEvent,
    });
    clients.push(auth);
    const report = await runOutageDrill({
      mock: fx.server.mock,
      clock,
      lifetimeSeconds: 3600,
      stepMs: 10_000,
      call: () => auth.getAccessToken(),
      settle: () => vi.waitFor(() => expect(tracker.idle()).toBe(true), { interval: 1 }),
    });
    // The refresh starts 5 minutes before expiry; a 24-minute outage outlasts the token, and
    // every call from its margin on fails.
    expect(report.outageStartedAt).toBeGreaterThanOrEqual(report.firstTokenAt + 3_300_000);
    expect(report.refreshedAt).toBeUndefined();
    expect(report.failures.length).toBeGreaterThan(0);
    expect(report.failures[0]?.at).toBe(report.firstTokenAt + 3_600_000 - 30_000);
  });
});
