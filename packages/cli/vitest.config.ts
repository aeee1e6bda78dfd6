import { packageTestConfig } from '../../vitest.config.base.js';

// Each test spawns `node dist/bin.js`; a cold start on a busy 2-core machine takes a while.
export default packageTestConfig();
