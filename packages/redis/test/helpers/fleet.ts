import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import type { DrillsterAuthEvent, TokenCache } from '@drillster-auth/core';
import type { Fixture } from './drillster.js';

const workerScript = new URL('../fixtures/topology-worker.mjs', import.meta.url);

/** How a worker of `test/fixtures/topology-worker.mjs` connects. */
export type FleetConnection =
  | { kind: 'ioredis cluster' | 'node-redis cluster'; nodes: { host: string; port: number }[] }
  | { kind: 'ioredis sentinel'; sentinels: { host: string; port: number }[]; name: string };

/** What the fleet got: every caller's token, failure and cache error. */
export interface FleetReport {
  tokens: string[];
  failures: string[];
  cacheErrors: string[];
  exitCodes: (number | null)[];
}

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

/**
 * Forks `workers` processes (connections taken round-robin from `connections`), waits until all
 * are connected, then lets each run `callers` concurrent `getAccessToken()` calls on a cold cache.
 * A worker still running when this fails is killed.
 */
export async function runFleet(options: {
  drillster: Fixture;
  connections: FleetConnection[];
  prefix: string;
  workers: number;
  callers: number;
  /** The store's command `timeout` in each worker, in ms. Default 2000. */
  timeout?: number;
}): Promise<FleetReport> {
  const { drillster, connections, prefix, workers, callers } = options;
  // Not the store's 200 ms: on a machine whose cores are busy, a worker's event loop alone can
  // stall that long, and the claim under test is single flight, not latency.
  const timeout = options.timeout ?? 2_000;
  const children = Array.from({ length: workers }, (_, index) => {
    const child = fork(workerScript, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.send({
      connection: connections[index % connections.length],
      prefix,
      callers,
      timeout,
      keyFile: drillster.account.keyFile,
      clientId: drillster.client.clientId,
      clientSecret: drillster.client.clientSecret,
      tokenEndpoint: drillster.server.tokenEndpoint,
    });
    return child;
  });
  try {
    // Everyone is connected before anyone asks: the cache is cold for all of them.
    await Promise.all(children.map((child) => nextMessage<{ type: 'ready' }>(child)));
    const reports = children.map((child) => nextMessage<WorkerReport>(child));
    for (const child of children) child.send({ type: 'go' });
    const done = await Promise.all(reports);
    await Promise.all(
      children.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)),
    );
    return {
      tokens: done.flatMap((report) => report.tokens),
      failures: done.flatMap((report) => report.failures),
      cacheErrors: done.flatMap((report) => report.cacheErrors),
      exitCodes: children.map((child) => child.exitCode),
    };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

/**
 * Runs `readers` loops until stopped, each call from a new client (empty memory), so every call
 * reads the shared store. Counts calls, keeps tokens, failures and events.
 */
export function readLoop(
  drillster: Fixture,
  stores: TokenCache[],
  readers: number,
): {
  readonly calls: number;
  /** Completed calls per loop; loop `i` uses `stores[i % stores.length]`. */
  perLoop: number[];
  tokens: Set<string>;
  failures: unknown[];
  events: DrillsterAuthEvent[];
  stop(): Promise<void>;
} {
  let calls = 0;
  const perLoop = Array<number>(readers).fill(0);
  let running = true;
  const tokens = new Set<string>();
  const failures: unknown[] = [];
  const events: DrillsterAuthEvent[] = [];
  const loops = Array.from({ length: readers }, async (_, index) => {
    while (running) {
      const auth = drillster.auth({
        cache: stores[index % stores.length],
        onEvent: (event) => events.push(event),
      });
      try {
        tokens.add((await auth.getAccessToken()).accessToken);
        calls++;
        perLoop[index]!++;
      } catch (error) {
        failures.push(error);
      } finally {
        auth.close();
      }
    }
  });
  return {
    get calls() {
      return calls;
    },
    perLoop,
    tokens,
    failures,
    events,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
