import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import type { Row } from '../row.js';

const BUDGET = 14_000;

/**
 * Gzipped bytes of a minified Worker that uses `createDrillsterFetch` (edge's size fixture),
 * bundled as a Workers build does (esbuild, neutral platform, worker conditions), against a
 * Worker that only signs a JWT with jose. The note lists what each package costs (minified,
 * before gzip) from esbuild's metafile.
 */
export async function bundleRows(): Promise<Row[]> {
  const worker = new URL('../../../../packages/edge/test/fixtures/size-worker.ts', import.meta.url);
  const ours = await bundle(fileURLToPath(worker));
  const jose = await bundle(
    fileURLToPath(new URL('../../fixtures/jose-worker.ts', import.meta.url)),
  );
  return [
    {
      id: 'worker-bundle',
      figure: 'Worker bundle using `createDrillsterFetch` (minified, gzip)',
      baseline: "jose's signing path alone (`importPKCS8` + `SignJWT`)",
      value: ours.gzipped,
      baselineValue: jose.gzipped,
      unit: 'B',
      ratio: ours.gzipped / BUDGET,
      ratioLabel: '× the budget (14,000 B)',
      budget: { op: '<=', limit: 1 },
      limitValue: BUDGET,
      note: `${(ours.gzipped / jose.gzipped).toFixed(2)}× jose's signing path alone; minified bytes by package: ${byPackage(ours.metafile)}`,
    },
  ];
}

async function bundle(entry: string): Promise<{ gzipped: number; metafile: Metafile }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    nodePaths: [fileURLToPath(new URL('../../../../packages/edge/node_modules', import.meta.url))],
    minify: true,
    logLevel: 'silent',
    tsconfigRaw: {},
  });
  return { gzipped: gzipSync(result.outputFiles[0]!.contents).length, metafile: result.metafile };
}

/** `core 9,100 B, jose 6,200 B, …`: each package's share of the minified output. */
function byPackage(metafile: Metafile): string {
  const sizes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name =
        /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ??
        /packages\/([^/]+)\//.exec(path)?.[1] ??
        'worker';
      sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes]
    .sort((a, b) => b[1] - a[1])
    .map(([name, bytes]) => `${name} ${bytes.toLocaleString('en-US')} B`)
    .join(', ');
}
