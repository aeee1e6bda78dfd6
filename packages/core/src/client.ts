import { AccessToken, authorizationHeader } from './access-token.js';
import { MAX_ASSERTION_LIFETIME, signAssertion } from './assertion.js';
import type { CachedToken, TokenCache } from './cache/types.js';
import { DEFAULT_ISSUER, discoverTokenEndpoint } from './discovery.js';
import {
  AbortError,
  ConfigurationError,
  DrillsterAuthError,
  TokenEndpointError,
} from './errors.js';
import type { DrillsterAuthEvent, DrillsterAuthEventListener } from './events.js';
import { createHttpClient, type HttpClient, requireSecureUrl } from './http.js';
import {
  parseServiceAccountKey,
  type ServiceAccountKey,
  type ServiceAccountKeyFile,
} from './key-file.js';
import { denoInspect, nodeInspect, REDACTED } from './redact.js';
import {
  isRetryable,
  type RetryOptions,
  type RetryPolicy,
  retryDelay,
  retryPolicy,
  sleep,
} from './retry.js';
import { exchangeAssertion } from './token-endpoint.js';

/** Options of {@link createDrillsterAuth}. */
export interface DrillsterAuthOptions {
  /** The service account key: the JSON key file's text, its parsed object, or a {@link ServiceAccountKey}. */
  key: string | ServiceAccountKeyFile | ServiceAccountKey;
  /** Client id of your registered client application. */
  clientId: string;
  /** Client secret of your registered client application. */
  clientSecret: string;
  /** Authorization server whose metadata names the token endpoint. Default `https://www.drillster.com`. Ignored when `tokenEndpoint` is set. */
  issuer?: string;
  /** Token endpoint URL; skips discovery. Must be https (or http on loopback). */
  tokenEndpoint?: string;
  /** A shared token store (Redis, Workers KV…) consulted before minting. Default: none; each client keeps its tokens in memory. */
  cache?: TokenCache;
  /** Milliseconds the `cache` store is left alone after it failed, so an outage costs one timeout rather than one per token. Default 5000; 0 tries it every time. */
  cacheFailurePause?: number;
  /** Most subjects whose tokens this client keeps in memory; beyond it the oldest idle subjects are dropped. Default 1000. */
  maxSubjects?: number;
  /** Lifetime of signed assertions, in seconds. Default 300, at most 3600. */
  assertionLifetime?: number;
  /** When a cached token is refreshed ahead of expiry, and when it is no longer served. */
  refresh?: {
    /** Refresh in the background during the last this-many seconds of a token's life… Default 300. */
    windowSeconds?: number;
    /** …or the last this fraction of it, whichever is shorter. Default 0.1. */
    windowRatio?: number;
    /** Never serve a token this many seconds or less from expiry (at most half its life, for tokens that live under a minute). Default 30. */
    expiryMarginSeconds?: number;
  };
  /** Lifetime assumed when the token response has no `expires_in` and the token is not a JWT, in seconds. Default 300. */
  defaultExpiresIn?: number;
  /** Timeout of each HTTP request, in milliseconds. Default 10000. */
  timeout?: number;
  /** Retries of transient failures, or `false` for none. Default 3 attempts in all. */
  retry?: RetryOptions | false;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
  /** Clock, milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
  /** Receives events for logs and metrics. Default: none. */
  onEvent?: DrillsterAuthEventListener;
}

/** Options of {@link DrillsterAuth.getAccessToken}. */
export interface GetAccessTokenOptions {
  /** Whom the token is for: a managed user's id, email or third-party id. Default: the service account itself. */
  subject?: string;
  /** Skip the caches and get a new token. */
  forceRefresh?: boolean;
  /** Stops waiting for the token. A request other callers share goes on. */
  signal?: AbortSignal;
}

/** The clock must differ this much from the server's before assertions are corrected. */
const SKEW_TOLERANCE_MS = 30_000;

interface Slot {
  token: AccessToken | undefined;
  /** From here on, a hit also starts a background refresh. */
  refreshAt: number;
  /** From here on, the token is not served. */
  staleAt: number;
  inflight: Promise<AccessToken> | undefined;
  inflightMode: FetchMode | undefined;
}

/** `force` skips the shared cache; `background` replaces a token that is still being served. */
type FetchMode = 'normal' | 'force' | 'background';

/**
 * Gets, caches and refreshes Drillster access tokens for a service account and the users it
 * manages. Concurrent callers share one token request; a cached token costs a map lookup.
 *
 * Create one with {@link createDrillsterAuth} and keep it for the life of the process.
 */
