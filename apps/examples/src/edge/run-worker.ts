/**
 * Runs the Worker of `worker.ts` in Cloudflare's own runtime (workerd, from npm) with Node
 * compatibility off, and calls it once.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWorkerd } from '@drillster-auth/testing/node';
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
    const worker = await startWorkerd({
      binary: join(require.resolve('workerd/package.json'), '..', 'bin', 'workerd'),
      config: join(dir, 'config.capnp'),
    });
    try {
      const response = await fetch(`${worker.url}/`);
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
      await worker.close();
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
