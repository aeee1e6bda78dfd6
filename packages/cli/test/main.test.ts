import {
  DiscoveryError,
  DrillsterAuthError,
  NetworkError,
  ResponseTooLargeError,
} from '@drillster-auth/core';
import { describe, expect, it } from 'vitest';
import { CliError, EXIT_CODES, exitCodeFor, main } from '../src/index.js';

/** `main` as a library: output goes to the sinks given, the exit code comes back. */
function sinks() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: { write: (chunk: string) => (out.stdout += chunk) },
      stderr: { write: (chunk: string) => (out.stderr += chunk) },
      env: {},
    },
  };
}

describe('main()', () => {
  it('writes to the given sinks and returns the exit code', async () => {
    const ok = sinks();
    expect(await main(['--version'], ok.io)).toBe(EXIT_CODES.ok);
    expect(ok.out).toEqual({ stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/), stderr: '' });

    const missing = sinks();
    expect(await main(['token'], missing.io)).toBe(EXIT_CODES.usage);
    expect(missing.out.stdout).toBe('');
    expect(missing.out.stderr).toMatch(/\(ERR_MISSING_CONFIG\)\n$/);
  });

  it('stops mock-server when the given signal aborts', async () => {
    const { io, out } = sinks();
    const controller = new AbortController();
    const running = main(['mock-server', '--json'], { ...io, signal: controller.signal });
    await expect.poll(() => out.stdout, { timeout: 10_000 }).toMatch(/\n$/);
    const info = JSON.parse(out.stdout) as { issuer: string };
    const metadata = await fetch(`${info.issuer}/.well-known/oauth-authorization-server`);
    expect(metadata.status).toBe(200);
    await metadata.arrayBuffer();
    controller.abort();
    expect(await running).toBe(0);
    await expect(fetch(`${info.issuer}/.well-known/oauth-authorization-server`)).rejects.toThrow();
  });
});

describe('exitCodeFor()', () => {
  it('maps each error by its cause', () => {
    const cases: [unknown, number][] = [
      [new CliError('ERR_LISTEN', 'port taken'), 2],
      [new DiscoveryError('ERR_DISCOVERY', 'no metadata'), 2],
      [new DiscoveryError('ERR_ISSUER_MISMATCH', 'another issuer'), 2],
      // A transient status on discovery means "try later", not "fix your issuer".
      [new DiscoveryError('ERR_DISCOVERY', 'HTTP 503', { status: 503 }), 4],
      [new DiscoveryError('ERR_DISCOVERY', 'HTTP 429', { status: 429 }), 4],
      [new DiscoveryError('ERR_DISCOVERY', 'HTTP 410', { status: 410 }), 2],
      [new NetworkError('ERR_NETWORK', 'reset'), 4],
      [new NetworkError('ERR_TIMEOUT', 'slow'), 4],
      [new ResponseTooLargeError('huge', { status: 200, limit: 65_536 }), 5],
      // An oversized error body is still an oversized body, whatever its status.
      [new ResponseTooLargeError('huge', { status: 503, limit: 8_192 }), 5],
      [new DrillsterAuthError('ERR_INVALID_TOKEN_RESPONSE', 'bad'), 5],
      [new DrillsterAuthError('ERR_ABORTED', 'aborted'), 1],
      [new DrillsterAuthError('ERR_SOMETHING_NEW' as never, 'new'), 1],
      [new Error('bug'), 1],
      ['not even an error', 1],
    ];
    for (const [error, code] of cases) {
      expect({ error: String(error), code: exitCodeFor(error) }).toEqual({
        error: String(error),
        code,
      });
    }
    expect(Object.values(EXIT_CODES)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
