// Core's per-request options, which `DrillsterRequestInit` carries; re-exported for one import.
export type { DrillsterRequestOptions } from '@drillster-auth/core';
export {
  createDrillsterFetch,
  type DrillsterFetch,
  type DrillsterFetchOptions,
  type DrillsterRequestInit,
} from './fetch.js';
export {
  createKvTokenCache,
  KV_MIN_EXPIRATION_TTL,
  type KvTokenCacheOptions,
} from './kv-cache.js';
export type { KvNamespaceLike } from './kv-namespace.js';
export { getDrillsterAuth } from './memoize.js';
export { type AuthSource, DEFAULT_ALLOWED_ORIGINS } from './options.js';
