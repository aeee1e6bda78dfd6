/**
 * The CLI as a user installs it: `npm i -g` into a temp prefix, by name (its dependencies on our
 * other packages resolved by name too, from a loopback registry holding only our tarballs), then
 * `drillster-auth token` against the CLI's own `drillster-auth mock-server`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expectNoLeaks } from '@drillster-auth/testing/node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { npmFlags, packAll, run, runDir, runOk } from './support/index.js';
import { startTarballRegistry } from './support/registry.js';

interface MockServerInfo {
  issuer: string;
  apiBaseUrl: string;
  keyFile: string;
  clientId: string;
  clientSecret: string;
  managedUserId: string;
}

let bin: string;
let mockServer: ChildProcess;
let info: MockServerInfo;

beforeAll(async () => {
  const registry = await startTarballRegistry(await packAll());
  const prefix = join(runDir(), 'global');
  await mkdir(prefix, { recursive: true });
  try {
    await runOk(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '@drillster-auth/cli',
        registry.scopeFlag,
        ...npmFlags(),
      ],
      { cwd: prefix, timeout: 240_000 },
    );
  } finally {
    await registry.close();
  }
  bin = join(prefix, 'bin/drillster-auth');

  mockServer = spawn(bin, ['mock-server', '--json', '--port', '0'], {
    cwd: prefix,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<never>((_, reject) => {
    mockServer.once('exit', (code) =>
      reject(new Error(`mock-server exited with ${code} before it was ready`)),
    );
  });
  const firstLine = new Promise<string>((resolve) => {
    createInterface({ input: mockServer.stdout! }).once('line', resolve);
  });
  info = JSON.parse(await Promise.race([firstLine, exited])) as MockServerInfo;
});

afterAll(async () => {
  if (mockServer?.exitCode === null) {
    const exited = new Promise((resolve) => mockServer.once('exit', resolve));
    mockServer.kill('SIGTERM');
    await exited;
  }
});

function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DRILLSTER_KEY_FILE: info.keyFile,
    DRILLSTER_CLIENT_ID: info.clientId,
    DRILLSTER_CLIENT_SECRET: info.clientSecret,
    DRILLSTER_ISSUER: info.issuer,
    ...overrides,
  };
}

test('the globally installed drillster-auth gets a token from its own mock-server', async () => {
  const result = await run(bin, ['token', '--format', 'json', '--subject', info.managedUserId], {
    cwd: runDir(),
    env: env(),
  });
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const printed = JSON.parse(result.stdout) as { access_token: string; subject: string };
  expect(printed.subject).toBe(info.managedUserId);
  const user = await fetch(`${info.apiBaseUrl}user`, {
    headers: { authorization: `Bearer ${printed.access_token}` },
  });
  expect(user.status).toBe(200);
  expect(((await user.json()) as { id: string }).id).toBe(info.managedUserId);
});

test('a refused secret exits 3 and shows neither secret', async () => {
  const wrong = `${info.clientSecret.slice(0, -4)}-x+/`;
  const result = await run(bin, ['token'], {
    cwd: runDir(),
    env: env({ DRILLSTER_CLIENT_SECRET: wrong }),
  });
  expect(result.code).toBe(3);
  expect(result.stdout).toBe('');
  expectNoLeaks(result, { wrong, clientSecret: info.clientSecret });
});

test('mock-server stops on SIGTERM and removes its key file', async () => {
  expect(existsSync(info.keyFile)).toBe(true);
  const exited = new Promise<number | null>((resolve) => mockServer.once('exit', resolve));
  mockServer.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(existsSync(info.keyFile)).toBe(false);
});
