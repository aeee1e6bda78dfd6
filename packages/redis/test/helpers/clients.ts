import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { createClient as createClientV4 } from 'redis4';
import type { RedisClient } from '../../src/index.js';

/** A connected client of one library, and how to let go of it. */
export interface TestClient {
  client: RedisClient;
  /** Raw commands for assertions, whatever the library. */
  raw: {
    get(key: string): Promise<string | null>;
    set(key: string, value: string, ttlMs?: number): Promise<void>;
    pttl(key: string): Promise<number>;
    keys(pattern: string): Promise<string[]>;
    del(keys: string[]): Promise<void>;
  };
  /** Errors the client emitted (connection losses), so none goes unhandled. */
  errors: unknown[];
  close(): Promise<void>;
}

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const clientKinds = [
  { name: 'ioredis', connect: connectIoredis },
  { name: 'node-redis', connect: connectNodeRedis },
  { name: 'node-redis v4', connect: connectNodeRedisV4 },
] as const;

export type ClientKind = (typeof clientKinds)[number]['name'];

async function connectIoredis(url = REDIS_URL): Promise<TestClient> {
  const errors: unknown[] = [];
  // Reconnect quickly so a restarted server is found again within a test.
  const client = new Redis(url, { retryStrategy: () => 50, lazyConnect: true });
  client.on('error', (error) => errors.push(error));
  await client.connect();
  return {
    client,
    errors,
    raw: {
      get: (key) => client.get(key),
      async set(key, value, ttlMs) {
        if (ttlMs === undefined) await client.set(key, value);
        else await client.set(key, value, 'PX', ttlMs);
      },
      pttl: (key) => client.pttl(key),
      async del(keys) {
        if (keys.length > 0) await client.del(...keys);
      },
      keys: (pattern) => scan((cursor) => client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)),
    },
    async close() {
      client.disconnect();
    },
  };
}

async function connectNodeRedis(url = REDIS_URL): Promise<TestClient> {
  const errors: unknown[] = [];
  const client = createClient({ url, socket: { reconnectStrategy: () => 50 } });
  client.on('error', (error) => errors.push(error));
  await client.connect();
  return {
    client,
    errors,
    raw: {
      get: (key) => client.get(key),
      async set(key, value, ttlMs) {
        await client.set(key, value, ttlMs === undefined ? {} : { PX: ttlMs });
      },
      pttl: (key) => client.pTTL(key),
      async del(keys) {
        if (keys.length > 0) await client.del(keys);
      },
      async keys(pattern) {
        const found: string[] = [];
        for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
          found.push(...batch);
        }
        return found;
      },
    },
    async close() {
      client.destroy();
    },
  };
}

async function connectNodeRedisV4(url = REDIS_URL): Promise<TestClient> {
  const errors: unknown[] = [];
  const client = createClientV4({ url, socket: { reconnectStrategy: () => 50 } });
  client.on('error', (error) => errors.push(error));
  await client.connect();
  return {
    client,
    errors,
    raw: {
      get: (key) => client.get(key),
      async set(key, value, ttlMs) {
        await client.set(key, value, ttlMs === undefined ? {} : { PX: ttlMs });
      },
      pttl: (key) => client.pTTL(key),
      async del(keys) {
        if (keys.length > 0) await client.del(keys);
      },
      async keys(pattern) {
        const found: string[] = [];
        for await (const key of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
          found.push(key);
        }
        return found;
      },
    },
    async close() {
      await client.disconnect();
    },
  };
}

async function scan(next: (cursor: string) => Promise<[string, string[]]>): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [nextCursor, keys] = await next(cursor);
    found.push(...keys);
    cursor = nextCursor;
  } while (cursor !== '0');
  return found;
}
