import { isSaneCachedToken } from './cache/serialize.js';
import type { CachedToken, TokenCache } from './cache/types.js';
import type { DrillsterAuthEvent } from './events.js';
import { expiryMargin, type SlotTiming } from './token-slots.js';

/** A cached token issued this far in our future comes from a clock we do not trust. */
const MAX_FUTURE_ISSUE_MS = 5 * 60_000;

type CacheOperation = 'get' | 'set' | 'delete' | 'singleFlight';

/**
 * The guard around a shared {@link TokenCache}: its failures are reported and never thrown, after
 * one it is left alone for a pause (so an outage costs one timeout, not one per token), what it
 * hands back is checked before it is served, and minting goes through its cross-process single
 * flight when it has one.
 */
export class SharedCache {
  readonly cache: TokenCache;
  readonly #pause: number;
  readonly #timing: SlotTiming;
  readonly #clock: () => number;
  readonly #emit: (event: DrillsterAuthEvent) => void;
  /** After a failure of the cache, it is skipped until this time. */
  #resumesAt = 0;

  /** `pause` in milliseconds; `clock` in milliseconds since the epoch. */
  constructor(
    cache: TokenCache,
    pause: number,
    timing: SlotTiming,
    clock: () => number,
    emit: (event: DrillsterAuthEvent) => void,
  ) {
    this.cache = cache;
    this.#pause = pause;
    this.#timing = timing;
    this.#clock = clock;
    this.#emit = emit;
  }

  /** Whether the cache is being left alone after a failure. */
  paused(): boolean {
    return this.#clock() < this.#resumesAt;
  }

  /** Runs one cache call; a failure is reported, pauses the cache and gives `undefined`. */
  async call<T>(
    operation: 'get' | 'set' | 'delete',
    call: () => T | Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      this.failed(operation, error);
      return undefined;
    }
  }

  /** Reports a failure of the cache and leaves it alone for the pause. */
  failed(operation: CacheOperation, error: unknown): void {
    this.#resumesAt = this.#clock() + this.#pause;
    this.#emit({ type: 'cache_error', operation, error });
  }

  /**
   * Whether a token from the cache may be served: well-formed (a `b64token`, sane times: issued
   * at most 5 minutes in our future, living at most 24 h), for this subject, expiring no earlier
   * than `minExpiresAt`, and not about to expire. A shared cache is outside our process: any of this may
   * be wrong in it.
   */
  usable(token: CachedToken, subject: string, minExpiresAt: number): boolean {
    const now = this.#clock();
    return (
      isSaneCachedToken(token) &&
      token.subject === subject &&
      token.issuedAt <= now + MAX_FUTURE_ISSUE_MS &&
      token.expiresAt >= minExpiresAt &&
      token.expiresAt - expiryMargin(this.#timing, token) > now
    );
  }

  /** Mints and, unless the cache is paused meanwhile, stores the token under `key`. */
  async mintAndStore(key: string, mint: () => Promise<CachedToken>): Promise<CachedToken> {
    const token = await mint();
    if (!this.paused()) await this.call('set', () => this.cache.set(key, token));
    return token;
  }

  /**
   * Mints through the cache's cross-process single flight when it has one. `minted` says
   * whether the token is the one this process minted (not another process's).
   */
  async mintShared(
    key: string,
    subject: string,
    mint: () => Promise<CachedToken>,
    minExpiresAt: number,
    signal: AbortSignal,
  ): Promise<{ token: CachedToken; minted: boolean }> {
    let minted: Promise<CachedToken> | undefined;
    const mintOnce = () => {
      minted ??= this.mintAndStore(key, mint);
      return minted;
    };
    const ours = async () => ({ token: await mintOnce(), minted: true });
    if (!this.cache.singleFlight) return ours();
    try {
      const token = await this.cache.singleFlight(key, mintOnce, { signal, minExpiresAt });
      if (minted !== undefined && token === (await minted.catch(() => undefined))) {
        return { token, minted: true };
      }
      return this.usable(token, subject, minExpiresAt) ? { token, minted: false } : ours();
    } catch (error) {
      // Our own mint's failure is the answer; the cache's failure is not.
      if (!minted) this.failed('singleFlight', error);
      return ours();
    }
  }
}
