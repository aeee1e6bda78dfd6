/** Runs the shared suite in Bun: `bun run bundle.js '<SuiteEnv JSON>'`; prints the result as JSON. */
import type { SuiteEnv } from './env.js';
import { run } from './suite.js';

declare const Bun: { argv: string[] };

const env = JSON.parse(Bun.argv[2]!) as Omit<SuiteEnv, 'runtime'>;
console.log(JSON.stringify(await run({ ...env, runtime: 'bun' })));
