/** Runs the Deno script of `deno.ts` with Deno from npm against the example environment. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ExampleEnvironment, ExampleReport } from '../shared/environment.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export async function denoExample(environment: ExampleEnvironment): Promise<ExampleReport> {
  const dir = await mkdtemp(join(tmpdir(), 'drillster-deno-'));
  try {
    const keyFile = join(dir, 'service-account.json');
    const key = environment.auth.key;
    await writeFile(keyFile, typeof key === 'string' ? key : JSON.stringify(key), { mode: 0o600 });
    const script = fileURLToPath(new URL('./deno.ts', import.meta.url));
    const deno = join(dirname(require.resolve('deno/package.json')), 'deno');
    const { stdout } = await run(
      deno,
      ['run', '--quiet', '--no-prompt', '--allow-net', '--allow-env', '--allow-read', script],
      {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          DENO_NO_UPDATE_CHECK: '1',
          DRILLSTER_KEY_FILE: keyFile,
          DRILLSTER_CLIENT_ID: environment.auth.clientId,
          DRILLSTER_CLIENT_SECRET: environment.auth.clientSecret,
          DRILLSTER_API_BASE_URL: environment.apiBaseUrl,
          ...(environment.auth.issuer ? { DRILLSTER_ISSUER: environment.auth.issuer } : {}),
        },
      },
    );
    const body = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      subject: string;
      apiStatus: number;
      user: string | null;
    };
    return {
      example: 'edge-deno',
      subject: body.subject,
      tokenObtained: body.apiStatus === 200,
      apiStatus: body.apiStatus,
      detail: `Deno GET /user → ${body.user ?? 'unknown'}`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
