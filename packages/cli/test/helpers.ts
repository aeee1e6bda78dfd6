import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectNoLeaks } from '@drillster-auth/testing/node';
import { expect } from 'vitest';

/** The built executable; tests run what users run. */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node dist/bin.js ...args` with only `env` (plus PATH) in its environment, so the
 * developer's own DRILLSTER_* variables cannot change the outcome.
 */
export function run(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number' && error.signal == null) {
          reject(error);
          return;
        }
        resolve({
          code: error ? (error.code as number | null) : 0,
          signal: error?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** A temporary directory, removed by the returned cleanup. */
export async function tempDir(): Promise<{
  path: string;
  file(name: string, text: string): Promise<string>;
  remove(): Promise<void>;
}> {
  const path = await mkdtemp(join(tmpdir(), 'drillster-auth-cli-test-'));
  return {
    path,
    async file(name, text) {
      const file = join(path, name);
      await writeFile(file, text, { mode: 0o600 });
      return file;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** A key file holding the deliberately corrupt example key from Drillster's service account documentation. */
export const CORRUPT_KEY_FILE = fileURLToPath(
  new URL('./fixtures/documented-corrupt-key.json', import.meta.url),
);

/** Base64 lines of a PEM, i.e. the key material that must never be printed. */
export function pemBodyLines(pem: string): string[] {
  return pem
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('-----'))
    .filter((line) => line.length >= 16);
}

/** What a {@link startServer} handler answers. */
export interface CannedResponse {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/**
 * A server of our own on loopback, for answers the mock Drillster does not give (a hostile
 * echo of the request, a 503 from the metadata). The handler gets the request and its body.
 */
export async function startServer(
  handler: (request: import('node:http').IncomingMessage, body: string) => Promise<CannedResponse>,
): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    const answer = await handler(request, body);
    response.writeHead(answer.status, {
      'content-type': 'application/json',
      ...answer.headers,
    });
    response.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on: bound once by us, then closed. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Checks the failure contract: the exit code, an empty stdout, exactly one stderr line in the
 * `drillster-auth: <message> (<code>)` shape, and none of `secrets` anywhere in stderr, in any
 * encoding (the leak scan). Returns that line.
 */
export function expectFailure(
  result: RunResult,
  exitCode: number,
  code: string,
  secrets: readonly (string | undefined)[],
): string {
  expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: exitCode });
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(new RegExp(`^drillster-auth: [^\\n]+ \\(${code}\\)\\n$`));
  const named = Object.fromEntries(secrets.map((secret, index) => [`secret #${index}`, secret]));
  expectNoLeaks(result.stderr, named, 'stderr');
  return result.stderr.trimEnd();
}

/** The first stderr line, when it is the warning that `flag` shows in `ps`; `result` without it. */
export function withoutPsWarning(result: RunResult, flag: string): RunResult {
  const [first, ...rest] = result.stderr.split('\n');
  expect(first).toMatch(new RegExp(`^drillster-auth: warning: ${flag} .*\`ps\``));
  return { ...result, stderr: rest.join('\n') };
}
