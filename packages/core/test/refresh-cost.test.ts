import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DrillsterAuthOptions } from '../src/index.js';
import { type Fixture, startFixture } from './server.js';

// What refreshing early costs: token requests per hour per subject, measured against the mock
// on a clock it shares with the client, for the table in the README ("Riding out a token
// endpoint outage"). Each subject is called every `step`; its refresh happens on the first call
// after its refresh moment.
const clock = { now: Date.now() };
let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture({ clock: () => clock.now });
});

afterAll(async () => {
  await fx.server.close();
});

afterEach(() => {
  vi.restoreAllMocks();
  fx.server.mock.setTokenLifetime(3600);
});

/**
 * Token requests per hour per subject: four subjects placed evenly in the spread (random()
 * 1/8, 3/8, 5/8, 7/8), each called every `stepMs` for `lifetimes` token lifetimes; the rate is
 * 3600 s over the mean time between one subject's consecutive tokens.
 */
async function measure(
  lifetimeSeconds: number,
  refresh: DrillsterAuthOptions['refresh'],
  stepMs: number,
  lifetimes: number,
): Promise<number> {
  fx.server.mock.setTokenLifetime(lifetimeSeconds);
  const places = [1 / 8, 3 / 8, 5 / 8, 7 / 8];
  let next = 0;
  vi.spyOn(Math, 'random').mockImplementation(() => places[next++ % places.length] as number);
  const issued = new Map<string, number[]>();
  let open = 0;
  const auth = fx.auth({
    clock: () => clock.now,
    retry: false,
    refresh,
    onEvent: (event) => {
      if (event.type === 'token_requested') open += 1;
      if (event.type === 'token_failed') open -= 1;
      if (event.type === 'token_issued') {
        open -= 1;
        issued.set(event.subject, [...(issued.get(event.subject) ?? []), clock.now]);
      }
    },
  });
  try {
    const subjects = places.map(
      () => fx.server.mock.addManagedUser(fx.account.serviceAccountId).userId,
    );
    const end = clock.now + lifetimes * lifetimeSeconds * 1000;
    for (; clock.now < end; clock.now += stepMs) {
      for (const subject of subjects) await auth.getAccessToken({ subject });
      // A background refresh runs on the mock over loopback: on a busy machine it can take
      // longer than waitFor's default second.
      await vi.waitFor(() => expect(open).toBe(0), { interval: 1, timeout: 30_000 });
    }
    const intervals = subjects.flatMap((subject) => {
      const times = issued.get(subject) ?? [];
      return times.slice(1).map((at, i) => at - (times[i] as number));
    });
    expect(intervals.length).toBeGreaterThanOrEqual(subjects.length * (lifetimes - 1));
    const mean = intervals.reduce((sum, ms) => sum + ms, 0) / intervals.length;
    return 3_600_000 / mean;
  } finally {
    auth.close();
  }
}

/** The old policy, which the deprecated options still give: the last 5 minutes or 10 %. */
const OLD = { windowSeconds: 300, windowRatio: 0.1 };

// Computed: the default refreshes at 40–50 % of the life, evenly spread, so a subject placed at
// u asks every (0.4 + 0.1u) lifetimes; on average over u, 10 ln 1.25 ≈ 2.23 times per lifetime.
// The old policy asked once per lifetime minus its window.
const perLifetime = 10 * Math.log(1.25);

describe('token requests per hour per subject (the README table)', () => {
  it.each([
    // lifetime (s), call every (ms), lifetimes simulated
    [300, 1000, 3],
    [3600, 10_000, 3],
  ])(
    'for %i s tokens: about 2.2 per lifetime, against 1.1 with the old policy',
    async (lifetime, step, lifetimes) => {
      const computedNew = (3600 / lifetime) * perLifetime;
      const computedOld = 3600 / (lifetime - Math.min(300, 0.1 * lifetime));
      const measuredNew = await measure(lifetime, undefined, step, lifetimes);
      const measuredOld = await measure(lifetime, OLD, step, lifetimes);
      // Within 2 %: a refresh waits for the next call, up to one step late.
      expect(measuredNew).toBeGreaterThan(computedNew * 0.98);
      expect(measuredNew).toBeLessThan(computedNew * 1.02);
      expect(measuredOld).toBeGreaterThan(computedOld * 0.98);
      expect(measuredOld).toBeLessThan(computedOld * 1.02);
    },
  );
});
