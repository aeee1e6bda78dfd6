import { packageConfig } from '../../tsup.config.base.js';

export default packageConfig({
  // `node` is @drillster-auth/core/node: file-system helpers the runtime-agnostic entry must not import.
  entry: { index: 'src/index.ts', node: 'src/node/index.ts' },
});
