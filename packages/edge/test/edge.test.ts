import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  expectNoLeaks,
  type MockClient,
  type MockManagedUser,
  type MockServiceAccount,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { type EchoServer, startEchoServer } from './echo-server.js';
import type { TestEnv } from './fixtures/worker.js';
import { startBun } from './runtimes/bun.js';
import { bundleForEdge } from './runtimes/bundle.js';
import { startDeno } from './runtimes/deno.js';
import type { RuntimeServer } from './runtimes/process.js';
import { startWorkerd } from './runtimes/workerd.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const RUNTIMES = ['workerd', 'deno', 'bun'] as const;
type Runtime = (typeof RUNTIMES)[number];

let dir: string;
let server: RunningMockDrillster;
let echo: EchoServer;
let account: MockServiceAccount;
let client: MockClient;
let user: MockManagedUser;
let rotationKeys: MockServiceAccount[];
let rotationSubjects: string[];
/** Added to the mock's clock; the rotation scenario moves it (and its client's) past token lives. */
let clockOffset = 0;
const hosts: Partial<Record<Runtime, RuntimeServer>> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drillster-edge-'));
  [server, echo] = await Promise.all([
    startMockDrillster({ clock: () => Date.now() + clockOffset }),
    startEchoServer(),
  ]);
  ({ account, client, managedUser: user } = await server.provision());
  const serviceAccountId = account.serviceAccountId;
  rotationKeys = [
    await server.mock.addKey(serviceAccountId),
    await server.mock.addKey(serviceAccountId),
  ];
  rotationSubjects = [
    serviceAccountId,
    user.userId,
    ...[1, 2, 3].map(() => server.mock.addManagedUser(serviceAccountId).userId),
  ];
  const env: TestEnv = {
    issuer: server.issuer,
    apiBaseUrl: server.apiBaseUrl,
    keyFile: account.keyFileJson,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    managedUserId: user.userId,
    echoUrl: echo.url,
    rotationKeys: rotationKeys.map((key) => key.keyFileJson),
    rotationSubjects,
  };
  const [worker, kvService, denoHost, bunHost] = await Promise.all([
    bundleForEdge(fixture('worker.ts'), join(dir, 'worker.js')),
    bundleForEdge(fixture('kv-service.ts'), join(dir, 'kv.js')),
    bundleForEdge(fixture('serve-deno.ts'), join(dir, 'serve-deno.js')),
    bundleForEdge(fixture('serve-bun.ts'), join(dir, 'serve-bun.js')),
  ]);
  const started = await Promise.allSettled([
    startWorkerd({ bundle: worker, env, kvService }).then((host) => (hosts.workerd = host)),
    startDeno(denoHost, env).then((host) => (hosts.deno = host)),
    startBun(bunHost, env).then((host) => (hosts.bun = host)),
  ]);
  // The ones that did start are in `hosts` for afterAll to stop.
  for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
});

