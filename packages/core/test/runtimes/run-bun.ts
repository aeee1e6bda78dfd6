/** Runs the shared suite in Bun: `DRILLSTER_TEST_INPUT='<SuiteEnv JSON>' bun run bundle.js`; prints the result as JSON. */
import type { SuiteEnv } from './env.js';
import { run } from './suite.js';

declare const Bun: { env: Record<string, string | undefined> };

const env = JSON.parse(Bun.env.DRILLSTER_TEST_INPUT!) as Omit<SuiteEnv, 'runtime'>;
console.log(JSON.stringify(await run({ ...env, runtime: 'bun' })));
