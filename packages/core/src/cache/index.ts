// `@drillster-auth/core/cache`: what a token cache is and the caches core ships. The root entry
// exports the same names (one copy of each class in each format, so `instanceof` holds).
export { createEncryptedTokenCache, type EncryptedTokenCacheOptions } from './encrypted.js';
export { MemoryTokenCache, type MemoryTokenCacheOptions } from './memory.js';
export { parseCachedToken, readCachedToken, serializeCachedToken } from './serialize.js';
export type { CachedToken, SingleFlightOptions, TokenCache } from './types.js';