afterAll(async () => {
  await Promise.all(Object.values(hosts).map((host) => host?.close()));
  await Promise.all([server?.close(), echo?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

let runs = 0;

describe.each(RUNTIMES)('createDrillsterFetch in %s', (runtime) => {
  /** Runs a scenario of fixtures/worker.ts in this runtime. */
  async function scenario<T = { status: number; body: Record<string, unknown> }>(
    name: string,
    params: Record<string, string> = {},
  ): Promise<T> {
    const response = await fetch(`${hosts[runtime]!.url}/${name}?${new URLSearchParams(params)}`);
    const result = (await response.json()) as T;
    if (response.status !== 200) {
      throw new Error(`${name} failed: ${JSON.stringify(result)}\n${hosts[runtime]!.stderr()}`);
    }
    return result;
  }
  const newRun = () => `${runtime}-${++runs}`;
  // Node globals and KV bindings are Workers matters; registered only there, not skipped elsewhere.
  const workerdOnly = runtime === 'workerd' ? test : () => {};

  beforeEach(() => server.mock.resetStats());

  workerdOnly('runs without Node globals', async () => {
    expect(await scenario('globals')).toEqual({ Buffer: 'undefined', process: 'undefined' });
  });

  test('adds a bearer token to API requests and keeps it for the isolate', async () => {
    const first = await scenario('user');
    const second = await scenario('user');
    expect(first).toMatchObject({ status: 200, body: { id: account.serviceAccountId } });
    expect(second).toMatchObject({ status: 200, body: { id: account.serviceAccountId } });
    expect(server.mock.stats).toMatchObject({ tokenRequests: 1, apiRequests: 2, apiRejections: 0 });
  });

  test('gets a token for the subject a request names', async () => {
    const result = await scenario('user', { subject: user.userId });
    expect(result).toMatchObject({ status: 200, body: { id: user.userId } });
    expect(server.mock.stats.tokenRequestsBySubject).toEqual({ [user.userId]: 1 });
  });

  test('concurrent requests share one token request', async () => {
    const results = await scenario<{ status: number }[]>('concurrent');
    expect(results.map((result) => result.status)).toEqual(Array(10).fill(200));
    expect(server.mock.stats.tokenRequests).toBe(1);
  });

  test('sends no token to other origins and requests none', async () => {
    const run = newRun();
    const result = await scenario('foreign', { run });
    expect(result.status).toBe(200);
    expect(echo.requests(run)).toEqual([
      expect.objectContaining({ path: '/echo', authorization: undefined }),
    ]);
    expect(server.mock.stats.tokenRequests).toBe(0);
  });

  test('drops the token when a redirect leaves the allowed origin', async () => {
    const run = newRun();
    const result = await scenario('redirect', { run });
    expect(echo.requests(run)).toEqual([
      expect.objectContaining({
        path: '/redirect',
        authorization: expect.stringMatching(/^Bearer /),
      }),
    ]);
    expect(result).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(server.mock.stats).toMatchObject({ apiRequests: 1, apiRejections: 1 });
  });

  test("keeps the caller's Authorization header and does not retry its 401", async () => {
    const result = await scenario('own-header');
    expect(result.status).toBe(401);
    expect(server.mock.stats).toMatchObject({ tokenRequests: 0, apiRequests: 1, apiRejections: 1 });
  });

  test('sends a request marked skip without a token', async () => {
    const result = await scenario('skip');
    expect(result).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(server.mock.stats).toMatchObject({ tokenRequests: 0, apiRequests: 1 });
  });

  test('on 401 invalidates the token, gets a new one and retries', async () => {
    const result = await scenario('revoked');
    expect(result).toMatchObject({ status: 200, body: { id: account.serviceAccountId } });
    expect(server.mock.stats).toMatchObject({ tokenRequests: 1, apiRequests: 2, apiRejections: 1 });
  });

  test('retries a 401 once and never loops', async () => {
    const run = newRun();
    const result = await scenario('always-401', { run });
    expect(result.status).toBe(401);
    const seen = echo.requests(run);
    expect(seen).toHaveLength(2);
    expect(seen.map((request) => request.body)).toEqual(['payload', 'payload']);
    expect(seen[0]?.authorization).toMatch(/^Bearer .+/);
    expect(seen[1]?.authorization).toMatch(/^Bearer .+/);
    expect(seen[1]?.authorization).not.toBe(seen[0]?.authorization);
    expect(server.mock.stats.tokenRequests).toBe(2);
  });

  test('replays a request body on the retry', async () => {
    const run = newRun();
    const result = await scenario('401-once-body', { run });
    expect(result).toMatchObject({ status: 200, body: { body: '{"replayed":true}' } });
    expect(echo.requests(run).map((request) => request.body)).toEqual([
      '{"replayed":true}',
      '{"replayed":true}',
    ]);
  });

  test('replays a Request object on the retry', async () => {
    const run = newRun();
    const result = await scenario('401-once-request', { run });
    expect(result).toMatchObject({ status: 200, body: { method: 'PUT' } });
    expect(echo.requests(run).map((request) => request.body)).toEqual([
      'from a Request object',
      'from a Request object',
    ]);
  });

  test('sends a streaming body once and returns its 401', async () => {
    const run = newRun();
    const result = await scenario('stream', { run });
    expect(result.status).toBe(401);
    expect(echo.requests(run)).toEqual([expect.objectContaining({ body: 'streamed' })]);
    expect(server.mock.stats.tokenRequests).toBe(1);
  });

  workerdOnly(
    'deleting the first key in the middle of a run of concurrent callers fails no call, at most one extra token request per subject',
    async () => {
      const [first, second] = rotationKeys as [MockServiceAccount, MockServiceAccount];
      // Two-minute tokens: the rounds stay inside the ten minutes a refused key is passed over.
      server.mock.setTokenLifetime(120);
      const rounds = 4;
      let last: { outcomes: unknown[]; events: Record<string, unknown>[] } | undefined;
      try {
        for (let round = 0; round < rounds; round++) {
          const running = scenario<typeof last & {}>('rotation', { offset: String(clockOffset) });
          if (round === 1) {
            await vi.waitFor(() =>
              expect(server.mock.stats.tokenRequests).toBeGreaterThan(rotationSubjects.length),
            );
            server.mock.revokeKey(first.keyId);
          }
          last = await running;
          expect(last.outcomes).toEqual(Array(rotationSubjects.length * 8).fill(200));
          clockOffset += 120_000; // every token is stale: the next round mints again
        }
      } finally {
        clockOffset = 0;
        server.mock.setTokenLifetime(3600);
      }
      const bySubject = server.mock.stats.tokenRequestsBySubject;
      for (const subject of rotationSubjects) {
        expect(bySubject[subject]).toBeGreaterThanOrEqual(rounds);
        expect(bySubject[subject]).toBeLessThanOrEqual(rounds + 1);
      }
      expect(last?.events).toEqual([
        expect.objectContaining({
          type: 'key_rejected',
          keyId: first.keyId,
          acceptedKeyId: second.keyId,
          error: expect.objectContaining({ code: 'ERR_TOKEN_ENDPOINT', error: 'invalid_grant' }),
        }),
      ]);
      expectNoLeaks(
        last?.events,
        {
          first: first.keyFile.privateKey,
          second: second.keyFile.privateKey,
          clientSecret: client.clientSecret,
        },
        'key_rejected events',
      );
    },
  );

  for (const encrypt of [false, true]) {
    workerdOnly(
      `shares tokens between clients through Workers KV${encrypt ? ', encrypted' : ''}`,
      async () => {
        const run = newRun();
        const result = await scenario<{
          sameToken: boolean;
          cacheErrors: number;
          keys: { name: string }[];
          storedInClear: boolean;
        }>('kv-share', { run, encrypt: encrypt ? '1' : '0' });
        expect(result.sameToken).toBe(true);
        expect(result.cacheErrors).toBe(0);
        expect(result.storedInClear).toBe(!encrypt);
        expect(server.mock.stats.tokenRequests).toBe(1);
        const names = result.keys
          .map((key) => key.name)
          .filter((name) => name.startsWith(`${run}:`));
        expect(names).toHaveLength(1);
        expect(names[0]).toMatch(new RegExp(`^${run}:[0-9a-f]{64}$`));
        for (const secretish of [client.clientId, account.serviceAccountId, user.userId]) {
          expect(names[0]).not.toContain(secretish);
        }
      },
    );
  }
  workerdOnly(
    'KV store: skips short-lived tokens, treats garbage and expired entries as misses',
    async () => {
      const result = await scenario<Record<string, unknown>>('kv-entries', { run: newRun() });
      expect(result).toMatchObject({
        kvRejectsShortTtl: true,
        shortStored: false,
        longStored: true,
      });
      expect(result.keyName).toMatch(/:[0-9a-f]{64}$/);
      expect(JSON.parse(result.storedValue as string)).toMatchObject({
        accessToken: 'token-value',
        subject: 'subject',
      });
      for (const miss of ['garbage', 'expired', 'wrongShape', 'deleted']) {
        expect(result, miss).not.toHaveProperty(miss);
      }
    },
  );

  // Real time in workerd (its clock cannot be shared with the mock): 8 s tokens, the token
  // endpoint down for 40 % of that (3.2 s) from the moment the refresh starts, at the worst
  // moment (the Worker has Math.random() near 1: the refresh at its latest, 50 % of the life,
  // every backoff its longest), with a 0.1 s margin: the refresh gets through with about 0.45 s
  // to spare (0.075 × 8 s − 0.1 s, less a call's 20 ms pace).
  workerdOnly(
    'a token endpoint outage of 40 % of the token lifetime, from a refresh at its latest, fails no call',
    async () => {
      server.mock.setTokenLifetime(8);
      try {
        server.mock.injectFault({ delayMs: 0 }); // the first token request passes…
        server.mock.injectFault({ status: 503, durationMs: 3200 }); // …the refresh meets the outage
        const run = newRun();
        const result = await scenario<{
          calls: number;
          failures: unknown[];
          firstExpiresAt: number;
          issuedAt: number;
          refreshStartedAt: number;
          refreshedAt: number;
        }>('outage', { run });
        expect(result.failures).toEqual([]);
        // The outage began at about 50 % of the life: not before it (the spread's latest point,
        // where random() near 1 puts the refresh), and within the first calls after it.
        const lifetime = result.firstExpiresAt - result.issuedAt;
        expect(lifetime).toBe(8000);
        const began = (result.refreshStartedAt - result.issuedAt) / lifetime;
        expect(began).toBeGreaterThanOrEqual(0.499);
        expect(began).toBeLessThan(0.525);
        // The refresh got through after the whole outage, before the token went stale.
        expect(result.refreshedAt - result.refreshStartedAt).toBeGreaterThanOrEqual(3200);
        expect(result.refreshedAt).toBeLessThan(result.firstExpiresAt - 100);
        const seen = echo.requests(run);
        expect(seen).toHaveLength(result.calls);
        expect(seen.every((r) => r.authorization?.startsWith('Bearer '))).toBe(true);
        // The old token until the refresh got through, the new one after.
        expect(new Set(seen.map((r) => r.authorization)).size).toBe(2);
        const { tokenRequests, tokensIssued } = server.mock.stats;
        expect(tokensIssued).toBe(2);
        // The outage refused several, each after the longest backoff: 8, 16, 32, 64 and 128 ms,
        // then 200 ms (1/40 of the life), leave room for at most 20 attempts in 3.2 s (random
        // backoffs, half as long on average, make near 30).
        const refused = tokenRequests - tokensIssued;
        expect(refused).toBeGreaterThan(3);
        expect(refused).toBeLessThanOrEqual(20);
      } finally {
        server.mock.clearFaults();
        server.mock.setTokenLifetime(3600);
      }
    },
    30_000,
  );
});
