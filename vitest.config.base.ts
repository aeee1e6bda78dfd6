import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** What differs between our packages' test runs; everything else is the same for all of them. */
export interface PackageTestOptions {
  /** Milliseconds a test may take before it counts as hung. Default 20 000. */
  testTimeout?: number;
  /** Milliseconds a hook may take; edge's start workerd. Default 20 000. */
  hookTimeout?: number;
  /** Also collect `bench/**\/*.bench.ts` for `vitest bench`. Default `false`. */
  bench?: boolean;
  /** Vite plugins (Nest's decorator metadata needs swc). Default none. */
  plugins?: ViteUserConfig['plugins'];
}

/**
 * The one test config of every package: tests in `test/`, run against real servers on loopback
 * (the mock, Redis, workerd), so a test may take 20 s on a busy 2-core machine before it counts
 * as hung, and `vi.waitFor` waits up to 15 s unless told otherwise (`vitest.setup.ts`). Each
 * package's `vitest.config.ts` is a call of this.
 */
export function packageTestConfig({
  testTimeout = 20_000,
  hookTimeout = 20_000,
  bench = false,
  plugins,
}: PackageTestOptions = {}) {
  return defineConfig({
    ...(plugins === undefined ? {} : { plugins }),
    test: {
      include: ['test/**/*.test.ts'],
      setupFiles: [fileURLToPath(new URL('./vitest.setup.ts', import.meta.url))],
      testTimeout,
      hookTimeout,
      ...(bench ? { benchmark: { include: ['bench/**/*.bench.ts'] } } : {}),
    },
  });
}
