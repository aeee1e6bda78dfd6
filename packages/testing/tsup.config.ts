import { packageConfig } from '../../tsup.config.base.js';

export default packageConfig({ entry: { index: 'src/index.ts', node: 'src/node.ts' } });
