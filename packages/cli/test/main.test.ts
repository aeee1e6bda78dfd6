import { describe, expect, it } from 'vitest';
import { EXIT_CODES, main } from '../src/index.js';

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
