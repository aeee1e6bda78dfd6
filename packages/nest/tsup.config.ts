import { packageConfig } from '../../tsup.config.base.js';

export default packageConfig({
  // `health` is @drillster-auth/nest/health: the one entry that imports @nestjs/terminus (an optional peer).
  entry: { index: 'src/index.ts', health: 'src/health/index.ts' },
});
