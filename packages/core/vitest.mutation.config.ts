// Vitest config used only by Stryker (`pnpm mutation`, see stryker.config.mjs).
//
// It runs the whole core suite except test/client-eviction.test.ts, whose 10,000-subject test
// takes about 60 s and covers most of client.ts: with per-test coverage every surviving client.ts
// mutant would rerun it. Stryker's vitest runner resets `testNamePattern` on its dry run, so the
// test cannot be left out by name; the file goes. Eviction (a real victim, stale first, never a
// slot in flight, single flight on a full map) is pinned by test/pinned-eviction.test.ts.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: ['**/node_modules/**', 'test/client-eviction.test.ts'],
    },
  }),
);
