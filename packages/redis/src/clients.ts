import { ConfigurationError } from '@drillster-auth/core';

/**
 * A connected Redis client: an ioredis `Redis` or `Cluster`, or a node-redis v4/v5 client from
 * `createClient()`. Only its shape is checked, so this package imports neither library.
 */
export type RedisClient = { readonly status: string } | { readonly isOpen: boolean };

/** The few commands the cache needs, the same for every client library. */
export interface RedisCommands {
  get(key: string, signal: AbortSignal): Promise<string | null>;
  /** `SET key value PX ttlMs [NX]`; `true` when the value was written. */
  set(
    key: string,
    value: string,
    ttlMs: number,
    nx: boolean,
    signal: AbortSignal,
  ): Promise<boolean>;
  del(key: string, signal: AbortSignal): Promise<void>;
  eval(script: string, keys: string[], args: string[], signal: AbortSignal): Promise<unknown>;
}

interface IoRedisShape {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ...options: (string | number)[]): Promise<string | null>;
  del(key: string): Promise<number>;
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

interface NodeRedisShape {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options: { PX: number; NX?: true }): Promise<string | null>;
  del(key: string): Promise<number>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** node-redis v5: drops a command from the offline queue when the signal fires. */
  withAbortSignal?(signal: AbortSignal): NodeRedisShape;
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

function ioredisCommands(client: IoRedisShape): RedisCommands {
  // ioredis cannot cancel a queued command; the caller's timeout stops the wait instead.
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
  };
}

function nodeRedisCommands(client: NodeRedisShape): RedisCommands {
  // While node-redis reconnects it queues commands; with v5's abort signal a command that timed
  // out leaves the queue instead of running later.
  const using = (signal: AbortSignal): NodeRedisShape =>
    typeof client.withAbortSignal === 'function' ? client.withAbortSignal(signal) : client;
  return {
    get: async (key, signal) => using(signal).get(key),
    async set(key, value, ttlMs, nx, signal) {
      const reply = await using(signal).set(
        key,
        value,
        nx ? { PX: ttlMs, NX: true } : { PX: ttlMs },
      );
      return reply === 'OK';
    },
    async del(key, signal) {
      await using(signal).del(key);
    },
    eval: async (script, keys, args, signal) =>
      using(signal).eval(script, { keys, arguments: args }),
  };
}
