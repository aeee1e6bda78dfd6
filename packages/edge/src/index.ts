export {
  createDrillsterFetch,
  type DrillsterFetch,
  type DrillsterFetchOptions,
  type DrillsterRequestInit,
  type DrillsterRequestOptions,
} from './fetch.js';
export {
  createKvTokenCache,
  KV_MIN_EXPIRATION_TTL,
  type KvTokenCacheOptions,
} from './kv-cache.js';
export type { KvNamespaceLike } from './kv-namespace.js';
export { getDrillsterAuth } from './memoize.js';
export { type AuthSource, DEFAULT_ALLOWED_ORIGINS } from './options.js';
