import { abortable, abortError } from './abort.js';
import { type AccessToken, authorizationHeader } from './access-token.js';
import type { TokenCache } from './cache/types.js';
import { parseClientOptions } from './client-options.js';
import { discoverTokenEndpoint } from './discovery.js';
import {
  AbortError,
  ConfigurationError,
  DrillsterAuthError,
  TokenResponseError,
} from './errors.js';
import type { DrillsterAuthEvent, DrillsterAuthEventListener } from './events.js';
import { createHttpClient, type HttpClient } from './http.js';
import { KeyRing, type ServiceAccountKeyInput } from './key-ring.js';
import { Minter } from './minting.js';
import { denoInspect, nodeInspect, REDACTED } from './redact.js';
import type { RetryOptions, RetryPolicy } from './retry.js';
import { SharedCache } from './shared-cache.js';
import {
  backOff,
  emptySlot,
  evict,
  type FetchMode,
  type Filled,
  fillSlot,
  lasts,
  MAX_LIFETIME_SECONDS,
  pending,
  type Slot,
  type SlotTiming,
} from './token-slots.js';
import { MAX_TIMER_DELAY, numberOption, textOption } from './validate.js';

/** Options of {@link createDrillsterAuth}. */
export interface DrillsterAuthOptions {
  /**
   * The service account key: the JSON key file's text, its parsed object, or a
   * {@link ServiceAccountKey}; or a non-empty list of keys of one service account in order of
   * preference, to rotate keys without downtime (`[newKey, oldKey]`). Assertions are signed with
   * the first key the token endpoint has not refused; when it refuses one with `invalid_grant`
   * (a deleted key, an unknown `kid`), the next is tried in the same request, and the refused key
   * is passed over for `rejectedKeyPause` (a `key_rejected` event says so). Keys of different
   * service accounts, or two with one `keyId`, are a {@link ConfigurationError}.
   */
  key: ServiceAccountKeyInput | readonly ServiceAccountKeyInput[];
  /**
   * Milliseconds a key of the `key` list that the token endpoint refused (while a later key was
   * accepted) is tried only after the others, from 0 to 2^31 − 1; then it is preferred again, in
   * case the refusal was about something else. Default 600000 (10 minutes). Ignored with one key.
   */
  rejectedKeyPause?: number;
  /** Client id of your registered client application. */
  clientId: string;
  /** Client secret of your registered client application. */
  clientSecret: string;
  /** Authorization server whose metadata names the token endpoint. Default {@link DRILLSTER_ISSUER} (`https://www.drillster.com`). Ignored when `tokenEndpoint` is set. */
  issuer?: string;
  /** Token endpoint URL; skips discovery. Must be https (or http on loopback). */
  tokenEndpoint?: string;
  /** A shared token cache (Redis, Workers KV…) consulted before minting. Default: none; each client keeps its tokens in memory. */
  cache?: TokenCache;
  /** Milliseconds the shared `cache` is left alone after it failed, so an outage costs one timeout rather than one per token; from 0 to 2^31 − 1. Default 5000; 0 tries it every time. */
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
  /**
   * When a cached token is refreshed ahead of expiry, and when it is no longer served. A token is
   * refreshed in the background, by the calls that use it, from `fromRatio + spreadRatio × u` of
   * its life, where `u` (0 to 1) is drawn once per subject so that many subjects' refreshes do not
   * arrive together; a failed refresh is tried again (backoff from 1/1000 to 1/40 of the life,
   * or the server's `Retry-After`) until the token goes stale. With the defaults an outage of
   * the token endpoint of up to 40 % of the life of tokens that live 10 minutes or more,
   * starting at any moment, fails no call of a subject that is called at least every
   * `0.075 × lifetime − 30 s` (the conditions are in the README, "Riding out a token endpoint
   * outage").
   */
  refresh?: {
    /**
     * Fraction of a token's life (0 to 1) from which it is refreshed in the background. Earlier
     * rides out longer token endpoint outages and costs more token requests. Default 0.4.
     */
    fromRatio?: number;
    /**
     * Width of the window (a fraction of the life, 0 to 1, with `fromRatio + spreadRatio` at most
     * 1) over which subjects' refresh moments are spread. Default 0.1, or `1 − fromRatio` when
     * that is smaller.
     */
    spreadRatio?: number;
    /**
     * Refresh no earlier than the last this-many seconds of a token's life (0 to 86400). Default:
     * no such bound.
     *
     * @deprecated Use `fromRatio`. Up to 0.1.0 this was the refresh window itself (default 300),
     * which a token endpoint outage of a few minutes at the wrong moment could outlast; it is still
     * honoured as a bound (0 turns background refresh off).
     */
    windowSeconds?: number;
    /**
     * Refresh no earlier than the last this fraction of a token's life (0 to 1). Default: no
     * such bound.
     *
     * @deprecated Use `fromRatio` (`1 − windowRatio`). Up to 0.1.0 this was the refresh window
     * itself (default 0.1); it is still honoured as a bound.
     */
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
   * in memory or in the shared `cache`, that expires sooner is not served: the caller gets a new
   * one, shared with concurrent callers as usual. Default 0: any token outside
   * `refresh.expiryMarginSeconds` of its expiry. When the token endpoint issues tokens that live
   * shorter than this, the call fails with {@link ConfigurationError} `ERR_INVALID_OPTIONS` after
   * that one request, and at once (without a request) while that token is held.
   */
  minValidity?: number;
  /** Stops waiting for the token. A request other callers share goes on. */
  signal?: AbortSignal;
  /**
   * Hands the runtime work that must go on after the call's own request is answered: the
   * background refresh a call starts (a cached token past its refresh moment), and the token
   * request it starts for itself and concurrent callers (which outlives a `signal` that fires).
   * In a Cloudflare Worker pass the request's `(promise) => ctx.waitUntil(promise)`, or
   * `waitUntil` from `cloudflare:workers`: there, work the request that started it neither
   * awaits nor hands to `waitUntil` is dropped when its response is done, so a refresh never
   * lands. Called once for each such piece of work, with a promise that never rejects; what it
   * throws is ignored. Default: none (Node, Deno and Bun keep such work going by themselves).
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** Default `minValidity` of {@link DrillsterAuth.getWidgetToken}, in seconds: 15 minutes. */
export const DEFAULT_WIDGET_TOKEN_MIN_VALIDITY = 900;

/** Options of {@link DrillsterAuth.getWidgetToken}. */
export interface WidgetTokenOptions {
  /**
   * Least time the token must still be valid for, in seconds, from 0 to 86400: a widget cannot
   * renew its token. Default {@link DEFAULT_WIDGET_TOKEN_MIN_VALIDITY} (900).
   */
  minValidity?: number;
  /** Stops waiting for the token. A request other callers share goes on. */
  signal?: AbortSignal;
  /** As for {@link GetAccessTokenOptions.waitUntil}. */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/**
 * Gets, caches and refreshes Drillster access tokens for a service account and the users it
 * manages. Concurrent callers share one token request; a cached token costs a map lookup.
 *
 * Create one with {@link createDrillsterAuth} and keep it for the life of the process.
 */
export class DrillsterAuth {
  readonly #keys: KeyRing;
  /** The service account's id: the subject when none is given. */
  readonly #ownSubject: string;
  readonly #clientId: string;
  readonly #issuer: string;
  #tokenEndpoint: Promise<string> | undefined;
  #tokenEndpointUrl: string | undefined;
  readonly #sharedCache: SharedCache | undefined;
  readonly #slots = new Map<string, Slot>();
  readonly #maxSubjects: number;
  readonly #timing: SlotTiming;
  readonly #retry: RetryPolicy;
  readonly #http: HttpClient;
  readonly #minter: Minter;
  readonly #clock: () => number;
  readonly #onEvent: DrillsterAuthEventListener | undefined;
  readonly #closed = new AbortController();
  /** Milliseconds after which a request in flight is taken for abandoned (`abandonAfter`). */
  readonly #abandonAfter: number;
  /** When discovery of the token endpoint started, by `Date.now()` (as `Slot.inflightSince`). */
  #discoveringSince = 0;

  constructor(options: DrillsterAuthOptions) {
    const config = parseClientOptions(options);
    this.#keys = new KeyRing(config.keys, config.rejectedKeyPause);
    this.#ownSubject = this.#keys.serviceAccountId;
    this.#clientId = config.clientId;
    this.#issuer = config.issuer;
    this.#tokenEndpointUrl = config.tokenEndpoint;
    if (config.tokenEndpoint !== undefined) {
      this.#tokenEndpoint = Promise.resolve(config.tokenEndpoint);
    }
    this.#maxSubjects = config.maxSubjects;
    this.#timing = config.timing;
    this.#retry = config.retry;
    this.#http = createHttpClient({
      timeout: config.timeout,
      ...(config.fetch ? { fetch: config.fetch } : {}),
    });
    this.#clock = config.clock;
    this.#onEvent = config.onEvent;
    this.#abandonAfter = config.abandonAfter;
    const emit = (event: DrillsterAuthEvent) => this.#emit(event);
    this.#sharedCache =
      config.cache === undefined
        ? undefined
        : new SharedCache(
            config.cache,
            config.cacheFailurePause,
            config.timing,
            config.clock,
            emit,
          );
    this.#minter = new Minter({
      keys: this.#keys,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      assertionLifetime: config.assertionLifetime,
      defaultExpiresIn: config.defaultExpiresIn,
      retry: config.retry,
      http: this.#http,
      clock: config.clock,
      emit,
      closed: this.#closed.signal,
    });
  }

  /** The service account's id. */
  get serviceAccountId(): string {
    return this.#ownSubject;
  }

  /**
   * An access token for `subject` (default: the service account). Served from memory while it
   * is fresh; refreshed in the background near its expiry; requested once for all concurrent
   * callers when there is none.
   *
   * @throws {DrillsterAuthError} with a `code` saying what failed (the promise rejects; the call
   * itself never throws).
   */
  getAccessToken(options?: GetAccessTokenOptions): Promise<AccessToken> {
    // Not `async`: a hit returns the slot's settled promise, so it allocates nothing.
    const hit = this.#cached(options);
    if (hit !== undefined) return hit.served;
    if (options === undefined) {
      // A caller without options who finds a request in flight shares its token, as
      // #fetchShared would, without a frame of its own (10,000 cold callers, one request).
      const slot = this.#slots.get(this.#ownSubject);
      if (slot !== undefined && pending(slot, this.#abandonAfter)) {
        slot.joined ??= this.#join(this.#ownSubject, slot, 'normal', 0, undefined).then(tokenOf);
        return slot.joined;
      }
    }
    return this.#fetchShared(options);
  }

  /** `Bearer <access token>`, for an `Authorization` header. Options as for {@link getAccessToken}. */
  async getAuthorizationHeader(options?: GetAccessTokenOptions): Promise<string> {
    return authorizationHeader(this.#cached(options)?.token ?? (await this.#fetchShared(options)));
  }

  /**
   * A token to use instead of `rejectedAccessToken`, which the API refused (a 401 from the
   * origin it was sent to): forgets that token as {@link invalidate} with `accessToken` does
   * (compare-and-invalidate, in memory and in the shared `cache`, so many requests refused
   * with one token cause one refresh), then returns the subject's current token, which is never
   * the rejected one: when the cache hands it back (an eventually consistent one may), a new
   * one is minted. Options as for {@link getAccessToken}; `forceRefresh` is implied when needed.
   *
   * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` when `rejectedAccessToken` is not a
   * non-empty string, or for invalid options.
   * @throws {TokenResponseError} `ERR_INVALID_TOKEN_RESPONSE` when the token endpoint issues the
   * rejected token again.
   * @throws {DrillsterAuthError} with a `code` saying what failed, when no token can be had.
   */
  async getReplacementToken(
    rejectedAccessToken: string,
    options?: Omit<GetAccessTokenOptions, 'forceRefresh'>,
  ): Promise<AccessToken> {
    const rejected = textOption(rejectedAccessToken, 'rejectedAccessToken');
    await this.invalidate(options?.subject, { accessToken: rejected });
    const token = await this.getAccessToken(options);
    if (token.accessToken !== rejected) return token;
    const minted = await this.getAccessToken({ ...options, forceRefresh: true });
    if (minted.accessToken !== rejected) return minted;
    throw new TokenResponseError(
      'ERR_INVALID_TOKEN_RESPONSE',
      'The token endpoint issued the access token that was just rejected again',
    );
  }

  /**
   * A token for the managed user `userId` (id, email or third-party id) to hand to a browser,
   * such as a Drillster widget's `drl-token` attribute, with at least `minValidity` seconds left
   * (default 900): the widget cannot renew it. Never the service account's own token, which must
   * not reach a browser: an empty `userId` or the service account's id is refused.
   *
   * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` when `userId` is not a non-empty string or
   * is the service account, when `minValidity` is out of range, or when the token endpoint's
   * tokens live shorter than it.
   * @throws {DrillsterAuthError} with a `code` saying what failed, when no token can be had.
   */
  async getWidgetToken(userId: string, options?: WidgetTokenOptions): Promise<AccessToken> {
    if (typeof userId !== 'string' || userId.trim() === '') {
      throw new ConfigurationError('ERR_INVALID_OPTIONS', 'getWidgetToken needs a managed user id');
    }
    if (userId === this.#ownSubject) {
      throw new ConfigurationError(
        'ERR_INVALID_OPTIONS',
        "getWidgetToken is for managed users; the service account's own token must not reach a browser",
      );
    }
    const minValidity = options?.minValidity;
    return this.getAccessToken({
      subject: userId,
      // Only a left-out value falls back; a null or NaN one is refused.
      minValidity: minValidity === undefined ? DEFAULT_WIDGET_TOKEN_MIN_VALIDITY : minValidity,
      ...(options?.signal === undefined ? {} : { signal: options.signal }),
      ...(options?.waitUntil === undefined ? {} : { waitUntil: options.waitUntil }),
    });
  }

  /**
   * Forgets the token of `subject` (default: the service account), in memory and in the shared
   * `cache`, so the next call gets a new one; the shared cache is reached whether or not this
   * client holds the subject in memory. With `accessToken`, each place forgets its token only if
   * it is that one (compare-and-invalidate: the cache entry is read and deleted only when it
   * holds it), so many requests that failed with one token cause one refresh, not many. Cache
   * failures are reported as `cache_error` events, never thrown. With a shared cache and no token
   * endpoint known yet, the endpoint is discovered first (it is part of the cache key).
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
      slot.served = undefined;
    }
    const shared = this.#sharedCache;
    if (shared === undefined) return;
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
      const stored = await shared.call('get', () => shared.cache.get(key));
      if (stored?.accessToken !== expected) return;
    }
    await shared.call('delete', () => shared.cache.delete(key));
  }

  /**
   * A freshly signed assertion for `subject` (default: the service account), for debugging or
   * for sending it yourself. It is a credential: treat it like a token.
   *
   * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` for a `subject` that is not a non-empty string.
   */
  async createAssertion(options?: { subject?: string; signal?: AbortSignal }): Promise<string> {
    const subject = this.#subject(options?.subject);
    return this.#minter.assertion(await this.getTokenEndpoint(options), subject);
  }

  /**
   * When the cached token of `subject` (default: the service account) starts being refreshed:
   * milliseconds since the epoch from which a call that is served it also starts a background
   * refresh, as the `refresh` policy placed it (or a backoff after a failed refresh moved it).
   * `undefined` when no token of the subject is held. For monitoring and soak tests: how many
   * token requests a steady load should cause.
   *
   * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` for a `subject` that is not a non-empty string.
   */
  nextRefreshAt(subject?: string): number | undefined {
    const slot = this.#slots.get(this.#subject(subject));
    return slot?.token === undefined ? undefined : slot.refreshAt;
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
      serviceAccountId: this.#ownSubject,
      keyId: this.#keys.keys.map((key) => key.keyId).join(', '),
    };
  }

  toString(): string {
    return `DrillsterAuth(serviceAccountId=${this.#ownSubject}, clientId=${this.#clientId})`;
  }

  [nodeInspect](): string {
    return this.toString();
  }

  [denoInspect](): string {
    return this.toString();
  }

  /**
   * The hot path: the slot of the subject while its token may be served, starting a background
   * refresh inside the refresh window. No allocation, no I/O, never throws. Invalid options (a
   * `subject`, `minValidity` or `waitUntil`, or options that are not an object) are never
   * served: they miss, and {@link #fetchShared} refuses them.
   */
  #cached(
    options: GetAccessTokenOptions | undefined,
  ): (Slot & { token: AccessToken; served: Promise<AccessToken> }) | undefined {
    let subject = this.#ownSubject;
    if (options !== undefined) {
      if (typeof options !== 'object' || options === null || options.forceRefresh === true) {
        return undefined;
      }
      if (options.subject !== undefined) subject = options.subject;
      if (options.waitUntil !== undefined && typeof options.waitUntil !== 'function') {
        return undefined;
      }
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
    if (now >= slot.refreshAt && !pending(slot, this.#abandonAfter)) {
      this.#refreshInBackground(subject, slot, options?.waitUntil);
    }
    if (this.#onEvent) this.#hit(token);
    return slot as Slot & { token: AccessToken; served: Promise<AccessToken> };
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

  async #fetchShared(options: GetAccessTokenOptions | undefined): Promise<AccessToken> {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new ConfigurationError('ERR_INVALID_OPTIONS', 'options must be an object or undefined');
    }
    const subject = this.#subject(options?.subject);
    const minValidity =
      numberOption(options?.minValidity, 'minValidity', {
        default: 0,
        min: 0,
        max: MAX_LIFETIME_SECONDS,
      }) * 1000;
    const signal = options?.signal;
    const waitUntil = options?.waitUntil;
    if (waitUntil !== undefined && typeof waitUntil !== 'function') {
      throw new ConfigurationError('ERR_INVALID_OPTIONS', 'waitUntil must be a function');
    }
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
    const filled = await this.#shared(
      subject,
      force ? 'force' : 'normal',
      minValidity,
      signal,
      waitUntil,
    );
    if (minValidity === 0 || filled.minValidity >= minValidity || filled.minted) {
      if (filled.lifetime < minValidity) throw minValidityTooLong(minValidity, filled.lifetime);
      return filled.token;
    }
    if (filled.token.expiresAt - this.#clock() >= minValidity) return filled.token;
    // A request made for less (a refresh, another caller's) gave a token that expires too soon:
    // get a new one. It is minted, so this ends here.
    const fresh = await this.#shared(subject, 'force', minValidity, signal, waitUntil);
    if (fresh.lifetime < minValidity) throw minValidityTooLong(minValidity, fresh.lifetime);
    return fresh.token;
  }

  /**
   * Joins the subject's request in flight (any, or for `force` a forced one) or starts one, and
   * waits for it (or for `signal`). A request it starts is handed to `waitUntil`.
   */
  #shared(
    subject: string,
    mode: 'normal' | 'force',
    minValidity: number,
    signal: AbortSignal | undefined,
    waitUntil: ((promise: Promise<unknown>) => void) | undefined,
  ): Promise<Filled> {
    let slot = this.#slots.get(subject);
    const created = slot === undefined;
    if (slot === undefined) {
      slot = emptySlot();
      this.#slots.set(subject, slot);
    }
    let inflight: Promise<Filled>;
    if (!pending(slot, this.#abandonAfter) || (mode === 'force' && slot.inflightMode !== 'force')) {
      inflight = this.#startFetch(subject, slot, mode, minValidity);
      if (waitUntil !== undefined) handOver(waitUntil, inflight);
    } else {
      inflight = this.#join(subject, slot, mode, minValidity, waitUntil);
    }
    // Only now, with the new slot's request in flight, so that it cannot be the one dropped.
    if (created && this.#slots.size > this.#maxSubjects) {
      evict(this.#slots, this.#maxSubjects, this.#clock(), this.#abandonAfter);
    }
    return signal ? abortable(inflight, signal) : inflight;
  }

  /**
   * Waits for the request in flight in `slot`, which another call started, but not past its
   * `abandonAfter` deadline. In a Cloudflare Worker that call's request may have ended before
   * it (a background refresh, a caller that stopped waiting): workerd then drops the rest of the
   * request and refuses this wait with an error of its own ("This promise was created by a
   * request that has since ended, so it can never settle"), or, with
   * `no_handle_cross_request_promise_resolution`, never settles it. Every failure of a request of
   * ours is a {@link DrillsterAuthError}, so any other rejection is the former; the deadline
   * catches the latter. Either way the slot forgets the request, and this caller starts one (or
   * joins the one another such caller started).
   */
  #join(
    subject: string,
    slot: Slot,
    mode: 'normal' | 'force',
    minValidity: number,
    waitUntil: ((promise: Promise<unknown>) => void) | undefined,
  ): Promise<Filled> {
    const inflight = slot.inflight as Promise<Filled>;
    const left = slot.inflightSince + this.#abandonAfter - Date.now();
    return orRestart(inflight, left, () => {
      if (slot.inflight === inflight) clearInflight(slot);
      return this.#shared(subject, mode, minValidity, undefined, waitUntil);
    });
  }

  #refreshInBackground(
    subject: string,
    slot: Slot,
    waitUntil: ((promise: Promise<unknown>) => void) | undefined,
  ): void {
    if (this.#closed.signal.aborted) return;
    const refresh = this.#startFetch(subject, slot, 'background', 0).catch(() => {
      // Reported as a token_failed event; callers keep the current token until it goes stale.
    });
    if (waitUntil !== undefined) handOver(waitUntil, refresh);
  }

  #startFetch(subject: string, slot: Slot, mode: FetchMode, minValidity: number): Promise<Filled> {
    const inflight = this.#fetch(subject, slot, mode, minValidity).finally(() => {
      if (slot.inflight === inflight) clearInflight(slot);
    });
    slot.inflight = inflight;
    slot.inflightMode = mode;
    slot.inflightSince = Date.now();
    slot.joined = undefined;
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
    const timing = this.#timing;
    try {
      const endpoint = await this.#endpoint();
      const mint = () => this.#minter.mint(endpoint, subject, background);
      const shared = this.#sharedCache?.paused() === false ? this.#sharedCache : undefined;
      if (!shared) return fillSlot(slot, timing, await mint(), true, minValidity);
      const key = this.#cacheKey(subject, endpoint);
      if (mode === 'force') {
        return fillSlot(slot, timing, await shared.mintAndStore(key, mint), true, minValidity);
      }
      const minExpiresAt =
        background && replacing
          ? replacing.expiresAt + 1
          : minValidity > 0
            ? this.#clock() + minValidity
            : 0;
      const cached = await shared.call('get', () => shared.cache.get(key));
      if (cached !== undefined && shared.usable(cached, subject, minExpiresAt)) {
        this.#emit({ type: 'cache_hit', subject, expiresAt: cached.expiresAt, source: 'shared' });
        return fillSlot(slot, timing, cached, false, minValidity);
      }
      if (shared.paused()) return fillSlot(slot, timing, await mint(), true, minValidity);
      const result = await shared.mintShared(key, subject, mint, minExpiresAt, this.#closed.signal);
      return fillSlot(slot, timing, result.token, result.minted, minValidity);
    } catch (error) {
      const failure = asAuthError(error);
      const retryAt =
        background && slot.token === replacing ? backOff(slot, failure, this.#clock()) : undefined;
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
   * The token endpoint, discovered once for all callers (so one caller's abort cannot fail the
   * others'). A discovery that another call's request left behind is started again, as a token
   * request is (see {@link #join}).
   */
  #endpoint(): Promise<string> {
    const discovering = this.#tokenEndpoint;
    if (discovering !== undefined && this.#tokenEndpointUrl !== undefined) return discovering;
    const left = this.#discoveringSince + this.#abandonAfter - Date.now();
    if (discovering !== undefined && left > 0) {
      return orRestart(discovering, left, () => {
        if (this.#tokenEndpoint === discovering) this.#tokenEndpoint = undefined;
        return this.#endpoint();
      });
    }
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
        if (this.#tokenEndpoint === discovered) this.#tokenEndpoint = undefined;
        throw asAuthError(error);
      },
    );
    this.#tokenEndpoint = discovered;
    this.#discoveringSince = Date.now();
    return discovered;
  }

  /**
   * The shared cache's key of `subject`'s token. No key id in it: a token belongs to the service
   * account, not to the key that signed its assertion, so tokens stay shared across a rotation.
   */
  #cacheKey(subject: string, endpoint = this.#tokenEndpointUrl): string {
    return `drillster-auth:v2:${endpoint}|${this.#clientId}|${this.#ownSubject}|${subject}`;
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

function minValidityTooLong(minValidity: number, lifetime: number): ConfigurationError {
  return new ConfigurationError(
    'ERR_INVALID_OPTIONS',
    `minValidity (${minValidity / 1000} s) is longer than the tokens the token endpoint issues live (${Math.round(lifetime / 1000)} s)`,
  );
}

function tokenOf(filled: Filled): AccessToken {
  return filled.token;
}

/**
 * `work`, which another call started, unless the runtime refuses to settle it (a rejection that
 * is not a {@link DrillsterAuthError}: every failure of ours is one) or it is still pending after
 * `left` milliseconds: then `restart()`'s result. See `#join`.
 */
function orRestart<T>(work: Promise<T>, left: number, restart: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => resolve(restart()),
      Math.min(Math.max(left, 0), MAX_TIMER_DELAY),
    );
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (error instanceof DrillsterAuthError) reject(error);
        else resolve(restart());
      },
    );
  });
}

/** Forgets the request in flight of `slot`. */
function clearInflight(slot: Slot): void {
  slot.inflight = undefined;
  slot.inflightMode = undefined;
  slot.joined = undefined;
}

/** Gives `waitUntil` a promise that settles with `work` and never rejects; ignores its failure. */
function handOver(waitUntil: (promise: Promise<unknown>) => void, work: Promise<unknown>): void {
  try {
    waitUntil(work.then(noop, noop));
  } catch {
    // A hook's failure must not become the caller's; the work goes on as it would without it.
  }
}

function noop(): void {}

function asAuthError(error: unknown): DrillsterAuthError {
  if (error instanceof DrillsterAuthError) return error;
  return new DrillsterAuthError('ERR_UNEXPECTED', 'Getting an access token failed unexpectedly', {
    cause: error,
  });
}
