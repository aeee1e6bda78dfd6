import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AccessToken } from '../src/index.js';
import { type Fixture, startFixture } from './server.js';

let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture();
});

afterAll(async () => {
  await fx.server.close();
});

afterEach(() => {
  fx.server.mock.clearFaults();
  fx.server.mock.resetStats();
  fx.server.mock.setTokenLifetime(3600);
  fx.events.length = 0;
});

function addUsers(count: number): string[] {
  return Array.from(
    { length: count },
    () => fx.server.mock.addManagedUser(fx.account.serviceAccountId).userId,
  );
}

const requestsFor = (subject: string) => fx.server.mock.stats.tokenRequestsBySubject[subject] ?? 0;

describe('a full per-subject cache', () => {
  it('still caches a new subject: sequential calls make one request, concurrent ones share it', async () => {
    const users = addUsers(5);
    const auth = fx.auth({ maxSubjects: 3 });
    for (const user of users.slice(0, 3)) await auth.getAccessToken({ subject: user });
    const fourth = users[3]!;
    const first = await auth.getAccessToken({ subject: fourth });
    for (let i = 0; i < 4; i++) expect(await auth.getAccessToken({ subject: fourth })).toBe(first);
    expect(requestsFor(fourth)).toBe(1);

    const fifth = users[4]!;
    const tokens = await Promise.all(
      Array.from({ length: 50 }, () => auth.getAccessToken({ subject: fifth })),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(requestsFor(fifth)).toBe(1);
  });

  it('drops an idle subject, not one that was just used', async () => {
    const [a, b, c] = addUsers(3) as [string, string, string];
    const auth = fx.auth({ maxSubjects: 2 });
    const tokenA = await auth.getAccessToken({ subject: a });
    await auth.getAccessToken({ subject: b });
    expect(await auth.getAccessToken({ subject: a })).toBe(tokenA); // a is used again
    await auth.getAccessToken({ subject: c }); // the cache is full: b goes
    expect(await auth.getAccessToken({ subject: a })).toBe(tokenA);
    expect(requestsFor(a)).toBe(1);
    await auth.getAccessToken({ subject: b });
    expect(requestsFor(b)).toBe(2);
  });

  it('drops a subject whose token went stale before a fresh one', async () => {
    let now = Date.now();
    const clock = () => now;
    const server = await startFixture({ clock });
    try {
      const [a, b, c] = Array.from(
        { length: 3 },
        () => server.server.mock.addManagedUser(server.account.serviceAccountId).userId,
      ) as [string, string, string];
      const auth = server.auth({ clock, maxSubjects: 2 });
      server.server.mock.setTokenLifetime(60);
      await auth.getAccessToken({ subject: a });
      server.server.mock.setTokenLifetime(3600);
      const tokenB = await auth.getAccessToken({ subject: b });
      now += 45_000; // a's token is stale (30 s margin of a 60 s token), b's is fresh
      await auth.getAccessToken({ subject: c });
      expect(await auth.getAccessToken({ subject: b })).toBe(tokenB);
      expect(server.server.mock.stats.tokenRequestsBySubject[b]).toBe(1);
    } finally {
      await server.server.close();
    }
  });

  it('never drops a subject whose request is in flight', async () => {
    const [a, b] = addUsers(2) as [string, string];
    const auth = fx.auth({ maxSubjects: 1 });
    fx.server.mock.injectFault({ delayMs: 200 });
    const pendingA = auth.getAccessToken({ subject: a });
    const tokenB = await auth.getAccessToken({ subject: b }); // a's slot is in flight
    const laterA = auth.getAccessToken({ subject: a }); // joins a's request
    const [first, second] = await Promise.all([pendingA, laterA]);
    expect(second).toBe(first);
    expect(requestsFor(a)).toBe(1);
    expect(tokenB).toBeInstanceOf(AccessToken);
  });
});

describe('10,000 subjects through maxSubjects 1,000', () => {
  it('serves every second call from memory, shares concurrent first calls, keeps the heap bounded', async () => {
    const gc = exposeGc();
    const users = addUsers(10_000);
    const auth = fx.auth({ maxSubjects: 1000, onEvent: undefined });
    let secondCallRequests = 0;
    const visit = async (subject: string, index: number) => {
      // Every 50th subject starts with 20 concurrent calls: one request serves them all.
      const concurrency = index % 50 === 0 ? 20 : 1;
      const firsts = await Promise.all(
        Array.from({ length: concurrency }, () => auth.getAccessToken({ subject })),
      );
      expect(new Set(firsts).size).toBe(1);
      const before = requestsFor(subject);
      const second = await auth.getAccessToken({ subject });
      if (second !== firsts[0] || requestsFor(subject) !== before) secondCallRequests++;
      expect(before).toBe(1);
    };
    const run = async (from: number, to: number) => {
      // Four subjects at a time, so both cores work; each subject is still visited in order.
      let next = from;
      const worker = async () => {
        while (next < to) {
          const index = next++;
          await visit(users[index]!, index);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    };

    await run(0, 1000);
    const atLimit = heapUsed(gc);
    await run(1000, 10_000);
    const afterAll = heapUsed(gc);

    expect(secondCallRequests).toBe(0);
    expect(fx.server.mock.stats.tokenRequests).toBe(10_000);
    // 9,000 more subjects were served; the cache holds 1,000 of them. A slot (token, header,
    // AccessToken) costs about 2 KB, so keeping all 10,000 would add ~18 MB; the mock server's
    // own bookkeeping of 9,000 requests (in this process) costs a few MB.
    expect(afterAll - atLimit).toBeLessThan(8 * 1024 * 1024);
    // 10,000 real token requests, each signed here and verified by the in-process mock: about
    // 60 s on an idle 2-core machine, 164 s seen with the machine loaded 20-fold, so the limit
    // only catches a hang.
  }, 600_000);
});

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function heapUsed(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
