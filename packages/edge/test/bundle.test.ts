import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { bundleForEdge } from './runtimes/bundle.js';

/**
 * Gzipped bytes of a minified Worker that uses createDrillsterFetch. Measured 16,790 B (core with
 * jose and ofetch, 2026-11-23), 19,327 B after issue 7's hardening, then 16,824 B once assertions
 * were built around `crypto.subtle.sign` instead of jose's `SignJWT` (issue 9), and 17,711 B with
 * key lists, the outage-aware refresh and the shared values (2026-12-03), then 15,978 B once the
 * signing key was imported with WebCrypto instead of jose's importPKCS8 (whose algorithm tables
 * came along) and a few helpers stopped being duplicated (issue 9). The budget is ~3% above;
 * issue 9's goal is 14,000 B (`pnpm bench` reports it with each package's share). Raise it
 * deliberately, not by habit.
 */
const SIZE_BUDGET = 16_500;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drillster-edge-bundle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a Worker using createDrillsterFetch stays within its size budget', async () => {
  const entry = fileURLToPath(new URL('./fixtures/size-worker.ts', import.meta.url));
  const bundle = await readFile(
    await bundleForEdge(entry, join(dir, 'size-worker.js'), { minify: true }),
  );
  const gzipped = gzipSync(bundle).length;
  console.log(
    `size-worker: ${(bundle.length / 1024).toFixed(1)} KiB minified, ${(gzipped / 1024).toFixed(1)} KiB gzipped (budget ${(SIZE_BUDGET / 1024).toFixed(1)} KiB)`,
  );
  expect(gzipped).toBeLessThanOrEqual(SIZE_BUDGET);
});

test('the Workers bundle settings refuse node: imports', async () => {
  const entry = join(dir, 'uses-node.ts');
  await writeFile(
    entry,
    "import { createHash } from 'node:crypto';\nexport const hash = createHash;\n",
  );
  await expect(bundleForEdge(entry, join(dir, 'uses-node.js'))).rejects.toThrow(/node:crypto/);
});
