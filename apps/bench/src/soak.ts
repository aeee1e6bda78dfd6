/**
 * `pnpm soak [--short] [--seconds n] [--rate n]`: tokens that live 2 s, requests at a steady rate
 * through the axios adapter and through the edge wrapper (each with its own client) against the
 * mock server on loopback, which revokes every token twice mid-run. Passes when no 401 (and no
 * other failure) reaches a caller, each client's token requests are within 10% of what its own
 * refresh schedule (`nextRefreshAt`) implies plus one per revocation (only the upper bound when
 * the machine could not send the load), and the heap after GC at the end is within
 * 10% (or 4 MiB) of the heap at a third of the run. Prints the figures; exits 1 naming what failed.
 */
import { parseArgs } from 'node:util';
import { attachDrillsterAuth } from '@drillster-auth/axios';
import { createDrillsterAuth, type DrillsterAuth } from '@drillster-auth/core';
import { createDrillsterFetch } from '@drillster-auth/edge';
import { startMockDrillster } from '@drillster-auth/testing/node';
import axios from 'axios';
import { settledHeap } from './measure.js';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rate: { type: 'string' },
  },
});
const seconds = Number(values.seconds ?? (values.short ? 20 : 60));
/** Requests per second on each path (axios, edge). */
const rate = Number(values.rate ?? 100);
const TOKEN_LIFETIME = 2;
const REVOCATIONS = 2;
const TICK_MS = 50;
/**
 * Requests in flight per path at most: past it a tick skips rather than queues (and the achieved
 * rate is printed), so that an overloaded machine shows up as a lower rate, not as requests
 * that wait in a queue longer than a 2-second token lives.
 */
const MAX_INFLIGHT = 8;

await using server = await startMockDrillster({ tokenLifetime: TOKEN_LIFETIME });
const { authOptions } = await server.provision();
const origin = new URL(server.url).origin;
const apiUrl = `${server.apiBaseUrl}user`;

/** One path's client, its tally of outcomes and its token requests. */
interface Path {
  name: string;
  auth: DrillsterAuth;
  send: () => Promise<number>;
  ok: number;
  status401: number;
  failures: Map<string, number>;
  tokenRequests: number;
  inflight: number;
  /** For each 401 that reached the caller: milliseconds since the last revocation. */
  late401: number[];
  /** Requests not sent because `MAX_INFLIGHT` were in flight. */
  skipped: number;
  /** Per token (by expiry), how long after its issue its refresh was scheduled, in ms. */
  refreshAfter: Map<number, number>;
}

const path = (name: string): Path => {
  const tally: Path = {
    name,
    auth: undefined as unknown as DrillsterAuth,
    send: async () => 0,
    ok: 0,
    status401: 0,
    failures: new Map(),
    tokenRequests: 0,
    inflight: 0,
    late401: [],
    skipped: 0,
    refreshAfter: new Map(),
  };
  tally.auth = createDrillsterAuth({
    ...authOptions,
    tokenEndpoint: server.tokenEndpoint,
    onEvent: (event) => {
      if (event.type === 'token_requested') tally.tokenRequests += 1;
      // Once the token is in its slot, read the client's schedule for it: the policy's answer.
      if (event.type === 'token_issued')
        setImmediate(() => void schedule(tally, event.expiresAt, event.lifetime));
    },
  });
  return tally;
};

const viaAxios = path('axios adapter');
const api = axios.create();
attachDrillsterAuth(api, viaAxios.auth, { allowedOrigins: [origin] });
viaAxios.send = async () => {
  try {
    return (await api.get(apiUrl)).status;
  } catch (error) {
    // An answer axios refused (its default: not 2xx) still counts by its status.
    const status = (error as { response?: { status?: number } }).response?.status;
    if (status === undefined) throw error;
    return status;
  }
};

const viaEdge = path('edge wrapper');
const edgeFetch = createDrillsterFetch({ auth: viaEdge.auth, allowedOrigins: [origin] });
viaEdge.send = async () => {
  const response = await edgeFetch(apiUrl);
  await response.arrayBuffer();
  return response.status;
};
const paths = [viaAxios, viaEdge];

/** Records how long after its issue the client plans to refresh the token that expires at `expiresAt`. */
const schedule = async (p: Path, expiresAt: number, lifetime: number) => {
  if (p.auth.nextRefreshAt() === undefined) return;
  const token = await p.auth.getAccessToken(); // a hit: a token is held
  const refreshAt = p.auth.nextRefreshAt();
  if (token.expiresAt !== expiresAt || refreshAt === undefined) return;
  p.refreshAfter.set(expiresAt, refreshAt - (expiresAt - lifetime * 1000));
};

const send = async (p: Path) => {
  try {
    const status = await p.send();
    if (status === 200) p.ok += 1;
    else if (status === 401) {
      p.status401 += 1;
      p.late401.push(Math.round(performance.now() - lastRevokedAt));
    } else p.failures.set(`HTTP ${status}`, (p.failures.get(`HTTP ${status}`) ?? 0) + 1);
  } catch (error) {
    const name = (error as { code?: string }).code ?? (error as Error).name;
    p.failures.set(name, (p.failures.get(name) ?? 0) + 1);
  }
};

