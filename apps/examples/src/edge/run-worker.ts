/**
 * Runs the Worker of `worker.ts` in Cloudflare's own runtime (workerd, from npm) with Node
 * compatibility off, and calls it once.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { ExampleEnvironment, ExampleReport } from '../shared/environment.js';

const require = createRequire(import.meta.url);

export async function workerExample(environment: ExampleEnvironment): Promise<ExampleReport> {
  const dir = await mkdtemp(join(tmpdir(), 'drillster-worker-'));
  try {
    await build({
      entryPoints: [fileURLToPath(new URL('./worker.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      conditions: ['workerd', 'worker', 'browser'],
      mainFields: ['browser', 'module', 'main'],
      minify: true,
      outfile: join(dir, 'worker.js'),
      logLevel: 'error',
    });
    const key = environment.auth.key;
    const bindings: Record<string, string> = {
      DRILLSTER_KEY_FILE: typeof key === 'string' ? key : JSON.stringify(key),
      DRILLSTER_CLIENT_ID: environment.auth.clientId,
      DRILLSTER_CLIENT_SECRET: environment.auth.clientSecret,
      DRILLSTER_API_BASE_URL: environment.apiBaseUrl,
      ...(environment.auth.issuer ? { DRILLSTER_ISSUER: environment.auth.issuer } : {}),
    };
    await writeFile(join(dir, 'config.capnp'), capnpConfig(bindings), { mode: 0o600 });
    const { port, stop } = await startWorkerd(dir);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      const body = (await response.json()) as {
        subject: string;
        apiStatus: number;
        user: string | null;
        nodeCompat: boolean;
      };
      return {
        example: 'edge-worker',
        subject: body.subject,
        tokenObtained: body.apiStatus === 200 && !body.nodeCompat,
        apiStatus: body.apiStatus,
        detail: `Worker GET /user → ${body.user ?? 'unknown'}; Node compatibility ${body.nodeCompat ? 'ON (unexpected)' : 'off'}`,
      };
    } finally {
      await stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** workerd config: one Worker, Node compatibility off, outbound network allowed to loopback. */
function capnpConfig(bindings: Record<string, string>): string {
  const text = Object.entries(bindings)
    .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
    .join(',\n      ');
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback-net", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-08-01",
  compatibilityFlags = ["no_nodejs_compat", "no_nodejs_compat_v2"],
  globalOutbound = "loopback-net",
  bindings = [
      ${text}
  ],
);
`;
}

/** Starts workerd and learns its port through --control-fd, so there is no port race. */
async function startWorkerd(dir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const bin = join(require.resolve('workerd/package.json'), '..', 'bin', 'workerd');
  const child = spawn(bin, ['serve', join(dir, 'config.capnp'), '--control-fd=3'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    const control = child.stdio[3] as Readable;
    control.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n')) {
        if (!line.trim()) continue;
        try {
          const message = JSON.parse(line) as { event?: string; socket?: string; port?: number };
          if (message.event === 'listen' && message.socket === 'http' && message.port)
            resolve(message.port);
        } catch {
          // A partial line; the rest comes with the next chunk.
        }
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`workerd exited with ${code}: ${stderr.trim()}`)),
    );
    setTimeout(() => reject(new Error(`workerd did not start: ${stderr.trim()}`)), 15_000).unref();
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { port, stop };
}
