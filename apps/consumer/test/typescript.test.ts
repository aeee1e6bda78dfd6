/**
 * Our published types as each kind of TypeScript project sees them: one fresh project with every
 * tarball installed, typechecked under one tsconfig per profile (strict, exactOptionalPropertyTypes)
 * against files that use the public API and import every subpath. skipLibCheck is false where the
 * profile is about the declarations themselves (nodenext, Node-only, DOM, Workers); bundler and
 * node10 are about resolution and skip the library check, which costs ~25 s of CPU per profile.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { fixtureFiles, freshProject, npmInstall, run } from './support/index.js';

let dir: string;
let subpaths: string[];

beforeAll(async () => {
  dir = await freshProject('typescript', await fixtureFiles('types'));
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
    'typescript@~5.9.3',
    '@types/node@^24.0.0',
    '@cloudflare/workers-types@^4.0.0',
    // core/opentelemetry's types import it: an app that uses that subpath has it (an optional peer).
    '@opentelemetry/api@^1.9.0',
  ]);
  // Every subpath each package exports, read from the installed manifests: a subpath added later
  // is checked without editing this test.
  subpaths = [];
  const scope = join(dir, 'node_modules/@drillster-auth');
  for (const name of (await readdir(scope)).sort()) {
    const manifest = JSON.parse(await readFile(join(scope, name, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    for (const key of Object.keys(manifest.exports)) {
      if (key === './package.json') continue;
      subpaths.push(`@drillster-auth/${name}${key.slice(1)}`);
    }
  }
  // The same from a CommonJS file (nodenext reads it through the `require` condition: the .d.cts).
  await writeFile(
    join(dir, 'subpaths.cts'),
    `${subpaths.map((path, i) => `import m${i} = require('${path}');`).join('\n')}\n` +
      `export = [${subpaths.map((_, i) => `m${i}`).join(', ')}];\n`,
  );
  await writeFile(
    join(dir, 'subpaths.ts'),
    `${subpaths.map((path, i) => `import * as m${i} from '${path}';`).join('\n')}\n` +
      `export const modules = [${subpaths.map((_, i) => `m${i}`).join(', ')}];\n`,
  );
});

async function tsc(profile: string): Promise<string> {
  const result = await run(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-p', `tsconfig.${profile}.json`],
    // Under a cold run on two busy cores one profile has taken two minutes.
    { cwd: dir, timeout: 220_000 },
  );
  return result.code === 0 ? '' : result.stdout + result.stderr;
}

describe.concurrent('types', () => {
  test('every package exports its subpaths (testing/node among them)', () => {
    expect(subpaths).toEqual(
      expect.arrayContaining([
        '@drillster-auth/axios',
        '@drillster-auth/cli',
        '@drillster-auth/core',
        '@drillster-auth/edge',
        '@drillster-auth/nest',
        '@drillster-auth/redis',
        '@drillster-auth/testing',
        '@drillster-auth/testing/node',
      ]),
    );
  });

  test('ESM and a CommonJS .cts file, module/moduleResolution nodenext, strict', async () => {
    expect(await tsc('nodenext')).toBe('');
  });

  test('moduleResolution bundler', async () => {
    expect(await tsc('bundler')).toBe('');
  });

  test('module commonjs (node10 resolution): every subpath resolves with its types', async () => {
    expect(await tsc('node10')).toBe('');
  });

  test('Node-only lib: lib es2023, types node (no DOM)', async () => {
    expect(await tsc('node-only')).toBe('');
  });

  test('DOM lib without Node types', async () => {
    expect(await tsc('dom')).toBe('');
  });

  test('Workers types (@cloudflare/workers-types), no DOM, no Node', async () => {
    expect(await tsc('workers')).toBe('');
  });
});
