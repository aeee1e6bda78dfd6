/**
 * One NestJS major as a new user gets it: the project `nest new` makes for that major (fixture
 * `nest<major>`), our tarballs installed with npm's default peer resolution, then
 * - built with `tsc` (what `nest build` runs) and booted: a real HTTP request to a route that calls
 *   Drillster through `DrillsterAuthModule`, against the mock server, then `app.close()`, after
 *   which the process has to end by itself;
 * - the project's own e2e test command (`npm run test:e2e`: Jest + ts-jest for 10 and 11, Vitest
 *   for 12), whose spec starts the mock server from `@drillster-auth/testing/node`.
 * Each project also has this major's `@nestjs/terminus` and a `/health` route through
 * `DrillsterAuthHealthIndicator`: up in the boot, down then up in the e2e spec.
 * The two run at once: separate processes on one install (the build writes only dist/).
 */

import { stripVTControlCharacters } from 'node:util';
import {
  expectNoLeaks,
  type MockProvision,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fixtureFiles, freshProject, npmInstall, run, runOk } from './support/index.js';

/** The majors we support, each with the test runner its `nest new` sets up. */
export type NestMajor = 10 | 11 | 12;

/** Registers the tests of one major in the calling test file. */
export function nestScenario(major: NestMajor): void {
  let server: RunningMockDrillster;
  let provision: MockProvision;
  let dir: string;

  beforeAll(async () => {
    server = await startMockDrillster();
    provision = await server.provision();
    dir = await freshProject(`nest${major}`, await fixtureFiles(`nest${major}`));
    await npmInstall(dir, [
      '@drillster-auth/nest',
      '@drillster-auth/core',
      '@drillster-auth/testing',
    ]);
  });

  afterAll(async () => {
    await server?.close();
  });

  const secrets = () => ({
    clientSecret: provision.authOptions.clientSecret,
    privateKey: provision.account.keyFile.privateKey,
  });

  test.concurrent(`Nest ${major}: the app builds, boots, serves a route through DrillsterAuthModule and closes cleanly`, async () => {
    await runOk('npm', ['run', 'build'], { cwd: dir });
    const result = await run(process.execPath, ['dist/smoke.js'], {
      cwd: dir,
      timeout: 60_000,
      env: {
        DRILLSTER_KEY_FILE_JSON: provision.account.keyFileJson,
        DRILLSTER_CLIENT_ID: provision.authOptions.clientId,
        DRILLSTER_CLIENT_SECRET: provision.authOptions.clientSecret,
        DRILLSTER_ISSUER: server.issuer,
        DRILLSTER_API_BASE_URL: server.apiBaseUrl,
      },
    });
    const output = `${result.stdout}\n${result.stderr}`;
    // Exit code 0 without process.exit: nothing the module started outlived app.close().
    expect(result.code, output).toBe(0);
    // Its last line; Nest's logger writes warnings to stdout too.
    const report = result.stdout.trim().split('\n').at(-1) ?? '';
    expect(JSON.parse(report), output).toEqual({
      status: 200,
      body: { id: provision.account.serviceAccountId },
      // DrillsterAuthHealthIndicator (`@drillster-auth/nest/health`) under this major's terminus.
      health: {
        status: 200,
        body: {
          status: 'ok',
          info: { drillster: { status: 'up' } },
          error: {},
          details: { drillster: { status: 'up' } },
        },
      },
    });
    expectNoLeaks(result, secrets());
  });

  test.concurrent(`Nest ${major}: the default e2e setup of \`nest new\` (${major === 12 ? 'Vitest' : 'Jest, ts-jest'}) passes a spec using the module and the mock server`, async () => {
    const result = await run('npm', ['run', 'test:e2e'], { cwd: dir, timeout: 180_000 });
    const output = stripVTControlCharacters(result.stdout + result.stderr);
    expect(result.code, output).toBe(0);
    // The route, and the health check down (token endpoint refusing the client) and up.
    expect(output).toMatch(major === 12 ? /Tests\s+3 passed/ : /Tests:\s+3 passed, 3 total/);
  });
}
