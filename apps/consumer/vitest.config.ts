import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // The work happens in child processes (npm, tsc, node, workerd): a worker mostly waits.
    pool: 'forks',
    maxWorkers: 4,
    minWorkers: 1,
    testTimeout: 240_000,
    hookTimeout: 300_000,
  },
});
