import { runOutageDrill, tokenRequestTracker } from '@drillster-auth/testing';
import { type RunningMockDrillster, startMockDrillster } from '@drillster-auth/testing/node';
import { Test, type TestingModule } from '@nestjs/testing';
import type { AxiosInstance } from 'axios';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DRILLSTER_API, DrillsterAuthModule, DrillsterAuthService } from '../src/index.js';

// One clock for the mock and the client: an hour of token life passes in a second of test.
const clock = { now: Date.now() };
let server: RunningMockDrillster;
let app: TestingModule | undefined;

beforeAll(async () => {
  server = await startMockDrillster({ clock: () => clock.now });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await app?.close();
  await server.close();
});

describe('a token endpoint outage of 40 % of the token lifetime, from the moment the refresh starts', () => {
  it('fails no call of the service or the API client (503)', async () => {
    // random() near 1: the refresh starts at its latest (50 % of the life) and every backoff
    // waits its longest.
    vi.spyOn(Math, 'random').mockReturnValue(1 - 2 ** -30);
    const { authOptions } = await server.provision();
    const tracker = tokenRequestTracker();
    app = await Test.createTestingModule({
      imports: [
        DrillsterAuthModule.forRoot({
          ...authOptions,
          clock: () => clock.now,
          retry: false,
          onEvent: tracker.onEvent,
          api: { baseURL: server.apiBaseUrl },
        }),
      ],
    }).compile();
    await app.init();
    const service = app.get(DrillsterAuthService);
    const api = app.get<AxiosInstance>(DRILLSTER_API);

    const report = await runOutageDrill({
      mock: server.mock,
      clock,
      lifetimeSeconds: 3600,
      stepMs: 20_000,
      call: async () => {
        const token = await service.getAccessToken();
        expect(await server.mock.verifyAccessToken(token.accessToken)).toBeDefined();
        expect((await api.get('user')).status).toBe(200);
      },
      settle: () => vi.waitFor(() => expect(tracker.idle()).toBe(true), { interval: 1 }),
    });
    expect(report.failures).toEqual([]);
    const { outageStartedAt = 0, outageEndedAt = 0, refreshedAt = Infinity } = report;
    expect(outageStartedAt - report.firstTokenAt).toBeGreaterThanOrEqual(1_800_000);
    expect(report.refusedRequests).toBeGreaterThan(10);
    expect(refreshedAt).toBeGreaterThanOrEqual(outageEndedAt);
    expect(refreshedAt).toBeLessThan(report.firstTokenAt + 3_600_000 - 30_000);
    expect(server.mock.stats.apiRejections).toBe(0);
  });
});
