import { packageTestConfig } from '../../vitest.config.base.js';

// Each test spawns `node dist/bin.js`, some of them several times in a row; a cold start on a
// busy 2-core machine takes seconds, and with both cores loaded a test that spawns six CLIs
// went past 20 s (hostile-input, cache). A hang is still caught, at 60 s.
export default packageTestConfig({ testTimeout: 60_000 });
