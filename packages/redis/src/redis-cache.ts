import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type CachedToken,
  ConfigurationError,
  NetworkError,
  type SingleFlightOptions,
  type TokenCache,
} from '@drillster-auth/core';
import { type RedisClient, type RedisCommands, redisCommands } from './clients.js';
import { parseEntry, serializeEntry } from './entry.js';
import { withTimeout } from './timeout.js';

/** Options of {@link createRedisTokenCache}. */
export interface RedisTokenCacheOptions {
  /**
   * A connected client: an ioredis `Redis` or `Cluster`, or a node-redis v4/v5 client from
   * `createClient()` (already `connect()`ed). You own it: connect it, listen to its `error`
   * events and quit it.
   */
  client: RedisClient;
  /** Prefix of every key this cache writes. Default `'drillster-auth:'`. */
  prefix?: string;
  /** Longest wait for one Redis command, in milliseconds; a slower command fails (the client then carries on without the cache). Default 200. */
  timeout?: number;
  /** How long a minting process holds the lock before others may take over, in milliseconds. Default 15000. */
  lockTtl?: number;
  /** Longest wait for another process's token before minting one anyway, in milliseconds. Default 10000. */
  lockWait?: number;
  /** How often a waiting process looks for the other process's token, in milliseconds. Default 50. */
  pollInterval?: number;
}

/** Deletes the lock only if it still holds our token, so a late holder cannot free another's lock. */
const RELEASE_SCRIPT =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
/** The last values read per key; bounded because nothing else removes keys never minted. */
const MAX_OBSERVED = 1000;

/**
 * A {@link TokenCache} in Redis, shared by every process that uses the same server and prefix:
 * one token per service account and subject for all of them, minted by one process at a time.
 *
 * Keys are `prefix` + hex SHA-256 of the client's cache key (`prefix` + `lock:` + the same for
 * locks), so no client id, service account id or subject appears in Redis. Entries expire with
 * their token. Every command gives up after `timeout`; the client reports the failure as a
 * `cache_error` event and gets its token without the cache.
 */
export class RedisTokenCache implements TokenCache {
  readonly #redis: RedisCommands;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #lockTtl: number;
  readonly #lockWait: number;
  readonly #pollInterval: number;
  /** What `get` last saw per Redis key: a waiter accepts only a token that differs from it. */
  readonly #observed = new Map<string, string | null>();

