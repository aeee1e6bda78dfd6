import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientKinds, REDIS_URL, type TestClient } from './helpers/clients.js';
import { type Fixture, startFixture, uniquePrefix } from './helpers/drillster.js';

const WORKERS = 8;
const CALLERS = 50;
const workerScript = new URL('./fixtures/worker.mjs', import.meta.url);

interface WorkerReport {
  type: 'done';
  tokens: string[];
  failures: string[];
  cacheErrors: string[];
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`worker exited with ${code} before answering`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve(message as T);
    });
  });
}

describe('many processes on a cold cache', () => {
  let drillster: Fixture;
  let redis: TestClient;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    drillster = await startFixture();
    redis = await clientKinds[0].connect();
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill();
    await redis.raw.del(await redis.raw.keys('drillster-auth-test:workers:*'));
    await redis.close();
    await drillster.server.close();
  });

  it.each([
    { label: 'ioredis', kinds: ['ioredis'] },
    {
      label: 'node-redis v5, node-redis v4 and ioredis mixed',
      kinds: ['node-redis', 'node-redis v4', 'ioredis'],
    },
    {
      label: 'encrypted, ioredis and node-redis',
      kinds: ['ioredis', 'node-redis'],
      secret: 'a secret shared by the fleet',
    },
    {
      // The mint outlasts two lock lifetimes: only the holder's renewals keep the others waiting.
      // The lifetime is 2 s, so a renewal every 667 ms survives the holder being descheduled
      // for a second (with 750 ms, seen: a second token request while both cores were busy).
      label: 'a token endpoint slower than the lock lifetime',
      kinds: ['ioredis', 'node-redis'],
      lockTtl: 2_000,
      delayMs: 4_500,
    },
  ])(
    `make one token request for ${WORKERS} processes × ${CALLERS} callers ($label)`,
    async ({
      kinds,
      secret,
      lockTtl,
      delayMs,
    }: {
      kinds: string[];
      secret?: string;
      lockTtl?: number;
      delayMs?: number;
    }) => {
      const prefix = uniquePrefix('workers');
      drillster.server.mock.resetStats();
      drillster.server.mock.clearFaults();
      if (delayMs !== undefined) drillster.server.mock.injectFault({ delayMs });
      const workers = Array.from({ length: WORKERS }, (_, index) => {
        const child = fork(workerScript, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.push(child);
        child.send({
          kind: kinds[index % kinds.length],
          redisUrl: REDIS_URL,
          prefix,
          secret,
          lockTtl,
          callers: CALLERS,
          keyFile: drillster.account.keyFile,
          clientId: drillster.client.clientId,
          clientSecret: drillster.client.clientSecret,
          tokenEndpoint: drillster.server.tokenEndpoint,
        });
        return child;
      });
      // Everyone is connected before anyone asks: the cache is cold for all of them.
      await Promise.all(workers.map((child) => nextMessage<{ type: 'ready' }>(child)));
      const reports = workers.map((child) => nextMessage<WorkerReport>(child));
      for (const child of workers) child.send({ type: 'go' });
      const done = await Promise.all(reports);
      await Promise.all(
        workers.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)),
      );

      expect(done.flatMap((report) => report.failures)).toEqual([]);
      expect(done.flatMap((report) => report.cacheErrors)).toEqual([]);
      const tokens = done.flatMap((report) => report.tokens);
      expect(tokens).toHaveLength(WORKERS * CALLERS);
      expect(new Set(tokens).size).toBe(1);
      expect(await drillster.server.mock.verifyAccessToken(tokens[0]!)).toBeDefined();
      expect(drillster.server.mock.stats.tokenRequests).toBe(1);
      expect(workers.map((child) => child.exitCode)).toEqual(Array(WORKERS).fill(0));
      const [key, ...others] = await redis.raw.keys(`${prefix}*`);
      expect(others).toEqual([]);
      const stored = await redis.raw.get(key!);
      if (secret === undefined) expect(JSON.parse(stored!).accessToken).toBe(tokens[0]);
      else expect(stored).not.toContain(tokens[0]);
    },
    // Eight Node processes start on two cores, then one of them mints for up to 4.5 s.
    60_000,
  );
});
