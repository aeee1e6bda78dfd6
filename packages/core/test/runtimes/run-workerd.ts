/** Runs the shared suite in workerd: POST the {@link SuiteEnv} (without `runtime`) as JSON; answers the result. */
import type { SuiteEnv } from './env.js';
import { run } from './suite.js';

export default {
  async fetch(request: Request): Promise<Response> {
    const env = (await request.json()) as Omit<SuiteEnv, 'runtime'>;
    return Response.json(await run({ ...env, runtime: 'workerd' }));
  },
};
