// Mutation testing of core (`pnpm mutation`; not in CI: it takes about 20 minutes here).
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
