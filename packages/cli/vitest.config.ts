import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test spawns `node dist/bin.js`; a cold start on a busy 2-core machine takes a while.
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
