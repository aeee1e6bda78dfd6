// Mutation testing of core (`pnpm mutation`; not in CI). About 2,000 mutants: a full run takes
// hours on the shared 2-core machine, so run one file at a time in a separate clone (inPlace
// rewrites src/), e.g. `npx stryker run --mutate src/client.ts` (352 mutants: 48 min at load
// 15-30), and merge the per-file reports with `node scripts/mutation-table.mjs`. Measured
// 2026-12-03 (MUTATION.md): 12 of core's files, 1,253 mutants, 97.6 % together, every survivor
// classified there; the HTTP path (token-endpoint, http, discovery, …) not yet measured.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // pnpm keeps plugins out of Stryker's own node_modules, so name the runner by its path.
  plugins: [require.resolve('@stryker-mutator/vitest-runner')],
  // The core suite without the 60 s 10,000-subject test (see vitest.mutation.config.ts).
  vitest: { configFile: 'vitest.mutation.config.ts' },
  mutate: ['src/**/*.ts', '!src/index.ts'],
  coverageAnalysis: 'perTest',
  // A sandbox copy breaks the relative `extends` of the tsconfig files; mutate this tree instead.
  inPlace: true,
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
};
