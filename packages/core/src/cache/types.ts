/** A token as a {@link TokenCache} stores it. Plain data, so a cache can serialize it. */
export interface CachedToken {
  accessToken: string;
  /** Milliseconds since the epoch at which the token expires. */
  expiresAt: number;
  /** Milliseconds since the epoch at which the token was issued. */
  issuedAt: number;
  /** Whom the token is for. */
  subject: string;
}

/**
 * Where tokens are kept beyond one client: a Redis server, a Workers KV namespace, a map shared
 * by several clients. Methods may answer synchronously or with a promise. A cache sets its own
 * expiry from `token.expiresAt`. Failures are reported as `cache_error` events and never fail
 * `getAccessToken()`; after one, the client skips the cache for its `cacheFailurePause`.
 */
export interface TokenCache {
  get(key: string): CachedToken | undefined | Promise<CachedToken | undefined>;
  set(key: string, token: CachedToken): void | Promise<void>;
  delete(key: string): void | Promise<void>;
  /**
   * Optional: lets one of many processes mint while the others wait for its result. Called on
   * a miss; `mint` requests a token and stores it with `set`. Return the token to use: the one
   * `mint` produced, or one another process stored meanwhile whose `expiresAt` is at least
   * `minExpiresAt` (a refresh ahead of expiry must not be answered by the token it replaces).
   * Throw only before calling `mint`: the client then mints by itself.
   */
  singleFlight?(
    key: string,
    mint: () => Promise<CachedToken>,
    options: SingleFlightOptions,
  ): Promise<CachedToken>;
}

/** Options of {@link TokenCache.singleFlight}. */
export interface SingleFlightOptions {
  /** Fires when the client is closed. */
  signal?: AbortSignal | undefined;
  /** Only a token expiring at or after this time (milliseconds since the epoch) answers; 0 for any. */
  minExpiresAt?: number | undefined;
}
