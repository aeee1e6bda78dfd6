import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const edgeModules = fileURLToPath(new URL('../../node_modules', import.meta.url));

/**
 * Bundles `entry` into one minified-or-not ESM file the way a Workers build does: neutral
 * platform and the worker/browser conditions, so a `node:` import fails here, at bundle time.
 * Workspace packages resolve from the edge package's node_modules, so entries outside it (the
 * core's runtime suite) bundle the built `@drillster-auth/core` too.
 */
export async function bundleForEdge(
  entry: string,
  outfile: string,
  options: { minify?: boolean } = {},
): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    nodePaths: [edgeModules],
    minify: options.minify ?? false,
    logLevel: 'silent',
    // Ignore test/tsconfig.json's paths: the runtimes must run the built package.
    tsconfigRaw: {},
  });
  return outfile;
}
