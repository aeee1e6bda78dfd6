import { packageConfig } from '../../tsup.config.base.js';

export default packageConfig({
  // `node` is @drillster-auth/core/node: file-system helpers the runtime-agnostic entry must not import.
  // `cache` is @drillster-auth/core/cache: the TokenCache contract, its serialisers and core's caches.
  // `opentelemetry` is @drillster-auth/core/opentelemetry: the one entry that imports @opentelemetry/api (an optional peer).
  entry: {
    index: 'src/index.ts',
    cache: 'src/cache/index.ts',
    node: 'src/node/index.ts',
    opentelemetry: 'src/opentelemetry.ts',
  },
});
