// Pins which subject a full per-subject cache drops (the CLOCK sweep in client.ts `#evict`).
// test/client-eviction.test.ts covers the same ground and the 10,000-subject run, but mutation
// testing leaves that file out (vitest.mutation.config.ts: its 60 s test covers most of
// client.ts), so these quick tests are what pins eviction there.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, startFixture } from './server.js';

let now = Date.now();
const clock = () => now;
let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture({ clock });
});

afterAll(async () => {
  await fx.server.close();
});

afterEach(() => {
  fx.server.mock.clearFaults();
  fx.server.mock.setTokenLifetime(3600);
});

function users(count: number): string[] {
  return Array.from(
    { length: count },
    () => fx.server.mock.addManagedUser(fx.account.serviceAccountId).userId,
  );
}

const requests = (subject: string) => fx.server.mock.stats.tokenRequestsBySubject[subject] ?? 0;

describe('a full per-subject cache drops', () => {
  it('the oldest subject no hit used, and keeps the rest', async () => {
    const [a, b, c] = users(3) as [string, string, string];
    const auth = fx.auth({ clock, maxSubjects: 2 });
    await auth.getAccessToken({ subject: a });
    const tokenB = await auth.getAccessToken({ subject: b });
    await auth.getAccessToken({ subject: c }); // a goes
    expect(await auth.getAccessToken({ subject: b })).toBe(tokenB);
    expect(requests(b)).toBe(1);
    await auth.getAccessToken({ subject: a });
    expect(requests(a)).toBe(2);
  });

  it('nothing while it is not full', async () => {
    const [a, b, c] = users(3) as [string, string, string];
    const auth = fx.auth({ clock, maxSubjects: 3 });
    const first = await Promise.all([a, b, c].map((subject) => auth.getAccessToken({ subject })));
    const again = await Promise.all([a, b, c].map((subject) => auth.getAccessToken({ subject })));
    expect(again).toEqual(first);
    for (const subject of [a, b, c]) expect(requests(subject)).toBe(1);
  });

  it('a used subject whose token went stale, before a used one that is fresh', async () => {
    const [a, b, c] = users(3) as [string, string, string];
    const auth = fx.auth({ clock, maxSubjects: 2 });
    const tokenB = await auth.getAccessToken({ subject: b });
    fx.server.mock.setTokenLifetime(60);
    await auth.getAccessToken({ subject: a });
    fx.server.mock.setTokenLifetime(3600);
    await auth.getAccessToken({ subject: b }); // both used since the last sweep
    await auth.getAccessToken({ subject: a });
    now += 45_000; // a's 60 s token is past its 30 s margin; b's is fresh
    await auth.getAccessToken({ subject: c }); // b gets its second chance; a goes
    expect(await auth.getAccessToken({ subject: b })).toBe(tokenB);
    expect(requests(b)).toBe(1);
  });

  it('never a subject whose request is in flight, and stops when every slot is in flight', async () => {
    const [a, b, c] = users(3) as [string, string, string];
    const auth = fx.auth({ clock, maxSubjects: 1 });
    fx.server.mock.injectFault({ delayMs: 300, count: 3 });
    // Three slots for one place, each with its request in flight: the sweep must give up.
    const pending = [a, b, c].map((subject) => auth.getAccessToken({ subject }));
    const joined = auth.getAccessToken({ subject: a }); // a's slot was kept: this joins it
    const tokens = await Promise.all(pending);
    expect(await joined).toBe(tokens[0]);
    expect(new Set(tokens.map((token) => token.subject))).toEqual(new Set([a, b, c]));
    for (const subject of [a, b, c]) expect(requests(subject)).toBe(1);
  });

  it('no new subject before its request starts: concurrent first calls share one request', async () => {
    const [a, b] = users(2) as [string, string];
    const auth = fx.auth({ clock, maxSubjects: 1 });
    await auth.getAccessToken({ subject: a });
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () => auth.getAccessToken({ subject: b })),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(await auth.getAccessToken({ subject: b })).toBe(tokens[0]);
    expect(requests(b)).toBe(1);
  });
});
