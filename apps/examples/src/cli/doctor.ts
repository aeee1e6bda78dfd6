/**
 * The CLI's doctor, as an operator runs it: `drillster-auth doctor --json` with the same
 * environment variables as `drillster-auth token`, checking key file, issuer metadata, clock,
 * credentials and API in order.
 *
 *   pnpm --filter @drillster-auth/examples exec tsx src/cli/doctor.ts
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  type ExampleEnvironment,
  type ExampleReport,
  exampleEnvironment,
} from '../shared/environment.js';
import { runDirectly } from '../shared/run-directly.js';

/** What `doctor --json` prints (the fields used here). */
interface DoctorReport {
  ok: boolean;
  exitCode: number;
  checks: Array<{ check: string; title: string; status: 'ok' | 'failed' | 'skipped' }>;
}

/** The installed CLI's executable, as `npx drillster-auth` would find it. */
function cliBin(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('@drillster-auth/cli/package.json');
  const { bin } = require('@drillster-auth/cli/package.json') as { bin: Record<string, string> };
  return join(dirname(manifest), bin['drillster-auth']!);
}

export async function doctorExample(environment: ExampleEnvironment): Promise<ExampleReport> {
  const { key, clientId, clientSecret, issuer, tokenEndpoint } = environment.auth;
  // The variables `drillster-auth token` reads; the key file's JSON text is accepted as well as a path.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DRILLSTER_KEY_FILE: typeof key === 'string' ? key : JSON.stringify(key),
    DRILLSTER_CLIENT_ID: clientId,
    DRILLSTER_CLIENT_SECRET: clientSecret,
    ...(issuer ? { DRILLSTER_ISSUER: issuer } : {}),
    ...(tokenEndpoint ? { DRILLSTER_TOKEN_ENDPOINT: tokenEndpoint } : {}),
  };
  const args = [cliBin(), 'doctor', '--json'];
  if (environment.managedUserId) args.push('--subject', environment.managedUserId);
  const stdout = await new Promise<string>((resolve, reject) => {
    // A failed check exits non-zero, but the report on stdout is still the answer.
    execFile(process.execPath, args, { env, timeout: 60_000 }, (error, out) => {
      if (out) resolve(out);
      else reject(error ?? new Error('drillster-auth doctor printed nothing'));
    });
  });
  const report = JSON.parse(stdout) as DoctorReport;
  const status = (check: string) => report.checks.find((c) => c.check === check)?.status;
  const mark = { ok: '✓', failed: '✗', skipped: '-' } as const;
  return {
    example: 'cli doctor',
    subject: 'service account',
    tokenObtained: status('token') === 'ok',
    apiStatus: status('api') === 'ok' ? 200 : 0,
    detail: `${report.checks.map((c) => `${mark[c.status]} ${c.title}`).join('  ')}  (exit ${report.exitCode})`,
  };
}

runDirectly(import.meta.url, async () => {
  const environment = await exampleEnvironment();
  try {
    console.log(await doctorExample(environment));
  } finally {
    await environment.close();
  }
});
