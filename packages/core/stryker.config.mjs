// Mutation testing of core (`pnpm mutation`; not in CI). 1,988 mutants: a full run was estimated
// at 2.5-3.5 h on the shared 2-core machine (load ~15); while working, run one file at a time,
// e.g. `npx stryker run --mutate src/retry.ts` (550 mutants of four files took 41 min here).
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
