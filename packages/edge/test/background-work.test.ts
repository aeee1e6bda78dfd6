/**
 * Token work that outlives the Worker request that started it, in workerd without Node
 * compatibility: one request starts a background refresh, a shared token request or the
 * discovery, and answers before it is done; later requests of the same isolate need it.
 *
 * workerd drops such work when the response is done unless it was handed to `ctx.waitUntil`,
 * and a promise of an ended request never settles: waiting on it fails at once with "This
 * promise was created by a request that has since ended, so it can never settle" (workerd's
 * default, `handle_cross_request_promise_resolution`), or hangs (with
 * `no_handle_cross_request_promise_resolution`). Each test's Worker calls go through the isolate's
 * client (`getDrillsterAuth`), each test with a mock client of its own (fixtures/background-worker.ts).
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type MockClient,
  type MockProvision,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import type {
  BackgroundCall,
  BackgroundEnv,
  BackgroundOutcome,
  LoggedEvent,
} from './fixtures/background-worker.js';
import { bundleForEdge } from './runtimes/bundle.js';
import type { RuntimeServer } from './runtimes/process.js';
import { startWorkerd } from './runtimes/workerd.js';

/** workerd's answer to a wait on a promise of an ended request (its default behaviour). */
const NEVER_SETTLES = /created by a request that has since ended, so it can never settle/;

let dir: string;
let server: RunningMockDrillster;
let provision: MockProvision;
/** workerd with its defaults; and with `no_handle_cross_request_promise_resolution`. */
let worker: RuntimeServer;
let optedOut: RuntimeServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drillster-edge-background-'));
  server = await startMockDrillster();
  provision = await server.provision();
  const bundle = await bundleForEdge(
    fileURLToPath(new URL('./fixtures/background-worker.ts', import.meta.url)),
    join(dir, 'background-worker.js'),
  );
  const env: BackgroundEnv = {
    issuer: server.issuer,
    tokenEndpoint: server.tokenEndpoint,
    apiBaseUrl: server.apiBaseUrl,
    keyFile: provision.account.keyFileJson,
  };
  // The config is written beside its bundle, named after it: the second workerd gets a copy.
  const optedOutBundle = join(dir, 'background-worker-opted-out.js');
  await copyFile(bundle, optedOutBundle);
  const started = await Promise.allSettled([
    startWorkerd({ bundle, env }).then((host) => (worker = host)),
    startWorkerd({
      bundle: optedOutBundle,
      env,
      compatibilityFlags: ['no_handle_cross_request_promise_resolution'],
    }).then((host) => (optedOut = host)),
  ]);
  for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
});

afterAll(async () => {
  await Promise.all([worker?.close(), optedOut?.close()]);
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  server.mock.clearFaults();
  server.mock.setTokenLifetime(3600);
});

/** One call in a request of its own to `host`. */
async function call(
  host: RuntimeServer,
  client: MockClient,
  options: Omit<BackgroundCall, 'clientId' | 'clientSecret'> = {},
): Promise<BackgroundOutcome> {
  const response = await fetch(`${host.url}/call`, {
    method: 'POST',
    body: JSON.stringify({ ...client, ...options }),
  });
  if (response.status !== 200) {
    throw new Error(`HTTP ${response.status}: ${await response.text()}\n${host.stderr()}`);
  }
  return (await response.json()) as BackgroundOutcome;
}

async function events(host: RuntimeServer, client: MockClient): Promise<LoggedEvent[]> {
  const response = await fetch(`${host.url}/events`, {
    method: 'POST',
    body: JSON.stringify(client),
  });
  return (await response.json()) as LoggedEvent[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(ms, 0)));

/** A mock client of its own, so the test has an isolate-wide client of its own. */
function newClient(): MockClient {
  return server.mock.registerClient();
}

/**
 * Tokens issued to background refreshes (`true`) or to callers: a token_issued is counted by the
 * token_requested before it, which says which.
 */
function issued(logged: LoggedEvent[], background: boolean): number {
  let count = 0;
  let requested: LoggedEvent | undefined;
  for (const event of logged) {
    if (event.type === 'token_requested') requested = event;
    if (event.type === 'token_issued' && requested?.background === background) count += 1;
  }
  return count;
}

