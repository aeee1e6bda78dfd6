import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { defineConfig } from 'tsup';

/**
 * Dependencies that ship ESM only. The CommonJS build carries its own copy of each: `require()` of
 * an ES module fails on Node 20.11–20.18 (`ERR_REQUIRE_ESM`) and under Jest's CommonJS runtime on
 * any Node, which is what a `nest new` project runs its e2e tests with. The ESM build keeps them
 * external, so an ESM app shares one copy and takes their patch releases.
 */
const ESM_ONLY_DEPENDENCIES = [
  // jose 6 dropped its CommonJS build. Used inside core and testing only: none of its classes
  // cross our public API, so a second copy in the CommonJS build is never compared by instanceof.
  'jose',
];

/** What differs between our packages' builds; everything else is the same for all of them. */
export interface PackageBuildOptions {
  /** Source entry points by output name (`node` gives `dist/node.js`), one per `exports` subpath or bin. */
  entry: Record<string, string>;
  /** Entry points that get declaration files. Default: all of `entry` (a bin has no API). */
  dtsEntry?: Record<string, string>;
  /** `neutral` for code that must run on Workers and Deno as well as Node. Default `node`. */
  platform?: 'node' | 'neutral';
}

/**
 * The one build config of every package: ESM and CommonJS with declaration files, each format
 * code-split so that entry points of one format share one copy of each class (`instanceof` holds
 * across `@drillster-auth/testing` and `@drillster-auth/testing/node`, `core` and `core/node`).
 */
export function packageConfig({ entry, dtsEntry, platform = 'node' }: PackageBuildOptions) {
  const bundled = bundledNotices();
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: dtsEntry ? { entry: dtsEntry } : true,
    clean: true,
    splitting: true,
    sourcemap: true,
    target: 'es2022',
    platform,
    // Bundled into both formats by tsup, then handed back to esbuild as external for ESM only:
    // tsup's own `noExternal` cannot differ per format within one config, and one config means
    // one declaration build for both formats.
    noExternal: ESM_ONLY_DEPENDENCIES,
    esbuildOptions(options, { format }) {
      if (format === 'esm')
        options.external = [...(options.external ?? []), ...ESM_ONLY_DEPENDENCIES];
    },
    // Split CommonJS goes through sucrase unless rollup converts it, and sucrase breaks jose's
    // class fields (`SyntaxError: Unexpected token ','`): rollup turns each chunk into CommonJS.
    treeshake: true,
    banner: ({ format }) => (format === 'cjs' && bundled ? { js: bundled } : {}),
  });
}

/**
 * The license notice of each ESM-only dependency this package bundles into its CommonJS build
 * (their MIT licenses ask for the copyright notice in every copy), or undefined when it has none.
 */
function bundledNotices(): string | undefined {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
  const require = createRequire(join(process.cwd(), 'package.json'));
  const notices = ESM_ONLY_DEPENDENCIES.filter((name) => manifest.dependencies?.[name]).map(
    (name) => {
      const root = join(require.resolve(`${name}/package.json`), '..');
      const { license } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
      const file = ['LICENSE.md', 'LICENSE'].find((candidate) => {
        try {
          return readFileSync(join(root, candidate), 'utf8');
        } catch {
          return false;
        }
      });
      const copyright = file
        ? readFileSync(join(root, file), 'utf8').match(/^Copyright .*$/m)?.[0]
        : undefined;
      return `${name} (${license}${copyright ? `, ${copyright}` : ''})`;
    },
  );
  return notices.length > 0 ? `/*! Bundles ${notices.join('; ')} */` : undefined;
}
