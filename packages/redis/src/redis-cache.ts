import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type CachedToken,
  ConfigurationError,
  MAX_TIMER_DELAY,
  NetworkError,
  numberOption,
  parseCachedToken,
  readCachedToken,
  type SingleFlightOptions,
  serializeCachedToken,
  type TokenCache,
} from '@drillster-auth/core';
import { type RedisClient, type RedisCommands, redisCommands } from './clients.js';
import { CommandTimer } from './timeout.js';

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
  /** Longest wait for one Redis command, in milliseconds, a whole number from 1; a slower command fails (the client then carries on without the cache). Default 200. */
  timeout?: number;
  /**
   * Lifetime of the mint lock, in milliseconds, a whole number from 100. The minting process
   * renews it every third of this for as long as its mint runs, however slow the token
   * endpoint; a process that dies lets others take over after at most this long. Default 15000.
   */
  lockTtl?: number;
  /**
   * Longest wait for another process's token before minting one anyway, in milliseconds, a
   * whole number from 0. Default 60000: longer than the worst case of a client with the default
   * `timeout` and `retry` (3 attempts × 10 s, plus 2 waits of at most 10 s), so a slow token
   * endpoint still gets one request. Raise it with the client's timeout or attempts.
   */
  lockWait?: number;
  /** How often a waiting process looks for the other process's token, in milliseconds, a whole number from 1. Default 50. */
  pollInterval?: number;
}

/** Deletes the lock only if it still holds our token, so a late holder cannot free another's lock. */
const RELEASE_SCRIPT =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
/** Renews the lock only if it still holds our token: 0 means it is gone or someone else's. */
const EXTEND_SCRIPT =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
/**
 * Keys whose last read value (and the token in it) is remembered, and cache keys whose Redis key
 * is; bounded because nothing else removes keys never minted.
 */
const MAX_REMEMBERED = 1000;

/** What `get` last read for a Redis key, and the token in it when it holds one. */
interface Observed {
  readonly value: string | null;
  /** The value parsed and checked, expiry aside: `undefined` when it holds no usable token. */
  readonly token: CachedToken | undefined;
}

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
  readonly #timer: CommandTimer;
  readonly #lockTtl: number;
  readonly #lockWait: number;
  readonly #pollInterval: number;
  /**
   * What `get` last saw per Redis key: a waiter accepts only a token that differs from it. The
   * token parsed from it is kept too, so reading the same text again is one string comparison
   * instead of a JSON parse and the token's checks; any other text is parsed and checked afresh.
   */
  readonly #observed = new Map<string, Observed>();
  /** Redis key per cache key, so that a read does not hash its key again. */
  readonly #entryKeys = new Map<string, string>();

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
    const ms = (min: number, fallback: number) => ({
      default: fallback,
      min,
      max: MAX_TIMER_DELAY,
      integer: true,
    });
    this.#timer = new CommandTimer(numberOption(options.timeout, 'timeout', ms(1, 200)));
    // Renewed every third of its life: below 100 ms a renewal would hardly outpace a slow command.
    this.#lockTtl = numberOption(options.lockTtl, 'lockTtl', ms(100, 15_000));
    this.#lockWait = numberOption(options.lockWait, 'lockWait', ms(0, 60_000));
    this.#pollInterval = numberOption(options.pollInterval, 'pollInterval', ms(1, 50));
  }

  async get(key: string): Promise<CachedToken | undefined> {
    const entryKey = this.#entryKey(key);
    const value = await this.#get(entryKey);
    let observed = this.#observed.get(entryKey);
    if (observed === undefined || observed.value !== value) {
      // Parsed once per value seen; the expiry is checked below, on every read.
      observed = { value, token: parseCachedToken(value) };
      if (this.#observed.size >= MAX_REMEMBERED) this.#observed.clear();
      this.#observed.set(entryKey, observed);
    }
    const token = observed.token;
    if (token === undefined || token.expiresAt <= Date.now()) return undefined;
    // A copy: what the caller does with its token must not change the one remembered.
    return {
      accessToken: token.accessToken,
      expiresAt: token.expiresAt,
      issuedAt: token.issuedAt,
      subject: token.subject,
    };
  }

  async set(key: string, token: CachedToken): Promise<void> {
    const ttl = Math.floor(token.expiresAt - Date.now());
    if (!(ttl > 0)) return;
    await this.#command('SET', () =>
      this.#redis.set(this.#entryKey(key), serializeCachedToken(token), ttl, false),
    );
  }

  async delete(key: string): Promise<void> {
    await this.#command('DEL', () => this.#redis.del(this.#entryKey(key)));
  }

  /**
   * Mints under a Redis lock (`SET NX PX lockTtl`) so that one process of many requests the
   * token; the others poll for it every `pollInterval` for up to `lockWait`, then mint
   * themselves. The holder renews its lock while it mints, so a slow token endpoint does not
   * hand the lock to a second minter; a holder that dies frees it after `lockTtl`. Redis
   * failures are thrown only before `mint` was called, so the client can mint without the cache.
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
    const observed = this.#observed.get(entryKey);
    const before = observed !== undefined ? observed.value : await this.#get(entryKey);
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
    const stopRenewing = this.#keepLocked(lockKey, lockToken);
    try {
      // Another process may have stored its token and let go of the lock just before we took it.
      const stored = this.#fresh(await this.#get(entryKey).catch(() => null), before, minExpiresAt);
      if (stored) return stored;
      return await mint();
    } finally {
      stopRenewing();
      await this.#release(lockKey, lockToken).catch(() => {
        // The lock expires after lockTtl anyway.
      });
    }
  }

  /**
   * Renews our lock every third of `lockTtl` until the returned function is called. Stops for
   * good once the lock is no longer ours (it expired while Redis was away and another process
   * took it); a renewal that fails is retried at the next beat.
   */
  #keepLocked(lockKey: string, lockToken: string): () => void {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const beat = () => {
      timer = setTimeout(
        async () => {
          const renewed = await this.#command('EVAL', () =>
            this.#redis.eval(EXTEND_SCRIPT, [lockKey], [lockToken, String(this.#lockTtl)]),
          ).catch(() => undefined);
          if (!stopped && renewed !== 0) beat();
        },
        Math.floor(this.#lockTtl / 3),
      );
      // The mint keeps the process alive while it runs; the heartbeat alone need not.
      timer.unref?.();
    };
    beat();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  /** The token in `value` when it is usable, not the one the caller already had, and new enough. */
  #fresh(
    value: string | null,
    before: string | null,
    minExpiresAt: number,
  ): CachedToken | undefined {
    if (value === before) return undefined;
    const token = readCachedToken(value, Date.now());
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
        this.#timer
          .run('EVAL', () => this.#redis.eval(RELEASE_SCRIPT, [lockKey], [lockToken]))
          .catch(() => {});
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
    return this.#timer.run(name, run);
  }

  #entryKey(key: string): string {
    let entryKey = this.#entryKeys.get(key);
    if (entryKey === undefined) {
      entryKey = this.#prefix + sha256(key);
      if (this.#entryKeys.size >= MAX_REMEMBERED) this.#entryKeys.clear();
      this.#entryKeys.set(key, entryKey);
    }
    return entryKey;
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
