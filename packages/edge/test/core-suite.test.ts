/**
 * Runs the core's shared suite (packages/core/test/runtimes/suite.ts) in workerd, Deno and Bun,
 * each against one mock server. It lives here because this package has the runtimes installed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningMockDrillster, startMockDrillster } from '@drillster-auth/testing/node';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { runBun } from './runtimes/bun.js';
import { bundleForEdge } from './runtimes/bundle.js';
import { parseSuiteOutput, type SuiteResult } from './runtimes/core-suite.js';
import { runDeno } from './runtimes/deno.js';
import { startWorkerd } from './runtimes/workerd.js';

const runner = (name: string) =>
  fileURLToPath(new URL(`../../core/test/runtimes/${name}`, import.meta.url));

/** Token requests one run of the suite makes: service account, managed user, the concurrent 20, the invalid client. */
const SUITE_TOKEN_REQUESTS = 4;

let dir: string;
let server: RunningMockDrillster;
let env: Record<string, string>;
const bundles: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drillster-core-suite-'));
  server = await startMockDrillster();
  const { account, client, managedUser: user } = await server.provision();
  env = {
    issuer: server.issuer,
    tokenEndpoint: server.tokenEndpoint,
    keyFile: account.keyFileJson,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    managedUserId: user.userId,
    apiBaseUrl: server.apiBaseUrl,
  };
  for (const runtime of ['workerd', 'deno', 'bun']) {
    bundles[runtime] = await bundleForEdge(
      runner(`run-${runtime}.ts`),
      join(dir, `run-${runtime}.js`),
    );
  }
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const runners: Record<string, () => Promise<SuiteResult>> = {
  async workerd() {
    const host = await startWorkerd({ bundle: bundles.workerd!, env: {} });
    try {
      const response = await fetch(host.url, { method: 'POST', body: JSON.stringify(env) });
      return (await response.json()) as SuiteResult;
    } finally {
      await host.close();
    }
  },
  deno: async () => parseSuiteOutput(await runDeno(bundles.deno!, env)),
  bun: async () => parseSuiteOutput(await runBun(bundles.bun!, env)),
};

describe.each(Object.keys(runners))('core suite in %s', (runtime) => {
  beforeEach(() => server.mock.resetStats());

  test('passes every check', async () => {
    const result = await runners[runtime]!();
    console.log(
      `core suite in ${runtime}: ${result.passed} passed, ${result.failed.length} failed`,
    );
    expect(result.failed).toEqual([]);
    expect(result.runtime).toBe(runtime);
    expect(result.passed).toBeGreaterThanOrEqual(9);
    expect(result.tokenRequests).toBe(SUITE_TOKEN_REQUESTS);
    expect(server.mock.stats.tokenRequests).toBe(SUITE_TOKEN_REQUESTS);
    expect(server.mock.stats.rejections).toEqual({ invalid_client: 1 });
  });
});
