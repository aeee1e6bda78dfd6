/**
 * The main job: starts the embedded mock Drillster server (or uses real Drillster when the
 * DRILLSTER_* variables are set), runs every example against it, and prints one line each.
 * Exits non-zero when any example fails.
 */
import 'reflect-metadata';
import { axiosExample } from './axios/existing-client.js';
import { doctorExample } from './cli/doctor.js';
import { coreExample } from './core/get-token.js';
import { rotationExample } from './core/rotation.js';
import { denoExample } from './edge/run-deno.js';
import { workerExample } from './edge/run-worker.js';
import { nestExample } from './nest/main.js';
import {
  type ExampleEnvironment,
  type ExampleReport,
  exampleEnvironment,
} from './shared/environment.js';

const examples: Array<[string, (environment: ExampleEnvironment) => Promise<ExampleReport>]> = [
  ['core', coreExample],
  ['axios', axiosExample],
  ['nest', nestExample],
  ['edge (Cloudflare Worker in workerd)', workerExample],
  ['edge (Deno)', denoExample],
  ['cli (drillster-auth doctor)', doctorExample],
  // Last: on the mock it deletes the key the other examples sign with.
  ['core (key rotation)', rotationExample],
];

const environment = await exampleEnvironment();
console.log(
  environment.target === 'mock'
    ? `drillster-auth demo against the embedded mock server (${new URL(environment.apiBaseUrl).origin})\n`
    : 'drillster-auth demo against Drillster\n',
);
let failures = 0;
try {
  for (const [name, run] of examples) {
    const started = performance.now();
    let line: string;
    try {
      const report = await run(environment);
      const ok = report.tokenObtained && report.apiStatus === 200;
      if (!ok) failures++;
      line = `${ok ? 'PASS' : 'FAIL'}  ${name.padEnd(36)} subject ${report.subject}  token ${report.tokenObtained ? 'obtained' : 'MISSING'}  API ${report.apiStatus}${report.detail ? `\n      ${report.detail}` : ''}`;
    } catch (error) {
      failures++;
      line = `FAIL  ${name.padEnd(36)} ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    }
    console.log(`${line}\n      (${Math.round(performance.now() - started)} ms)`);
  }
} finally {
  await environment.close();
}
console.log(`\n${examples.length - failures} passed, ${failures} failed`);
process.exitCode = failures === 0 ? 0 : 1;