const durationMs = seconds * 1000;
const perTick = (rate * TICK_MS) / 1000;
const inflight = new Set<Promise<void>>();
const revokeAt = Array.from(
  { length: REVOCATIONS },
  (_, i) => ((i + 1) * durationMs) / (REVOCATIONS + 1),
);
let revoked = 0;
let lastRevokedAt = Number.NEGATIVE_INFINITY;
let heapAtThird: number | undefined;
let carry = 0;
let lastElapsed = 0;
const started = performance.now();
console.error(
  `soak: ${seconds} s, ${rate} requests/s through each of ${paths.map((p) => p.name).join(' and ')}, tokens of ${TOKEN_LIFETIME} s, ${REVOCATIONS} revocations of every token`,
);
for (let tick = 0; ; tick++) {
  const elapsed = performance.now() - started;
  if (elapsed >= durationMs) break;
  if (heapAtThird === undefined && elapsed >= durationMs / 3 - 500) heapAtThird = settledHeap();
  if (revoked < REVOCATIONS && elapsed >= revokeAt[revoked]!) {
    server.mock.revokeAllTokens();
    lastRevokedAt = performance.now();
    revoked += 1;
  }
  // Keep the rate against the wall clock: a late tick sends what the missed time owed.
  carry += (perTick * (elapsed - lastElapsed)) / TICK_MS + (tick === 0 ? perTick : 0);
  lastElapsed = elapsed;
  carry = Math.min(carry, perTick * 4);
  while (carry >= 1) {
    carry -= 1;
    for (const p of paths) {
      if (p.inflight >= MAX_INFLIGHT) {
        p.skipped += 1;
        continue;
      }
      p.inflight += 1;
      const request = send(p).finally(() => {
        p.inflight -= 1;
        inflight.delete(request);
      });
      inflight.add(request);
    }
  }
  const next = started + (tick + 1) * TICK_MS;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
}
await Promise.all(inflight);
const elapsedMs = performance.now() - started;
const heapAtEnd = settledHeap();
for (const p of paths) p.auth.close();

const problems: string[] = [];
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
for (const p of paths) {
  const intervals = [...p.refreshAfter.values()];
  const interval = intervals.reduce((a, b) => a + b, 0) / intervals.length;
  const expected = elapsedMs / interval + REVOCATIONS;
  // Refreshes start on a hit: when this machine cannot send the load (requests not sent for
  // want of a free slot), fewer token requests are no fault of the client's; more always are.
  const keptUp = p.skipped <= rate * seconds * 0.1;
  const within =
    p.tokenRequests <= expected * 1.1 && (p.tokenRequests >= expected * 0.9 || !keptUp);
  const failures = [...p.failures].map(([name, count]) => `${name} ×${count}`).join(', ');
  console.log(
    `${p.name}: ${p.ok + p.status401 + [...p.failures.values()].reduce((a, b) => a + b, 0)} requests (${(p.ok / (elapsedMs / 1000)).toFixed(0)}/s ok, ${p.skipped} not sent: ${MAX_INFLIGHT} in flight), 401s to the caller ${p.status401}, other failures ${failures || 0}; token requests ${p.tokenRequests}, expected ${expected.toFixed(1)} (${(elapsedMs / 1000).toFixed(1)} s ÷ the refresh schedule's ${(interval / 1000).toFixed(2)} s after issue, over ${intervals.length} tokens, + ${REVOCATIONS} revocations) ${within ? (keptUp ? 'ok' : 'ok (at most: the load was not kept up)') : 'OFF BY MORE THAN 10%'}`,
  );
  if (p.status401 > 0) {
    problems.push(
      `${p.name}: ${p.status401} 401s reached the caller (ms since the last revocation: ${p.late401.join(', ')})`,
    );
  }
  if (p.failures.size > 0) problems.push(`${p.name}: failed requests (${failures})`);
  if (!within)
    problems.push(
      `${p.name}: ${p.tokenRequests} token requests, expected ${expected.toFixed(1)} ± 10%`,
    );
}
const growth = heapAtEnd - heapAtThird!;
const flat = growth <= Math.max(heapAtThird! * 0.1, 4 * 1024 * 1024);
console.log(
  `heap after GC: ${mib(heapAtThird!)} at a third, ${mib(heapAtEnd)} at the end (${growth >= 0 ? '+' : ''}${mib(growth)}) ${flat ? 'flat' : 'GROWING'}; revocations ${revoked}; mock token requests ${server.mock.stats.tokenRequests}`,
);
if (!flat) problems.push(`heap grew ${mib(growth)} from a third of the run to its end`);
for (const problem of problems) console.error(`soak failed: ${problem}`);
process.exit(problems.length === 0 ? 0 : 1);
