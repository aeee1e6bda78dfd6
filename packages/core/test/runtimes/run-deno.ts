/**
 * Runs the shared suite in Deno: `DRILLSTER_TEST_INPUT='<SuiteEnv JSON>' deno run
 * --allow-net --allow-env=DRILLSTER_TEST_INPUT bundle.js`; prints the result as JSON.
 */
import type { SuiteEnv } from './env.js';
import { run } from './suite.js';

declare const Deno: { env: { get(name: string): string | undefined } };

const env = JSON.parse(Deno.env.get('DRILLSTER_TEST_INPUT')!) as Omit<SuiteEnv, 'runtime'>;
console.log(JSON.stringify(await run({ ...env, runtime: 'deno' })));
