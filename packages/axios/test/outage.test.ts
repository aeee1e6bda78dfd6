import { createDrillsterAuth } from '@drillster-auth/core';
import { runOutageDrill, tokenRequestTracker } from '@drillster-auth/testing';
import { type RunningMockDrillster, startMockDrillster } from '@drillster-auth/testing/node';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { attachDrillsterAuth } from '../src/index.js';

// One clock for the mock and the client: an hour of token life passes in a second of test.
const clock = { now: Date.now() };
let server: RunningMockDrillster;

beforeAll(async () => {
  server = await startMockDrillster({ clock: () => clock.now });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await server.close();
});

describe('a token endpoint outage of 40 % of the token lifetime, from the moment the refresh starts', () => {
  it('fails no API call through the interceptor (connections dropped)', async () => {
    // random() near 1: the refresh starts at its latest (50 % of the life) and every backoff
    // waits its longest.
    vi.spyOn(Math, 'random').mockReturnValue(1 - 2 ** -30);
    const { authOptions } = await server.provision();
    const tracker = tokenRequestTracker();
    const auth = createDrillsterAuth({
      ...authOptions,
      clock: () => clock.now,
      retry: false,
      onEvent: tracker.onEvent,
    });
    const api = axios.create({ baseURL: server.apiBaseUrl });
    const detach = attachDrillsterAuth(api, auth);
    try {
      const report = await runOutageDrill({
        mock: server.mock,
        clock,
        lifetimeSeconds: 3600,
        outage: 'drop',
        stepMs: 20_000,
        call: async () => expect((await api.get('user')).status).toBe(200),
        settle: () => vi.waitFor(() => expect(tracker.idle()).toBe(true), { interval: 1 }),
      });
      expect(report.failures).toEqual([]);
      const { outageStartedAt = 0, outageEndedAt = 0, refreshedAt = Infinity } = report;
      expect(outageStartedAt - report.firstTokenAt).toBeGreaterThanOrEqual(1_800_000);
      expect(report.refusedRequests).toBeGreaterThan(10);
      expect(refreshedAt).toBeGreaterThanOrEqual(outageEndedAt);
      expect(refreshedAt).toBeLessThan(report.firstTokenAt + 3_600_000 - 30_000);
      // Every call reached the API with a token it accepted.
      expect(server.mock.stats.apiRejections).toBe(0);
      expect(server.mock.stats.apiRequests).toBe(report.calls - 1);
    } finally {
      detach();
      auth.close();
    }
  });
});