  constructor(options: RedisTokenCacheOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError(
        'ERR_INVALID_OPTIONS',
        'RedisTokenCache needs an options object',
      );
    }
    this.#redis = redisCommands(options.client);
    this.#prefix = options.prefix ?? 'drillster-auth:';
    if (typeof this.#prefix !== 'string') {
      throw new ConfigurationError('ERR_INVALID_OPTIONS', 'prefix must be a string');
    }
    this.#timeout = milliseconds(options.timeout, 'timeout', 200);
    this.#lockTtl = milliseconds(options.lockTtl, 'lockTtl', 15_000);
    this.#lockWait = milliseconds(options.lockWait, 'lockWait', 10_000);
    this.#pollInterval = milliseconds(options.pollInterval, 'pollInterval', 50);
  }

  async get(key: string): Promise<CachedToken | undefined> {
    const entryKey = this.#entryKey(key);
    const value = await this.#get(entryKey);
    if (this.#observed.size >= MAX_OBSERVED) this.#observed.clear();
    this.#observed.set(entryKey, value);
    return parseEntry(value, Date.now());
  }

  async set(key: string, token: CachedToken): Promise<void> {
    const ttl = Math.floor(token.expiresAt - Date.now());
    if (!(ttl > 0)) return;
    await this.#command('SET', () =>
      this.#redis.set(this.#entryKey(key), serializeEntry(token), ttl, false),
    );
  }

  async delete(key: string): Promise<void> {
    await this.#command('DEL', () => this.#redis.del(this.#entryKey(key)));
  }

  /**
   * Mints under a Redis lock (`SET NX PX lockTtl`) so that one process of many requests the
   * token; the others poll for it every `pollInterval` for up to `lockWait`, then mint
   * themselves. A holder that dies frees the lock after `lockTtl`. Redis failures are thrown
   * only before `mint` was called, so the client can mint without the cache.
   */
  async singleFlight(
    key: string,
    mint: () => Promise<CachedToken>,
    options: SingleFlightOptions,
  ): Promise<CachedToken> {
    const signal = options?.signal;
    const minExpiresAt = options?.minExpiresAt ?? 0;
    const entryKey = this.#entryKey(key);
    const lockKey = this.#lockKey(key);
    // The token the caller already found wanting (none, stale or refused): waiting for a
    // different one avoids handing it straight back.
    const before = this.#observed.has(entryKey)
      ? (this.#observed.get(entryKey) ?? null)
      : await this.#get(entryKey);
    this.#observed.delete(entryKey);
    const deadline = Date.now() + this.#lockWait;
    for (;;) {
      signal?.throwIfAborted();
      const lockToken = randomUUID();
      if (await this.#acquire(lockKey, lockToken)) {
        return this.#mintHoldingLock(entryKey, lockKey, lockToken, before, minExpiresAt, mint);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return mint();
      await delay(Math.min(this.#pollInterval, remaining), undefined, { signal });
      const token = this.#fresh(await this.#get(entryKey), before, minExpiresAt);
      if (token) return token;
    }
  }

  toString(): string {
    return `RedisTokenCache(prefix=${this.#prefix})`;
  }

  async #mintHoldingLock(
    entryKey: string,
    lockKey: string,
    lockToken: string,
    before: string | null,
    minExpiresAt: number,
    mint: () => Promise<CachedToken>,
  ): Promise<CachedToken> {
    try {
      // Another process may have stored its token and let go of the lock just before we took it.
      const stored = this.#fresh(await this.#get(entryKey).catch(() => null), before, minExpiresAt);
      if (stored) return stored;
      return await mint();
    } finally {
      await this.#release(lockKey, lockToken).catch(() => {
        // The lock expires after lockTtl anyway.
      });
    }
  }

  /** The token in `value` when it is usable, not the one the caller already had, and new enough. */
  #fresh(
    value: string | null,
    before: string | null,
    minExpiresAt: number,
  ): CachedToken | undefined {
    if (value === before) return undefined;
    const token = parseEntry(value, Date.now());
    return token && token.expiresAt >= minExpiresAt ? token : undefined;
  }

  async #acquire(lockKey: string, lockToken: string): Promise<boolean> {
    try {
      return await this.#command('SET NX', () =>
        this.#redis.set(lockKey, lockToken, this.#lockTtl, true),
      );
    } catch (error) {
      if (error instanceof NetworkError && error.code === 'ERR_TIMEOUT') {
        // The client still holds the command and may send it once the connection is back;
        // queue a release right behind it (same connection, same order) so nobody waits for a
        // lock no one holds. Past the offline check on purpose: it must queue.
        withTimeout('EVAL', this.#timeout, () =>
          this.#redis.eval(RELEASE_SCRIPT, [lockKey], [lockToken]),
        ).catch(() => {});
      }
      throw error;
    }
  }

  #release(lockKey: string, lockToken: string): Promise<unknown> {
    return this.#command('EVAL', () => this.#redis.eval(RELEASE_SCRIPT, [lockKey], [lockToken]));
  }

  #get(entryKey: string): Promise<string | null> {
    return this.#command('GET', () => this.#redis.get(entryKey));
  }

  /** Runs a command within `timeout`, failing at once when the client knows it is offline. */
  #command<T>(name: string, run: () => Promise<T>): Promise<T> {
    if (this.#redis.disconnected()) {
      return Promise.reject(
        new NetworkError('ERR_NETWORK', `Redis ${name} failed (the client is not connected)`),
      );
    }
    return withTimeout(name, this.#timeout, run);
  }

  #entryKey(key: string): string {
    return this.#prefix + sha256(key);
  }

  #lockKey(key: string): string {
    return `${this.#prefix}lock:${sha256(key)}`;
  }
}

/**
 * Creates a {@link RedisTokenCache}; pass it as the `cache` option of `createDrillsterAuth`.
 *
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` when `client` is not a Redis client or an option is out of range.
 */
export function createRedisTokenCache(options: RedisTokenCacheOptions): RedisTokenCache {
  return new RedisTokenCache(options);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function milliseconds(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      `${name} must be a number of milliseconds, at least 1`,
    );
  }
  return Math.round(value);
}