export class DrillsterAuth {
  readonly #key: ServiceAccountKey;
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #issuer: string;
  #tokenEndpoint: Promise<string> | undefined;
  #tokenEndpointUrl: string | undefined;
  readonly #cache: TokenCache | undefined;
  readonly #slots = new Map<string, Slot>();
  readonly #maxSubjects: number;
  readonly #assertionLifetime: number;
  readonly #windowMs: number;
  readonly #windowRatio: number;
  readonly #marginMs: number;
  readonly #defaultExpiresIn: number;
  readonly #retry: RetryPolicy;
  readonly #http: HttpClient;
  readonly #clock: () => number;
  readonly #onEvent: DrillsterAuthEventListener | undefined;
  readonly #closed = new AbortController();
  #clockOffset = 0;
  readonly #cachePause: number;
  /** After a failure of the shared store, it is skipped until this time. */
  #storeResumesAt = 0;

  constructor(options: DrillsterAuthOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('ERR_INVALID_OPTIONS', 'DrillsterAuth needs an options object');
    }
    this.#key = parseServiceAccountKey(options.key);
    this.#clientId = requireText(options.clientId, 'clientId');
    this.#clientSecret = requireText(options.clientSecret, 'clientSecret');
    this.#issuer = options.issuer ?? DEFAULT_ISSUER;
    requireSecureUrl(this.#issuer, 'issuer');
    if (options.tokenEndpoint !== undefined) {
      this.#tokenEndpointUrl = requireSecureUrl(options.tokenEndpoint, 'tokenEndpoint').href;
      this.#tokenEndpoint = Promise.resolve(this.#tokenEndpointUrl);
    }
    this.#cache = options.cache;
    this.#cachePause = requireNumber(
      options.cacheFailurePause,
      'cacheFailurePause',
      5000,
      0,
      Infinity,
    );
    this.#maxSubjects = requireNumber(options.maxSubjects, 'maxSubjects', 1000, 1, Infinity);
    this.#assertionLifetime = requireNumber(
      options.assertionLifetime,
      'assertionLifetime',
      300,
      1,
      MAX_ASSERTION_LIFETIME,
    );
    this.#windowMs =
      requireNumber(options.refresh?.windowSeconds, 'refresh.windowSeconds', 300, 0, Infinity) *
      1000;
    this.#windowRatio = requireNumber(
      options.refresh?.windowRatio,
      'refresh.windowRatio',
      0.1,
      0,
      1,
    );
    this.#marginMs =
      requireNumber(
        options.refresh?.expiryMarginSeconds,
        'refresh.expiryMarginSeconds',
        30,
        0,
        Infinity,
      ) * 1000;
    this.#defaultExpiresIn = requireNumber(
      options.defaultExpiresIn,
      'defaultExpiresIn',
      300,
      1,
      Infinity,
    );
    this.#retry = retryPolicy(options.retry);
    this.#http = createHttpClient({
      timeout: requireNumber(options.timeout, 'timeout', 10_000, 1, Infinity),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.#clock = options.clock ?? Date.now;
    this.#onEvent = options.onEvent;
  }

  /** The service account's id. */
  get serviceAccountId(): string {
    return this.#key.serviceAccountId;
  }

  /**
   * An access token for `subject` (default: the service account). Served from memory while it
   * is fresh; refreshed in the background near its expiry; requested once for all concurrent
   * callers when there is none.
   *
   * @throws {DrillsterAuthError} with a `code` saying what failed.
   */
  async getAccessToken(options?: GetAccessTokenOptions): Promise<AccessToken> {
    return this.#cached(options) ?? this.#fetchShared(options);
  }

  /** `Bearer <access token>`, for an `Authorization` header. Options as for {@link getAccessToken}. */
  async getAuthorizationHeader(options?: GetAccessTokenOptions): Promise<string> {
    return authorizationHeader(this.#cached(options) ?? (await this.#fetchShared(options)));
  }

  /**
   * Forgets the token of `subject` (default: the service account), here and in the shared cache,
   * so the next call gets a new one. With `accessToken`, only if that is still the cached token:
   * many requests that failed with one token then cause one refresh, not many.
   */
  async invalidate(subject?: string, options?: { accessToken?: string }): Promise<void> {
    const name = subject ?? this.#key.serviceAccountId;
    const slot = this.#slots.get(name);
    if (options?.accessToken !== undefined && slot?.token?.accessToken !== options.accessToken) {
      return;
    }
    if (slot) slot.token = undefined;
    if (this.#cache && this.#tokenEndpointUrl !== undefined) {
      await this.#cacheCall('delete', () => this.#cache?.delete(this.#cacheKey(name)));
    }
  }

  /**
   * A freshly signed assertion for `subject`, for debugging or for sending it yourself.
   * It is a credential: treat it like a token.
   */
  async createAssertion(options?: { subject?: string; signal?: AbortSignal }): Promise<string> {
    return signAssertion(this.#key, {
      audience: await this.getTokenEndpoint(options),
      subject: options?.subject,
      lifetime: this.#assertionLifetime,
      now: this.#clock() + this.#clockOffset,
    });
  }

  /** The token endpoint in use, discovering it from the issuer's metadata if needed. */
  getTokenEndpoint(options?: { signal?: AbortSignal }): Promise<string> {
    const signal = options?.signal;
    return signal ? abortable(this.#endpoint(), signal) : this.#endpoint();
  }

  /** Stops background refreshes and retries in flight. Tokens already cached stay usable. */
  close(): void {
    this.#closed.abort(new AbortError('ERR_ABORTED', 'The DrillsterAuth client was closed'));
  }

  toJSON(): Record<string, string> {
    return {
      issuer: this.#issuer,
      tokenEndpoint: this.#tokenEndpointUrl ?? '(not yet discovered)',
      clientId: this.#clientId,
      clientSecret: REDACTED,
      serviceAccountId: this.#key.serviceAccountId,
      keyId: this.#key.keyId,
    };
  }

  toString(): string {
    return `DrillsterAuth(serviceAccountId=${this.#key.serviceAccountId}, clientId=${this.#clientId})`;
  }

  [nodeInspect](): string {
    return this.toString();
  }

  [denoInspect](): string {
    return this.toString();
  }

  /**
   * The hot path: the cached token of the subject while it may be served, starting a background
   * refresh inside the refresh window. No allocation, no I/O.
   */
  #cached(options: GetAccessTokenOptions | undefined): AccessToken | undefined {
    if (options?.forceRefresh === true) return undefined;
    const subject = options?.subject ?? this.#key.serviceAccountId;
    const slot = this.#slots.get(subject);
    if (slot?.token === undefined) return undefined;
    const now = this.#clock();
    if (now >= slot.staleAt) return undefined;
    if (now >= slot.refreshAt && slot.inflight === undefined) {
      this.#refreshInBackground(subject, slot);
    }
    if (this.#onEvent) this.#hit(slot.token);
    return slot.token;
  }

  #hit(token: AccessToken): void {
    this.#emit({
      type: 'cache_hit',
      subject: token.subject,
      expiresAt: token.expiresAt,
      source: 'memory',
    });
  }

  #emit(event: DrillsterAuthEvent): void {
    if (!this.#onEvent) return;
    try {
      this.#onEvent(event);
    } catch {
      // A listener's failure must not become the caller's.
    }
  }

  #slot(subject: string): Slot {
    let slot = this.#slots.get(subject);
    if (slot === undefined) {
      slot = {
        token: undefined,
        refreshAt: 0,
        staleAt: 0,
        inflight: undefined,
        inflightMode: undefined,
      };
      this.#slots.set(subject, slot);
      if (this.#slots.size > this.#maxSubjects) this.#evict();
    }
    return slot;
  }

  /** Drops slots without a servable token first, then the oldest; never one with a request in flight. */
  #evict(): void {
    const now = this.#clock();
    for (const onlyStale of [true, false]) {
      for (const [subject, slot] of this.#slots) {
        if (this.#slots.size <= this.#maxSubjects) return;
        if (slot.inflight !== undefined) continue;
        if (!onlyStale || slot.token === undefined || slot.staleAt <= now) {
          this.#slots.delete(subject);
        }
      }
    }
  }

  #fetchShared(options: GetAccessTokenOptions | undefined): Promise<AccessToken> {
    const subject = options?.subject ?? this.#key.serviceAccountId;
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (typeof subject !== 'string' || subject === '') {
      return Promise.reject(
        new ConfigurationError('ERR_INVALID_OPTIONS', 'subject must be a non-empty string'),
      );
    }
    const slot = this.#slot(subject);
    const mode = options?.forceRefresh === true ? 'force' : 'normal';
    if (slot.inflight === undefined || (mode === 'force' && slot.inflightMode !== 'force')) {
      this.#startFetch(subject, slot, mode);
    }
    const shared = slot.inflight!;
    return signal ? abortable(shared, signal) : shared;
  }

  #refreshInBackground(subject: string, slot: Slot): void {
    this.#startFetch(subject, slot, 'background').catch(() => {
      // Reported as a token_failed event; callers keep the current token until it goes stale.
    });
  }

  #startFetch(subject: string, slot: Slot, mode: FetchMode): Promise<AccessToken> {
    const inflight = this.#fetch(subject, slot, mode).finally(() => {
      if (slot.inflight === inflight) {
        slot.inflight = undefined;
        slot.inflightMode = undefined;
      }
    });
    slot.inflight = inflight;
    slot.inflightMode = mode;
    return inflight;
  }

  /**
   * Gets a token for `subject` into its slot: from the shared cache when it has a good one, else
   * from the token endpoint. `force` skips the shared cache; `background` refreshes a token that
   * is still served, so only a token expiring later than it will do.
   */
  async #fetch(subject: string, slot: Slot, mode: FetchMode): Promise<AccessToken> {
    const background = mode === 'background';
    try {
      const endpoint = await this.#endpoint();
      const cache = this.#storePaused() ? undefined : this.#cache;
      if (!cache) return this.#fill(slot, await this.#mint(subject, background));
      const key = this.#cacheKey(subject, endpoint);
      if (mode === 'force')
        return this.#fill(slot, await this.#mintAndStore(cache, key, subject, false));
      const minExpiresAt = background && slot.token ? slot.token.expiresAt + 1 : 0;
      const cached = await this.#cacheCall('get', () => cache.get(key));
      if (cached !== undefined && this.#usable(cached, minExpiresAt)) {
        this.#emit({ type: 'cache_hit', subject, expiresAt: cached.expiresAt, source: 'store' });
        return this.#fill(slot, cached);
      }
      if (this.#storePaused()) return this.#fill(slot, await this.#mint(subject, background));
      return this.#fill(
        slot,
        await this.#mintShared(cache, key, subject, background, minExpiresAt),
      );
    } catch (error) {
      const failure = asAuthError(error);
      this.#emit({ type: 'token_failed', subject, background, error: failure });
      throw failure;
    }
  }

  async #mintAndStore(
    cache: TokenCache,
    key: string,
    subject: string,
    background: boolean,
  ): Promise<CachedToken> {
    const token = await this.#mint(subject, background);
    if (!this.#storePaused()) await this.#cacheCall('set', () => cache.set(key, token));
    return token;
  }

  /** Mints through the store's cross-process single flight when it has one. */
  async #mintShared(
    cache: TokenCache,
    key: string,
    subject: string,
    background: boolean,
    minExpiresAt: number,
  ): Promise<CachedToken> {
    if (!cache.singleFlight) return this.#mintAndStore(cache, key, subject, background);
    let minted: Promise<CachedToken> | undefined;
    const mintOnce = () => {
      minted ??= this.#mintAndStore(cache, key, subject, background);
      return minted;
    };
    try {
      const token = await cache.singleFlight(key, mintOnce, {
        signal: this.#closed.signal,
        minExpiresAt,
      });
      return this.#usable(token, minExpiresAt) ? token : mintOnce();
    } catch (error) {
      // Our own mint's failure is the answer; the store's failure is not.
      if (minted) return minted;
      this.#storeFailed('singleFlight', error);
      return mintOnce();
    }
  }

  /** Whether a token from the shared cache may be served: well-formed, not about to expire, new enough. */
  #usable(token: CachedToken, minExpiresAt: number): boolean {
    return (
      typeof token?.accessToken === 'string' &&
      typeof token.expiresAt === 'number' &&
      typeof token.issuedAt === 'number' &&
      token.expiresAt >= minExpiresAt &&
      token.expiresAt - this.#margin(token) > this.#clock()
    );
  }

  #fill(slot: Slot, cached: CachedToken): AccessToken {
    const token = new AccessToken(cached.accessToken, cached.expiresAt, cached.subject);
    const lifetime = cached.expiresAt - cached.issuedAt;
    const window = Math.min(this.#windowMs, lifetime * this.#windowRatio);
    slot.staleAt = cached.expiresAt - this.#margin(cached);
    slot.refreshAt = Math.min(cached.expiresAt - window, slot.staleAt);
    slot.token = token;
    return token;
  }

  /**
   * How long before expiry a token stops being served: `expiryMarginSeconds`, but at most half
   * its life, so a token that lives under a minute is still cached rather than minted per call.
   */
  #margin(token: CachedToken): number {
    return Math.min(this.#marginMs, (token.expiresAt - token.issuedAt) / 2);
  }

  /** Requests a new token, retrying transient failures and correcting for clock skew once. */
  async #mint(subject: string, background: boolean): Promise<CachedToken> {
    const endpoint = await this.#endpoint();
    let skewCorrected = false;
    for (let attempt = 1; ; attempt++) {
      this.#emit({ type: 'token_requested', subject, attempt, background });
      const started = this.#clock();
      try {
        const assertion = await signAssertion(this.#key, {
          audience: endpoint,
          subject,
          lifetime: this.#assertionLifetime,
          now: started + this.#clockOffset,
        });
        const response = await exchangeAssertion(this.#http, {
          tokenEndpoint: endpoint,
          clientId: this.#clientId,
          clientSecret: this.#clientSecret,
          assertion,
          fallbackExpiresIn: this.#defaultExpiresIn,
          now: started + this.#clockOffset,
          signal: this.#closed.signal,
        });
        const expiresAt = Math.round(started + response.expiresIn * 1000);
        this.#emit({
          type: 'token_issued',
          subject,
          expiresAt,
          lifetime: response.expiresIn,
          durationMs: this.#clock() - started,
        });
        return { accessToken: response.accessToken, expiresAt, issuedAt: started, subject };
      } catch (error) {
        if (!skewCorrected && this.#correctSkew(error)) {
          skewCorrected = true;
          attempt--;
          continue;
        }
        if (attempt >= this.#retry.attempts || !isRetryable(error)) throw error;
        const delayMs = retryDelay(this.#retry, attempt, error);
        if (delayMs === undefined) throw error;
        this.#emit({ type: 'retry', subject, attempt, delayMs, error });
        await sleep(delayMs, this.#closed.signal);
      }
    }
  }

  /** On `invalid_grant`, adopts the server's clock when its `Date` is far from ours. */
  #correctSkew(error: unknown): boolean {
    if (!(error instanceof TokenEndpointError) || error.error !== 'invalid_grant') return false;
    const date = error.response.headers.get('date');
    const serverNow = date === null ? Number.NaN : Date.parse(date);
    if (Number.isNaN(serverNow)) return false;
    const offset = serverNow - this.#clock();
    if (Math.abs(offset - this.#clockOffset) <= SKEW_TOLERANCE_MS) return false;
    this.#clockOffset = offset;
    this.#emit({ type: 'clock_skew', offsetMs: offset });
    return true;
  }

  /** The token endpoint, discovered once for all callers (so one caller's abort cannot fail the others'). */
  #endpoint(): Promise<string> {
    if (this.#tokenEndpoint === undefined) {
      const discovered = discoverTokenEndpoint(this.#http, this.#issuer, {
        signal: this.#closed.signal,
        retry: this.#retry,
        clock: this.#clock,
      }).then(
        (url) => {
          this.#tokenEndpointUrl = url;
          return url;
        },
        (error: unknown) => {
          this.#tokenEndpoint = undefined;
          throw error;
        },
      );
      this.#tokenEndpoint = discovered;
    }
    return this.#tokenEndpoint;
  }

  #cacheKey(subject: string, endpoint = this.#tokenEndpointUrl): string {
    return `drillster-auth:v1:${endpoint}|${this.#clientId}|${this.#key.serviceAccountId}|${this.#key.keyId}|${subject}`;
  }

  async #cacheCall<T>(
    operation: 'get' | 'set' | 'delete',
    call: () => T | Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      this.#storeFailed(operation, error);
      return undefined;
    }
  }

  #storePaused(): boolean {
    return this.#clock() < this.#storeResumesAt;
  }

  /** Reports a failure of the shared store and leaves it alone for a while, so an outage costs one timeout, not one per token. */
  #storeFailed(operation: 'get' | 'set' | 'delete' | 'singleFlight', error: unknown): void {
    this.#storeResumesAt = this.#clock() + this.#cachePause;
    this.#emit({ type: 'cache_error', operation, error });
  }
}

/**
 * Creates a {@link DrillsterAuth} client. The key file is validated at once.
 *
 * @throws {KeyFileError} when the key is unusable; {@link ConfigurationError} for other options.
 */
export function createDrillsterAuth(options: DrillsterAuthOptions): DrillsterAuth {
  return new DrillsterAuth(options);
}

function requireText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', `${name} must be a non-empty string`);
  }
  return value;
}

function requireNumber(
  value: unknown,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      `${name} must be a number from ${min} to ${max}`,
    );
  }
  return value;
}

function asAuthError(error: unknown): DrillsterAuthError {
  if (error instanceof DrillsterAuthError) return error;
  return new DrillsterAuthError('ERR_UNEXPECTED', 'Getting an access token failed unexpectedly', {
    cause: error,
  });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function abortError(signal: AbortSignal): AbortError {
  return new AbortError('ERR_ABORTED', 'Waiting for the access token was aborted', {
    cause: signal.reason,
  });
}
