/** Runs the shared suite in Deno: `deno run --allow-net bundle.js '<SuiteEnv JSON>'`; prints the result as JSON. */
import type { SuiteEnv } from './env.js';
import { run } from './suite.js';

declare const Deno: { args: string[] };

const env = JSON.parse(Deno.args[0]!) as Omit<SuiteEnv, 'runtime'>;
console.log(JSON.stringify(await run({ ...env, runtime: 'deno' })));
