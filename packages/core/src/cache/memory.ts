import { ConfigurationError } from '../errors.js';
import { numberOption } from '../validate.js';
import type { CachedToken, TokenCache } from './types.js';

/** Options of {@link MemoryTokenCache}. */
export interface MemoryTokenCacheOptions {
  /** Most entries kept, a whole number from 1 to 2^53 − 1; the least recently used goes first. Default 1000. */
  maxEntries?: number;
  /** Clock, milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/**
 * A bounded in-memory LRU {@link TokenCache}. Every client already keeps its own tokens in
 * memory; share one of these between several clients of one process to share their tokens.
 */
export class MemoryTokenCache implements TokenCache {
  readonly #entries = new Map<string, CachedToken>();
  readonly #maxEntries: number;
  readonly #clock: () => number;

  /** @throws {ConfigurationError} `ERR_INVALID_OPTIONS` naming an invalid option. */
  constructor(options: MemoryTokenCacheOptions = {}) {
    this.#maxEntries = numberOption(options.maxEntries, 'maxEntries', {
      default: 1000,
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
      integer: true,
    });
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new ConfigurationError('ERR_INVALID_OPTIONS', 'clock must be a function');
    }
    this.#clock = options.clock ?? Date.now;
  }

  /** Number of entries held, expired ones included until they are next read or evicted. */
  get size(): number {
    return this.#entries.size;
  }

  get(key: string): CachedToken | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.#clock()) return undefined;
    this.#entries.set(key, entry);
    return entry;
  }

  set(key: string, token: CachedToken): void {
    this.#entries.delete(key);
    this.#entries.set(key, token);
    while (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
