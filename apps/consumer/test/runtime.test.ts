/**
 * The packed packages at runtime on each Node line we support, from the npm `node` package:
 * 20.11.1 (the lowest `engines` allows), the newest 20, 22 and 24. One fresh project, one install;
 * each Node version runs the ESM smoke and the CommonJS `require` of every entry point.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import {
  fixtureFiles,
  freshProject,
  type NodeVersion,
  nodeBinary,
  npmInstall,
  run,
} from './support/index.js';

const versions: NodeVersion[] = ['20.11.1', '20', '22', '24'];
const binaries = new Map<NodeVersion, string>();
let dir: string;

beforeAll(async () => {
  const installing = Promise.all(
    versions.map(async (version) => binaries.set(version, await nodeBinary(version))),
  );
  dir = await freshProject('runtime', await fixtureFiles('runtime'));
  await npmInstall(dir, [
    '@drillster-auth/axios',
    '@drillster-auth/cli',
    '@drillster-auth/core',
    '@drillster-auth/edge',
    '@drillster-auth/nest',
    '@drillster-auth/redis',
    '@drillster-auth/testing',
    'axios@^1.12.0',
    'ioredis@^5.8.0',
    // A CommonJS app runs Nest 11 (12 is ESM-only), so pin it rather than take whatever the
    // nest adapter's peer range lets npm pick.
    '@nestjs/common@^11.1.0',
    '@nestjs/core@^11.1.0',
    'reflect-metadata@^0.2.2',
    'rxjs@^7.8.2',
    // The optional peers of the subpaths that need them (require-all.cjs loads every entry
    // point): core/opentelemetry's @opentelemetry/api, nest/health's terminus (11, for Nest 11).
    '@opentelemetry/api@^1.9.0',
    '@nestjs/terminus@^11.0.0',
  ]);
  await installing;
});

/** Runs a fixture script with that Node and parses the JSON line it ends with. */
async function script(version: NodeVersion, file: string): Promise<Record<string, unknown>> {
  const result = await run(binaries.get(version)!, [file], { cwd: dir, timeout: 60_000 });
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.code !== 0 || !last.startsWith('{')) {
    throw new Error(
      `${file} on Node ${version} exited ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return JSON.parse(last) as Record<string, unknown>;
}

describe.concurrent.each(versions)('Node %s', (version) => {
  test('ESM smoke: core mint, cache and abort; axios; edge fetch; Redis; CLI token', async () => {
    const seen = await script(version, 'smoke.mjs');
    expect(seen).toEqual({
      node: version.includes('.') ? `v${version}` : expect.stringMatching(`^v${version}\\.`),
      oneMockClass: true,
      oneCacheClass: true,
      oneSigner: true,
      core: { tokenType: 'Bearer', cached: true, tokenRequests: 1 },
      abort: 'ERR_ABORTED',
      axios: { status: 200, serviceAccount: true },
      edge: { status: 200, id: true },
      redis: { shared: true },
      cli: { status: 200 },
    });
  });

  test('CommonJS: every require entry point loads (no ERR_REQUIRE_ESM) and mints a token', async () => {
    const seen = await script(version, 'require-all.cjs');
    expect(seen.failed).toEqual({});
    expect(seen.required).toEqual(
      expect.arrayContaining([
        '@drillster-auth/axios',
        '@drillster-auth/cli',
        '@drillster-auth/core',
        '@drillster-auth/core/assertion',
        '@drillster-auth/core/cache',
        '@drillster-auth/edge',
        '@drillster-auth/nest',
        '@drillster-auth/redis',
        '@drillster-auth/testing',
        '@drillster-auth/testing/node',
      ]),
    );
    expect(seen).toMatchObject({
      oneMockClass: true,
      oneKeyFileErrorClass: true,
      oneCacheClass: true,
      oneSigner: true,
      token: { tokenType: 'Bearer', minted: true },
      rejected: 'ERR_TOKEN_ENDPOINT',
    });
    expect(seen.mintError).toBeUndefined();
  });

  test('core/node: loadServiceAccountKey(path), imported and required; errors coded, nothing quoted', async () => {
    const seen = await script(version, 'key-file.mjs');
    const refused = {
      keyFileError: true,
      code: expect.stringMatching(/^ERR_KEY_FILE_/),
      leaks: [],
    };
    expect(seen).toMatchObject({
      import: { minted: true },
      require: { minted: true },
      missing: refused,
      directory: refused,
      broken: { ...refused, code: 'ERR_KEY_FILE_INVALID_JSON' },
    });
    expect((seen.missing as { code: string }).code).not.toBe(
      (seen.broken as { code: string }).code,
    );
  });
});
