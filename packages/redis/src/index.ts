export type { RedisClient } from './clients.js';
export {
  createRedisTokenCache,
  RedisTokenCache,
  type RedisTokenCacheOptions,
} from './redis-cache.js';