describe('a background refresh that the request that started it answers before', () => {
  for (const bare of [false, true]) {
    test(`without waitUntil is dropped with that request; once the token is stale the next caller${bare ? ' (without options)' : ''} gets a new one, not workerd's error`, async () => {
      server.mock.setTokenLifetime(2);
      const client = newClient();
      const first = await call(worker, client);
      expect(first).toMatchObject({ outcome: 'token' });
      // The refresh's token request, if it gets out at all, is in flight when A's response is done.
      server.mock.injectFault({ delayMs: 1000 });
      const a = await call(worker, client);
      expect(a).toMatchObject({ outcome: 'token', issuedAt: first.issuedAt });
      await sleep(first.expiresAt! + 50 - Date.now());

      const b = await call(worker, client, { bare });
      expect(b.error?.message ?? '').not.toMatch(NEVER_SETTLES);
      expect(b).toMatchObject({ outcome: 'token' });
      expect(b.expiresAt).toBeGreaterThan(first.expiresAt!);
      // The refresh never landed (nor failed): workerd dropped it with request A.
      const logged = await events(worker, client);
      expect(logged).toContainEqual({ type: 'token_requested', background: true });
      expect(issued(logged, true)).toBe(0);
      expect(logged.filter((event) => event.type === 'token_failed')).toEqual([]);
    }, 30_000);
  }

  test('with the request’s ctx lands after the response, and later requests are served its token', async () => {
    server.mock.setTokenLifetime(60);
    const client = newClient();
    const first = await call(worker, client, { via: 'fetch', ctx: true });
    expect(first).toMatchObject({ outcome: 'token', status: 200 });
    const before = server.mock.stats.tokensIssued;
    server.mock.injectFault({ delayMs: 500 });

    const a = await call(worker, client, { via: 'fetch', ctx: true });
    expect(a).toMatchObject({ outcome: 'token', status: 200, issuedAt: first.issuedAt });
    // A's response did not wait for the refresh; ctx.waitUntil kept it going after.
    await vi.waitFor(() => expect(server.mock.stats.tokensIssued).toBe(before + 1), {
      timeout: 10_000,
    });
    await vi.waitFor(async () => {
      expect(issued(await events(worker, client), true)).toBe(1);
    });
    const later = await call(worker, client, { peek: true });
    expect(later.issuedAt).toBeGreaterThan(first.issuedAt!);
  }, 30_000);
});

describe('a token request whose starter stopped waiting (its signal fired) before it was done', () => {
  test('without waitUntil: a caller that joined it gets a token of its own, not workerd’s error', async () => {
    const client = newClient();
    server.mock.injectFault({ delayMs: 1500 });
    const a = call(worker, client, { abortMs: 300 });
    await sleep(100);
    const b = await call(worker, client);
    expect(await a).toMatchObject({ outcome: 'error', error: { code: 'ERR_ABORTED' } });
    expect(b.error?.message ?? '').not.toMatch(NEVER_SETTLES);
    expect(b).toMatchObject({ outcome: 'token' });
    // The next caller is served from memory.
    const c = await call(worker, client);
    expect(c).toMatchObject({ outcome: 'token', expiresAt: b.expiresAt });
  }, 30_000);

  test('with waitUntil: the request goes on, and the caller that joined it gets its token', async () => {
    const client = newClient();
    const before = server.mock.stats.tokenRequests;
    server.mock.injectFault({ delayMs: 1500 });
    const a = call(worker, client, { abortMs: 300, ctx: true });
    await sleep(100);
    const b = await call(worker, client);
    expect(await a).toMatchObject({ outcome: 'error', error: { code: 'ERR_ABORTED' } });
    expect(b).toMatchObject({ outcome: 'token' });
    expect(server.mock.stats.tokenRequests - before).toBe(1);
    expect(issued(await events(worker, client), false)).toBe(1);
  }, 30_000);
});

test('a discovery whose starter stopped waiting is started again by the next caller', async () => {
  const client = newClient();
  const before = server.mock.stats.metadataRequests;
  server.mock.injectFault({ endpoint: 'metadata', delayMs: 1500 });
  const a = await call(worker, client, { discover: true, abortMs: 300 });
  expect(a).toMatchObject({ outcome: 'error', error: { code: 'ERR_ABORTED' } });
  await sleep(1500);
  const b = await call(worker, client, { discover: true });
  expect(b.error?.message ?? '').not.toMatch(NEVER_SETTLES);
  expect(b).toMatchObject({ outcome: 'token' });
  expect(server.mock.stats.metadataRequests - before).toBe(2);
}, 30_000);

// With the flag, workerd neither settles nor fails a wait on an ended request's promise: only
// time tells. The client's abandonAfter with retry off, timeout 1000 ms and the token endpoint
// given: 2 attempts (the mint's one, the clock-skew retry) and one for the shared cache, 3 s.
test('with no_handle_cross_request_promise_resolution, a caller that joins a dropped refresh waits no longer than the client’s abandonAfter, then gets a token', async () => {
  server.mock.setTokenLifetime(2);
  const client = newClient();
  const first = await call(optedOut, client, { timeout: 1000 });
  expect(first).toMatchObject({ outcome: 'token' });
  server.mock.injectFault({ delayMs: 500 });
  const refreshFrom = Date.now();
  await call(optedOut, client, { timeout: 1000 });
  await sleep(first.expiresAt! + 50 - Date.now());

  const b = await call(optedOut, client, { timeout: 1000, raceMs: 10_000 });
  expect(b).toMatchObject({ outcome: 'token' });
  expect(b.expiresAt).toBeGreaterThan(first.expiresAt!);
  // It waited for the dropped refresh until 3 s after it started, then got its own token.
  expect(Date.now() - refreshFrom).toBeGreaterThanOrEqual(3000);
  expect(b.ms).toBeLessThan(3000 + 1500);
  expect(issued(await events(optedOut, client), true)).toBe(0);
}, 30_000);
