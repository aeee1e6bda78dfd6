/**
 * A Cloudflare Worker built from the installed packages: esbuild with the Workers settings
 * (platform neutral), then run in workerd with Node compatibility off, calling the mock server
 * (started here, from the workspace) through edge's createDrillsterFetch.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startMockDrillster, startWorkerd } from '@drillster-auth/testing/node';
import { expect, test } from 'vitest';
import { fixtureFiles, freshProject, npmInstall, runOk } from './support/index.js';

test('an esbuild Worker bundle gets a token and calls the API in workerd without Node compat', async () => {
  const dir = await freshProject('worker', await fixtureFiles('worker'));
  await npmInstall(dir, [
    '@drillster-auth/core',
    '@drillster-auth/edge',
    'esbuild@^0.25.0',
    'workerd@^1.20251101.0',
  ]);
  await runOk(process.execPath, ['bundle.mjs'], { cwd: dir });

  await using server = await startMockDrillster();
  const { authOptions } = await server.provision();
  // The npm package's main module names the binary and the newest compatibility date it knows.
  const workerd = createRequire(join(dir, 'package.json'))('workerd') as {
    default: string;
    compatibilityDate: string;
  };
  const settings = { ...authOptions, apiBaseUrl: server.apiBaseUrl, origin: server.url };
  const config = (await readFile(join(dir, 'worker.capnp.template'), 'utf8'))
    .replace('$COMPATIBILITY_DATE', () => workerd.compatibilityDate)
    // A JSON string literal is a valid Cap'n Proto text literal for this content.
    .replace('$SETTINGS', () => JSON.stringify(JSON.stringify(settings)));
  await writeFile(join(dir, 'worker.capnp'), config);

  await using worker = await startWorkerd({
    binary: workerd.default,
    config: join(dir, 'worker.capnp'),
  });
  const response = await fetch(`${worker.url}/`);
  expect(await response.json()).toEqual({
    buffer: 'undefined',
    process: 'undefined',
    status: 200,
    serviceAccount: true,
    refused: 'ERR_TOKEN_ENDPOINT',
  });
});
