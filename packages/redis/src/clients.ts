import { ConfigurationError } from '@drillster-auth/core';

/**
 * A connected Redis client: an ioredis `Redis` (also one that follows a Sentinel-managed
 * primary, `new Redis({ sentinels, name })`) or `Cluster`, or a node-redis v4/v5 client from
 * `createClient()` or `createCluster()`. Only its shape is checked, so this package imports
 * neither library.
 */
export type RedisClient = { readonly status: string } | { readonly isOpen: boolean };

/**
 * The few commands the cache needs, the same for every client library. Each touches one key
 * (the scripts take exactly one), so on a cluster every command goes to the one node that owns
 * its key's slot and none can fail with `CROSSSLOT`.
 */
export interface RedisCommands {
  get(key: string): Promise<string | null>;
  /** `SET key value PX ttlMs [NX]`; `true` when the value was written. */
  set(key: string, value: string, ttlMs: number, nx: boolean): Promise<boolean>;
  del(key: string): Promise<void>;
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
  /** `true` when the client knows it has no connection, so a command would only be queued. */
  disconnected(): boolean;
}

/** ioredis `Redis` and `Cluster` alike: both have `status` and route each command by its key. */
interface IoRedisShape {
  readonly status: string;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ...options: (string | number)[]): Promise<string | null>;
  del(key: string): Promise<number>;
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/**
 * node-redis clients and clusters alike; a cluster routes `eval` by the first of `keys`, which
 * is why the keys must be passed as `keys`, not inside `arguments`.
 */
interface NodeRedisShape {
  readonly isOpen: boolean;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options: { PX: number; NX?: true }): Promise<string | null>;
  del(key: string): Promise<number>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/**
 * Maps `client` to {@link RedisCommands}.
 *
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` when `client` is neither an ioredis nor a node-redis client.
 */
export function redisCommands(client: unknown): RedisCommands {
  if (typeof client === 'object' && client !== null && hasCommands(client)) {
    if (typeof (client as { status?: unknown }).status === 'string') {
      return ioredisCommands(client as IoRedisShape);
    }
    if (typeof (client as { isOpen?: unknown }).isOpen === 'boolean') {
      return nodeRedisCommands(client as NodeRedisShape);
    }
  }
  throw new ConfigurationError(
    'ERR_INVALID_OPTIONS',
    'client must be an ioredis Redis or Cluster, or a node-redis client',
  );
}

function hasCommands(client: object): boolean {
  const shape = client as Record<string, unknown>;
  return ['get', 'set', 'del', 'eval'].every((name) => typeof shape[name] === 'function');
}

/*
 * Neither library can take back a command once queued (node-redis v5's withAbortSignal can, but
 * in 5.12 aborting two queued commands in a row corrupts its queue and hangs the client for
 * good). A command that timed out may therefore still run when the connection is back; the
 * cache is written so that this is harmless.
 */
const IOREDIS_DOWN = new Set(['reconnecting', 'close', 'end']);

function ioredisCommands(client: IoRedisShape): RedisCommands {
  return {
    get: (key) => client.get(key),
    async set(key, value, ttlMs, nx) {
      const reply = nx
        ? await client.set(key, value, 'PX', ttlMs, 'NX')
        : await client.set(key, value, 'PX', ttlMs);
      return reply === 'OK';
    },
    async del(key) {
      await client.del(key);
    },
    eval: (script, keys, args) => client.eval(script, keys.length, ...keys, ...args),
    // Not 'connecting' or 'wait': a client created a moment ago queues its first commands
    // until it is connected, which is what a fleet starting up on a cold cache needs.
    disconnected: () => IOREDIS_DOWN.has(client.status),
  };
}

function nodeRedisCommands(client: NodeRedisShape): RedisCommands {
  return {
    get: (key) => client.get(key),
    async set(key, value, ttlMs, nx) {
      const reply = await client.set(key, value, nx ? { PX: ttlMs, NX: true } : { PX: ttlMs });
      return reply === 'OK';
    },
    async del(key) {
      await client.del(key);
    },
    eval: (script, keys, args) => client.eval(script, { keys, arguments: args }),
    // While node-redis reconnects, `isOpen` stays true and commands are queued: the timeout
    // bounds those.
    disconnected: () => !client.isOpen,
  };
}
