import { AccessToken, authorizationHeader } from './access-token.js';
import { MAX_ASSERTION_LIFETIME, signAssertion } from './assertion.js';
import { isSaneCachedToken } from './cache/serialize.js';
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
  backoffDelay,
  isRetryable,
  type RetryOptions,
  type RetryPolicy,
  retryDelay,
  retryPolicy,
  sleep,
} from './retry.js';
import { exchangeAssertion, MAX_TOKEN_LIFETIME } from './token-endpoint.js';
import { MAX_TIMER_DELAY, numberOption, textOption } from './validate.js';

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
  /** Milliseconds the `cache` store is left alone after it failed, so an outage costs one timeout rather than one per token; from 0 to 2^31 − 1. Default 5000; 0 tries it every time. */
  cacheFailurePause?: number;
  /**
   * Most subjects whose tokens this client keeps in memory, a whole number of at least 1.
   * Beyond it a subject is dropped to make room: one whose token went stale or that was not used
   * since the last sweep; never one whose request is in flight (so while more requests than this
   * are in flight, more subjects are kept). Default 1000.
   */
  maxSubjects?: number;
  /** Lifetime of signed assertions, in whole seconds from 1 to 3600. Default 300. */
  assertionLifetime?: number;
  /** When a cached token is refreshed ahead of expiry, and when it is no longer served. */
  refresh?: {
    /** Refresh in the background during the last this-many seconds of a token's life (0 to 86400)… Default 300. */
    windowSeconds?: number;
    /** …or the last this fraction of it (0 to 1), whichever is shorter. Default 0.1. */
    windowRatio?: number;
    /** Never serve a token this many seconds or less from expiry (0 to 86400; at most half its life, for tokens that live under a minute). Default 30. */
    expiryMarginSeconds?: number;
  };
  /** Lifetime assumed when the token response has no `expires_in` and the token is not a JWT, in seconds from 1 to 86400. Default 300. */
  defaultExpiresIn?: number;
  /** Timeout of each HTTP request, in whole milliseconds from 1 to 2^31 − 1. Default 10000. */
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
  /**
   * Whom the token is for: a managed user's id, email or third-party id, a non-empty string.
   * Default (`undefined`, and only `undefined`): the service account itself. `null`, `''` or a
   * non-string fail with {@link ConfigurationError} `ERR_INVALID_OPTIONS`.
   */
  subject?: string;
  /** Skip the caches and get a new token. */
  forceRefresh?: boolean;
  /**
   * Least time the token must still be valid for, in seconds, from 0 to 86400. A cached token,
   * in memory or in the shared store, that expires sooner is not served: the caller gets a new
   * one, shared with concurrent callers as usual. Default 0: any token outside
   * `refresh.expiryMarginSeconds` of its expiry. When the token endpoint issues tokens that live
   * shorter than this, the call fails with {@link ConfigurationError} `ERR_INVALID_OPTIONS` after
   * that one request, and at once (without a request) while that token is held.
   */
  minValidity?: number;
  /** Stops waiting for the token. A request other callers share goes on. */
  signal?: AbortSignal;
}

/** The clock must differ this much from the server's before assertions are corrected. */
const SKEW_TOLERANCE_MS = 30_000;

/** A stored token issued this far in our future comes from a clock we do not trust. */
const MAX_FUTURE_ISSUE_MS = 5 * 60_000;

/**
 * Backoff between failed background refreshes: full jitter, from 1 s doubling to at most 60 s.
 * Each attempt already made its own retries; this spaces out the attempts that cache hits start.
 */
const BACKGROUND_BACKOFF_BASE_MS = 1000;
const BACKGROUND_BACKOFF_MAX_MS = 60_000;

/** Largest `minValidity`, refresh window and margin, in seconds: the longest token lifetime believed. */
const MAX_LIFETIME_SECONDS = MAX_TOKEN_LIFETIME;

interface Slot {
  token: AccessToken | undefined;
  /** From here on, a hit also starts a background refresh; pushed back after a failed one. */
  refreshAt: number;
  /** From here on, the token is not served. */
  staleAt: number;
  /** Lifetime of `token`, in milliseconds. */
  lifetime: number;
  inflight: Promise<Filled> | undefined;
  inflightMode: FetchMode | undefined;
  /** Set by each hit, cleared by the eviction sweep: a used slot gets a second chance. */
  used: boolean;
  /** Background refreshes that failed in a row, for the backoff between them. */
  failures: number;
}

