import { packageTestConfig } from '../../vitest.config.base.js';

// Hooks start workerd, which takes longer than a mock server on a busy machine.
export default packageTestConfig({ hookTimeout: 30_000 });
