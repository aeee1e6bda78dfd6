/**
 * The shared fault matrix (issue 7) through `createDrillsterFetch` in workerd, without Node
 * compatibility: one Worker run loops over the table (fixtures/fault-matrix-worker.ts) while a
 * control server here arms the mock for each case and notes what the mock saw.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  expectNoLeaks,
  FAULT_MATRIX_CLIENT_OPTIONS,
  faultMatrix,
  type MockProvision,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { MatrixInput, MatrixResult } from './fixtures/fault-matrix-worker.js';
import { bundleForEdge } from './runtimes/bundle.js';
import type { RuntimeServer } from './runtimes/process.js';
import { startWorkerd } from './runtimes/workerd.js';

let dir: string;
let server: RunningMockDrillster;
let provision: MockProvision;
let control: Server;
let worker: RuntimeServer | undefined;
/** What the mock saw for each case, noted when the Worker moves on to the next. */
const seen: { tokenRequests: number; metadataRequests: number }[] = [];
let run: { results: MatrixResult[]; unhandled: string[] };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drillster-edge-matrix-'));
  server = await startMockDrillster();
  provision = await server.provision();
  // Characters that every encoding spells differently, so each echo case has something to find.
  const hostile = server.mock.registerClient({
    clientSecret: `s3cr+t/${crypto.randomUUID()}=&"\\ü`,
  });
  provision = { ...provision, client: hostile };

  let current: number | undefined;
  const note = () => {
    if (current === undefined) return;
    const { tokenRequests, metadataRequests } = server.mock.stats;
    seen[current] = { tokenRequests, metadataRequests };
  };
  control = createServer((request, response) => {
    note();
    server.mock.clearFaults();
    server.mock.resetStats();
    const match = /^\/case\/(\d+)$/.exec(request.url ?? '');
    current = match ? Number(match[1]) : undefined;
    if (current !== undefined) {
      for (const fault of faultMatrix[current]!.faults()) server.mock.injectFault(fault);
    }
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const bundle = await bundleForEdge(
    fileURLToPath(new URL('./fixtures/fault-matrix-worker.ts', import.meta.url)),
    join(dir, 'fault-matrix-worker.js'),
  );
  worker = await startWorkerd({ bundle, env: {} });

  const input: MatrixInput = {
    issuer: server.issuer,
    apiBaseUrl: server.apiBaseUrl,
    keyFile: provision.account.keyFileJson,
    clientId: hostile.clientId,
    clientSecret: hostile.clientSecret,
    controlUrl: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
    cases: faultMatrix.length,
    clientOptions: FAULT_MATRIX_CLIENT_OPTIONS,
  };
  const response = await fetch(worker.url, { method: 'POST', body: JSON.stringify(input) });
  if (response.status !== 200) {
    throw new Error(`the Worker failed: ${await response.text()}\n${worker.stderr()}`);
  }
  run = (await response.json()) as typeof run;
}, 180_000);

afterAll(async () => {
  await worker?.close();
  await new Promise((resolve) => control?.close(resolve));
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the fault matrix through createDrillsterFetch in workerd', () => {
  test('had no unhandled rejection', () => {
    expect(run.unhandled).toEqual([]);
  });

  test.each(faultMatrix.map((fault, index) => [fault.name, index] as const))('%s', (_, index) => {
    const fault = faultMatrix[index]!;
    const result = run.results[index]!;
    const secrets: Record<string, string> = {
      clientSecret: provision.client.clientSecret,
      privateKey: provision.account.keyFile.privateKey,
    };
    result.assertions.forEach((assertion, i) => {
      secrets[`assertion ${i + 1}`] = assertion;
    });
    let tokenRequests = fault.tokenRequests;
    if (fault.expect.token) {
      expect(result.error).toBeUndefined();
      expect(result.status).toBe(200);
      expect(JSON.parse(result.body!)).toMatchObject({ id: provision.account.serviceAccountId });
      // A token the mock does not know (the clamped-lifetime case mints "abc") is refused by the
      // API; the 401 retry then costs one more token request and gets a real one.
      if (fault.expect.maxLifetime !== undefined) tokenRequests += 1;
    } else {
      expect(result.status).toBeUndefined();
      expect(result.error).toMatchObject({ code: fault.expect.code });
      if (fault.expect.status !== undefined) expect(result.error?.status).toBe(fault.expect.status);
      expectNoLeaks(result.error?.rendered, secrets, 'the error');
    }
    expect(seen[index]).toEqual({
      tokenRequests,
      metadataRequests: fault.metadataRequests ?? 1,
    });
    for (const event of result.events) expectNoLeaks(event, secrets, 'an event');
    expect(result.elapsedMs).toBeLessThan(10_000);
  });
});