/** What a fetch put into its slot. */
interface Filled {
  token: AccessToken;
  /** Lifetime of `token`, in milliseconds. */
  lifetime: number;
  /** Minted by this fetch, not read from the shared store: no newer token is to be had. */
  minted: boolean;
  /** The `minValidity` (milliseconds) the fetch was made for: its callers need not check again. */
  minValidity: number;
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
  /** The service account's id: the subject when none is given. */
  readonly #ownSubject: string;
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
    this.#ownSubject = this.#key.serviceAccountId;
    this.#clientId = textOption(options.clientId, 'clientId');
    this.#clientSecret = textOption(options.clientSecret, 'clientSecret');
    this.#issuer = options.issuer ?? DEFAULT_ISSUER;
    requireSecureUrl(this.#issuer, 'issuer');
    if (options.tokenEndpoint !== undefined) {
      this.#tokenEndpointUrl = requireSecureUrl(options.tokenEndpoint, 'tokenEndpoint').href;
      this.#tokenEndpoint = Promise.resolve(this.#tokenEndpointUrl);
    }
    this.#cache = options.cache;
    this.#cachePause = numberOption(options.cacheFailurePause, 'cacheFailurePause', {
      default: 5000,
      min: 0,
      max: MAX_TIMER_DELAY,
    });
    this.#maxSubjects = numberOption(options.maxSubjects, 'maxSubjects', {
      default: 1000,
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
      integer: true,
    });
    this.#assertionLifetime = numberOption(options.assertionLifetime, 'assertionLifetime', {
      default: 300,
      min: 1,
      max: MAX_ASSERTION_LIFETIME,
      integer: true,
    });
    const seconds = (value: number | undefined, name: string, fallback: number) =>
      numberOption(value, name, { default: fallback, min: 0, max: MAX_LIFETIME_SECONDS });
    this.#windowMs = seconds(options.refresh?.windowSeconds, 'refresh.windowSeconds', 300) * 1000;
    this.#windowRatio = numberOption(options.refresh?.windowRatio, 'refresh.windowRatio', {
      default: 0.1,
      min: 0,
      max: 1,
    });
    this.#marginMs =
      seconds(options.refresh?.expiryMarginSeconds, 'refresh.expiryMarginSeconds', 30) * 1000;
    this.#defaultExpiresIn = numberOption(options.defaultExpiresIn, 'defaultExpiresIn', {
      default: 300,
      min: 1,
      max: MAX_LIFETIME_SECONDS,
    });
    this.#retry = retryPolicy(options.retry);
    this.#http = createHttpClient({
      timeout: numberOption(options.timeout, 'timeout', {
        default: 10_000,
        min: 1,
        max: MAX_TIMER_DELAY,
        integer: true,
      }),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.#clock = optionalFunction(options.clock, 'clock') ?? Date.now;
    this.#onEvent = optionalFunction(options.onEvent, 'onEvent');
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
   * Forgets the token of `subject` (default: the service account), in memory and in the shared
   * `cache` store, so the next call gets a new one; the store is reached whether or not this
   * client holds the subject in memory. With `accessToken`, each place forgets its token only if
   * it is that one (compare-and-invalidate: the store entry is read and deleted only when it
   * holds it), so many requests that failed with one token cause one refresh, not many. Store
   * failures are reported as `cache_error` events, never thrown. With a store and no token
   * endpoint known yet, the endpoint is discovered first (it is part of the store key).
   *
   * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` for a `subject` that is not a non-empty string.
   */
  async invalidate(subject?: string, options?: { accessToken?: string }): Promise<void> {
    const name = this.#subject(subject);
    const expected = options?.accessToken;
    const slot = this.#slots.get(name);
    if (
      slot?.token !== undefined &&
      (expected === undefined || slot.token.accessToken === expected)
    ) {
      slot.token = undefined;
    }
    const cache = this.#cache;
    if (cache === undefined) return;
    let endpoint = this.#tokenEndpointUrl;
    if (endpoint === undefined) {
      try {
        endpoint = await this.#endpoint();
      } catch {
        return; // Without an endpoint there is no key, and no token of ours to forget.
      }
    }
    const key = this.#cacheKey(name, endpoint);
    if (expected !== undefined) {
      const stored = await this.#cacheCall('get', () => cache.get(key));
      if (stored?.accessToken !== expected) return;
    }
    await this.#cacheCall('delete', () => cache.delete(key));
  }

  /**
   * A freshly signed assertion for `subject` (default: the service account), for debugging or
   * for sending it yourself. It is a credential: treat it like a token.
   *
   * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` for a `subject` that is not a non-empty string.
   */
  async createAssertion(options?: { subject?: string; signal?: AbortSignal }): Promise<string> {
    const subject = this.#subject(options?.subject);
    return signAssertion(this.#key, {
      audience: await this.getTokenEndpoint(options),
      subject,
      lifetime: this.#assertionLifetime,
      now: this.#clock() + this.#clockOffset,
    });
  }

  /** The token endpoint in use, discovering it from the issuer's metadata if needed. */
  getTokenEndpoint(options?: { signal?: AbortSignal }): Promise<string> {
    const signal = options?.signal;
    return signal ? abortable(this.#endpoint(), signal) : this.#endpoint();
  }

  /**
   * Stops background refreshes and retries in flight, and starts no more background refreshes.
   * Tokens already cached stay usable until their expiry margin.
   */
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
   * refresh inside the refresh window. No allocation, no I/O. An invalid `subject` or
   * `minValidity` is never served: it misses, and {@link #fetchShared} refuses it.
   */
  #cached(options: GetAccessTokenOptions | undefined): AccessToken | undefined {
    let subject = this.#ownSubject;
    if (options !== undefined) {
      if (options.forceRefresh === true) return undefined;
      if (options.subject !== undefined) subject = options.subject;
    }
    const slot = this.#slots.get(subject);
    if (slot === undefined) return undefined;
    const token = slot.token;
    if (token === undefined) return undefined;
    const now = this.#clock();
    if (now >= slot.staleAt) return undefined;
    if (options?.minValidity !== undefined && !lasts(token, options.minValidity, now)) {
      return undefined;
    }
    slot.used = true;
    if (now >= slot.refreshAt && slot.inflight === undefined) {
      this.#refreshInBackground(subject, slot);
    }
    if (this.#onEvent) this.#hit(token);
    return token;
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

  /** `subject` as given, or the service account for `undefined` (and only for `undefined`). */
  #subject(subject: unknown): string {
    return subject === undefined ? this.#ownSubject : textOption(subject, 'subject');
  }

  /**
   * Makes room for a new slot, a CLOCK (second chance) sweep from the oldest end of the map: a
   * slot with a request in flight is never dropped (nor, so, the new one, whose request has
   * started); an idle slot whose token is stale or gone, or that no hit used since the sweep last
   * passed it, is dropped at once; a used one is moved to the back with its mark cleared. Every
   * move is paid for by an earlier hit, so this is O(1) amortised, and the hit path only sets a
   * flag. The sweep gives up after two rounds (every slot in flight): the map then holds more
   * than `maxSubjects` until those requests end.
   */
  #evict(): void {
    const now = this.#clock();
    let budget = 2 * this.#slots.size;
    for (const [subject, slot] of this.#slots) {
      if (this.#slots.size <= this.#maxSubjects || budget-- === 0) return;
      this.#slots.delete(subject);
      if (
        slot.inflight !== undefined ||
        (slot.used && slot.token !== undefined && now < slot.staleAt)
      ) {
        slot.used = false;
        this.#slots.set(subject, slot);
      }
    }
  }

  async #fetchShared(options: GetAccessTokenOptions | undefined): Promise<AccessToken> {
    const subject = this.#subject(options?.subject);
    const minValidity =
      numberOption(options?.minValidity, 'minValidity', {
        default: 0,
        min: 0,
        max: MAX_LIFETIME_SECONDS,
      }) * 1000;
    const signal = options?.signal;
    if (signal?.aborted) throw abortError(signal);
    const force = options?.forceRefresh === true;
    const held = this.#slots.get(subject);
    if (
      minValidity > 0 &&
      !force &&
      held?.token !== undefined &&
      held.lifetime < minValidity &&
      this.#clock() < held.staleAt
    ) {
      // The token endpoint's latest token cannot do; asking again now would only mint another.
      throw minValidityTooLong(minValidity, held.lifetime);
    }
    const filled = await this.#shared(subject, force ? 'force' : 'normal', minValidity, signal);
    if (minValidity === 0 || filled.minValidity >= minValidity || filled.minted) {
      if (filled.lifetime < minValidity) throw minValidityTooLong(minValidity, filled.lifetime);
      return filled.token;
    }
    if (filled.token.expiresAt - this.#clock() >= minValidity) return filled.token;
    // A request made for less (a refresh, another caller's) gave a token that expires too soon:
    // get a new one. It is minted, so this ends here.
    const fresh = await this.#shared(subject, 'force', minValidity, signal);
    if (fresh.lifetime < minValidity) throw minValidityTooLong(minValidity, fresh.lifetime);
    return fresh.token;
  }

  /**
   * Joins the subject's request in flight (any, or for `force` a forced one) or starts one, and
   * waits for it (or for `signal`).
   */
  #shared(
    subject: string,
    mode: 'normal' | 'force',
    minValidity: number,
    signal: AbortSignal | undefined,
  ): Promise<Filled> {
    let slot = this.#slots.get(subject);
    const created = slot === undefined;
    if (slot === undefined) {
      slot = {
        token: undefined,
        refreshAt: 0,
        staleAt: 0,
        lifetime: 0,
        inflight: undefined,
        inflightMode: undefined,
        used: false,
        failures: 0,
      };
      this.#slots.set(subject, slot);
    }
    let inflight = slot.inflight;
    if (inflight === undefined || (mode === 'force' && slot.inflightMode !== 'force')) {
      inflight = this.#startFetch(subject, slot, mode, minValidity);
    }
    // Only now, with the new slot's request in flight, so that it cannot be the one dropped.
    if (created && this.#slots.size > this.#maxSubjects) this.#evict();
    return signal ? abortable(inflight, signal) : inflight;
  }

  #refreshInBackground(subject: string, slot: Slot): void {
    if (this.#closed.signal.aborted) return;
    this.#startFetch(subject, slot, 'background', 0).catch(() => {
      // Reported as a token_failed event; callers keep the current token until it goes stale.
    });
  }

  #startFetch(subject: string, slot: Slot, mode: FetchMode, minValidity: number): Promise<Filled> {
    const inflight = this.#fetch(subject, slot, mode, minValidity).finally(() => {
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
   * is still served, so only a token expiring later than it will do; `minValidity` (milliseconds)
   * is how long a token from the shared cache must still be valid.
   */
  async #fetch(subject: string, slot: Slot, mode: FetchMode, minValidity: number): Promise<Filled> {
    const background = mode === 'background';
    const replacing = slot.token;
    try {
      const endpoint = await this.#endpoint();
      const cache = this.#storePaused() ? undefined : this.#cache;
      if (!cache) return this.#fill(slot, await this.#mint(subject, background), true, minValidity);
      const key = this.#cacheKey(subject, endpoint);
      if (mode === 'force') {
        const minted = await this.#mintAndStore(cache, key, subject, false);
        return this.#fill(slot, minted, true, minValidity);
      }
      const minExpiresAt =
        background && replacing
          ? replacing.expiresAt + 1
          : minValidity > 0
            ? this.#clock() + minValidity
            : 0;
      const cached = await this.#cacheCall('get', () => cache.get(key));
      if (cached !== undefined && this.#usable(cached, subject, minExpiresAt)) {
        this.#emit({ type: 'cache_hit', subject, expiresAt: cached.expiresAt, source: 'store' });
        return this.#fill(slot, cached, false, minValidity);
      }
      if (this.#storePaused()) {
        return this.#fill(slot, await this.#mint(subject, background), true, minValidity);
      }
      const shared = await this.#mintShared(cache, key, subject, background, minExpiresAt);
      return this.#fill(slot, shared.token, shared.minted, minValidity);
    } catch (error) {
      const failure = asAuthError(error);
      const retryAt =
        background && slot.token === replacing ? this.#backOff(slot, failure) : undefined;
      this.#emit({
        type: 'token_failed',
        subject,
        background,
        error: failure,
        ...(retryAt === undefined ? {} : { retryAt }),
      });
      throw failure;
    }
  }

  /**
   * After a failed background refresh, holds the next one back (full jitter, doubling, capped;
   * the server's `Retry-After` when it sent one), so that cache hits do not re-fire it. Returns
   * when the next attempt may start, or `undefined` when the token goes stale first.
   */
  #backOff(slot: Slot, error: DrillsterAuthError): number | undefined {
    slot.failures += 1;
    const delay =
      error instanceof TokenEndpointError && error.retryAfter !== undefined
        ? error.retryAfter * 1000
        : // At least 1 ms: a failure must not re-fire within the same millisecond.
          1 + backoffDelay(slot.failures, BACKGROUND_BACKOFF_BASE_MS, BACKGROUND_BACKOFF_MAX_MS);
    const retryAt = this.#clock() + delay;
    slot.refreshAt = retryAt;
    return retryAt < slot.staleAt ? retryAt : undefined;
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

  /**
   * Mints through the store's cross-process single flight when it has one. `minted` says
   * whether the token is the one this process minted (not another process's).
   */
  async #mintShared(
    cache: TokenCache,
    key: string,
    subject: string,
    background: boolean,
    minExpiresAt: number,
  ): Promise<{ token: CachedToken; minted: boolean }> {
    let minted: Promise<CachedToken> | undefined;
    const mintOnce = () => {
      minted ??= this.#mintAndStore(cache, key, subject, background);
      return minted;
    };
    const ours = async () => ({ token: await mintOnce(), minted: true });
    if (!cache.singleFlight) return ours();
    try {
      const token = await cache.singleFlight(key, mintOnce, {
        signal: this.#closed.signal,
        minExpiresAt,
      });
      if (minted !== undefined && token === (await minted.catch(() => undefined))) {
        return { token, minted: true };
      }
      return this.#usable(token, subject, minExpiresAt) ? { token, minted: false } : ours();
    } catch (error) {
      // Our own mint's failure is the answer; the store's failure is not.
      if (!minted) this.#storeFailed('singleFlight', error);
      return ours();
    }
  }

  /**
   * Whether a token from the shared cache may be served: well-formed (a `b64token`, sane times:
   * issued at most 5 minutes in our future, living at most 24 h), for this subject, new enough,
   * and not about to expire. A store is outside our process: any of this may be wrong in it.
   */
  #usable(token: CachedToken, subject: string, minExpiresAt: number): boolean {
    const now = this.#clock();
    return (
      isSaneCachedToken(token) &&
      token.subject === subject &&
      token.issuedAt <= now + MAX_FUTURE_ISSUE_MS &&
      token.expiresAt >= minExpiresAt &&
      token.expiresAt - this.#margin(token) > now
    );
  }

  #fill(slot: Slot, cached: CachedToken, minted: boolean, minValidity: number): Filled {
    const token = new AccessToken(cached.accessToken, cached.expiresAt, cached.subject);
    const lifetime = cached.expiresAt - cached.issuedAt;
    const window = Math.min(this.#windowMs, lifetime * this.#windowRatio);
    slot.staleAt = cached.expiresAt - this.#margin(cached);
    slot.refreshAt = Math.min(cached.expiresAt - window, slot.staleAt);
    slot.lifetime = lifetime;
    slot.failures = 0;
    slot.token = token;
    return { token, lifetime, minted, minValidity };
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

function optionalFunction<T>(value: T | undefined, name: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', `${name} must be a function`);
  }
  return value;
}

/**
 * Whether `token` is valid for `minValidity` seconds more. `false` for an invalid `minValidity`
 * too, so that the call misses and the slow path refuses it with the option's name.
 */
function lasts(token: AccessToken, minValidity: number, now: number): boolean {
  return (
    typeof minValidity === 'number' &&
    minValidity >= 0 &&
    minValidity <= MAX_LIFETIME_SECONDS &&
    token.expiresAt - now >= minValidity * 1000
  );
}

function minValidityTooLong(minValidity: number, lifetime: number): ConfigurationError {
  return new ConfigurationError(
    'ERR_INVALID_OPTIONS',
    `minValidity (${minValidity / 1000} s) is longer than the tokens the token endpoint issues live (${Math.round(lifetime / 1000)} s)`,
  );
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
