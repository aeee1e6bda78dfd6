import { type ChildProcess, spawn } from 'node:child_process';
import { access, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { MockServerInfo } from '../src/index.js';
import { BIN, run } from './helpers.js';

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

function start(args: string[]): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, [BIN, 'mock-server', ...args], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('mock-server', () => {
  it('--json prints settings that work with token, and SIGTERM cleans up', async () => {
    const { child, lines } = start(['--json', '--port', '0']);
    const first = await lines.next();
    const info = JSON.parse(String(first.value)) as MockServerInfo;
    expect(info.tokenEndpoint).toBe(`${info.issuer}/daas/oauth/token`);
    expect((await stat(info.keyFile)).mode & 0o777).toBe(0o600);

    const env = {
      DRILLSTER_ISSUER: info.issuer,
      DRILLSTER_KEY_FILE: info.keyFile,
      DRILLSTER_CLIENT_ID: info.clientId,
      DRILLSTER_CLIENT_SECRET: info.clientSecret,
    };
    for (const subject of [undefined, info.managedUserId]) {
      const result = await run(['token', ...(subject ? ['--subject', subject] : [])], env);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const response = await fetch(`${info.apiBaseUrl}user`, {
        headers: { authorization: `Bearer ${result.stdout.trim()}` },
      });
      await response.arrayBuffer();
      expect(response.status).toBe(200);
    }

    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    expect(await exists(info.keyFile)).toBe(false);
  });

  it('prints an export block by default and stops on SIGINT', async () => {
    const { child, lines } = start([]);
    const text: string[] = [];
    for (let line = await lines.next(); !line.done; line = await lines.next()) {
      text.push(line.value);
      if (line.value.startsWith('export DRILLSTER_CLIENT_SECRET=')) break;
    }
    const exports = Object.fromEntries(
      text
        .filter((line) => line.startsWith('export '))
        .map((line) => line.slice('export '.length).split('=', 2) as [string, string]),
    );
    expect(Object.keys(exports).sort()).toEqual([
      'DRILLSTER_CLIENT_ID',
      'DRILLSTER_CLIENT_SECRET',
      'DRILLSTER_ISSUER',
      'DRILLSTER_KEY_FILE',
    ]);
    const result = await run(['token'], exports);
    expect(result).toMatchObject({ code: 0, stderr: '' });

    child.kill('SIGINT');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    expect(await exists(exports.DRILLSTER_KEY_FILE!)).toBe(false);
  });

  it('exits 2 when the port is taken', async () => {
    const { createServer } = await import('node:net');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as { port: number };
      const result = await run(['mock-server', '--port', String(port)]);
      expect(result).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toBe(
        `drillster-auth: cannot listen on 127.0.0.1:${port}: EADDRINUSE (ERR_LISTEN)\n`,
      );
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('exits 2 for a bad port', async () => {
    const result = await run(['mock-server', '--port', 'http']);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(/--port .*\(ERR_USAGE\)\n$/);
  });
});
