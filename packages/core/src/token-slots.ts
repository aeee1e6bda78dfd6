import { AccessToken } from './access-token.js';
import type { CachedToken } from './cache/types.js';
import { type DrillsterAuthError, TokenEndpointError } from './errors.js';
import { backoffDelay } from './retry.js';
import { MAX_TOKEN_LIFETIME } from './token-endpoint.js';

/**
 * Backoff between failed background refreshes, as fractions of the token's lifetime: full
 * jitter, from 1/1000 of the life doubling to at most 1/40 (3.6 s to 90 s for an hour-long
 * token, 4 ms to 100 ms for a 4 s one). Each attempt already made its own retries; this spaces
 * out the attempts that cache hits start. A fixed cap would be useless for short tokens (60 s is
 * longer than a 4 s token's whole refresh window) and wasteful for long ones; scaled, it bounds
 * the time an outage's end goes unnoticed to 2.5 % of the life, which the outage guarantee
 * (README, "Riding out a token endpoint outage") subtracts.
 */
const BACKGROUND_BACKOFF_BASE_RATIO = 1 / 1000;
export const BACKGROUND_BACKOFF_MAX_RATIO = 1 / 40;

/** Default `refresh.fromRatio`: background refresh starts from 40 % of a token's life. */
export const DEFAULT_REFRESH_FROM_RATIO = 0.4;
/** Default `refresh.spreadRatio`: each subject's refresh falls somewhere in 40–50 % of the life. */
export const DEFAULT_REFRESH_SPREAD_RATIO = 0.1;

/** Largest `minValidity`, refresh window and margin, in seconds: the longest token lifetime believed. */
export const MAX_LIFETIME_SECONDS = MAX_TOKEN_LIFETIME;

/** `force` skips the shared cache; `background` replaces a token that is still being served. */
export type FetchMode = 'normal' | 'force' | 'background';

/** What a fetch put into its slot. */
export interface Filled {
  token: AccessToken;
  /** Lifetime of `token`, in milliseconds. */
  lifetime: number;
  /** Minted by this fetch, not read from the shared cache: no newer token is to be had. */
  minted: boolean;
  /** The `minValidity` (milliseconds) the fetch was made for: its callers need not check again. */
  minValidity: number;
}

/** One subject's token in memory, and the request in flight for it. */
export interface Slot {
  token: AccessToken | undefined;
  /** `token`, settled: what a cache hit returns, so that a hit allocates no promise. */
  served: Promise<AccessToken> | undefined;
  /**
   * The token of `inflight`, for callers without options who join it: made by the first of them
   * (who so handles its rejection), shared by the rest, so a cold burst costs a lookup a caller.
   */
  joined: Promise<AccessToken> | undefined;
  /** From here on, a hit also starts a background refresh; pushed back after a failed one. */
  refreshAt: number;
  /** From here on, the token is not served. */
  staleAt: number;
  /** Lifetime of `token`, in milliseconds. */
  lifetime: number;
  inflight: Promise<Filled> | undefined;
  inflightMode: FetchMode | undefined;
  /**
   * When `inflight` started, by `Date.now()` whatever the client's `clock` (how long the runtime
   * has been at it is real time): once it is older than the client's `abandonAfter`, it is taken
   * for abandoned (see `abandonAfter` in `client-options.ts`).
   */
  inflightSince: number;
  /** Set by each hit, cleared by the eviction sweep: a used slot gets a second chance. */
  used: boolean;
  /** Background refreshes that failed in a row, for the backoff between them. */
  failures: number;
  /**
   * Where in the refresh spread this slot refreshes, from 0 to 1: drawn once per slot, so that
   * many subjects' refreshes do not arrive together while each slot's moment stays fixed.
   */
  spreadPoint: number;
}

/** When tokens are refreshed and stop being served (from the client's `refresh` option). */
export interface SlotTiming {
  /** Background refresh starts at this fraction of a token's life… */
  fromRatio: number;
  /** …plus up to this fraction, where in it set per slot by {@link Slot.spreadPoint}. */
  spreadRatio: number;
  /**
   * Not before the last this-many milliseconds of the life (deprecated `refresh.windowSeconds`;
   * `Infinity` when not given).
   */
  windowMs: number;
  /** Nor before the last this fraction of it (deprecated `refresh.windowRatio`; 1 when not given). */
  windowRatio: number;
  /** Never serve a token this close to expiry (at most half its life). */
  marginMs: number;
}

/** A slot with no token yet; `random` (from 0 to 1) places its refresh in the spread. */
export function emptySlot(random: () => number = Math.random): Slot {
  return {
    token: undefined,
    served: undefined,
    joined: undefined,
    refreshAt: 0,
    staleAt: 0,
    lifetime: 0,
    inflight: undefined,
    inflightMode: undefined,
    inflightSince: 0,
    used: false,
    failures: 0,
    spreadPoint: random(),
  };
}

/**
 * How long before expiry a token stops being served: `marginMs`, but at most half its life, so
 * a token that lives under a minute is still cached rather than minted per call.
 */
export function expiryMargin(timing: SlotTiming, token: CachedToken): number {
  return Math.min(timing.marginMs, (token.expiresAt - token.issuedAt) / 2);
}

/**
 * When a background refresh of `token` may start: at `fromRatio + spreadRatio × spreadPoint` of
 * its life, but not before the deprecated window (when one was given) opens. Not yet capped at
 * the stale time.
 */
export function refreshMoment(timing: SlotTiming, token: CachedToken, spreadPoint: number): number {
  const lifetime = token.expiresAt - token.issuedAt;
  const spread = token.issuedAt + lifetime * (timing.fromRatio + timing.spreadRatio * spreadPoint);
  const window = Math.min(timing.windowMs, lifetime * timing.windowRatio);
  return Math.max(spread, token.expiresAt - window);
}

/** Puts `cached` into `slot` with its refresh and stale times, and clears the failure count. */
export function fillSlot(
  slot: Slot,
  timing: SlotTiming,
  cached: CachedToken,
  minted: boolean,
  minValidity: number,
): Filled {
  const token = new AccessToken(cached.accessToken, cached.expiresAt, cached.subject);
  const lifetime = cached.expiresAt - cached.issuedAt;
  slot.staleAt = cached.expiresAt - expiryMargin(timing, cached);
  slot.refreshAt = Math.min(refreshMoment(timing, cached, slot.spreadPoint), slot.staleAt);
  slot.lifetime = lifetime;
  slot.failures = 0;
  slot.token = token;
  slot.served = Promise.resolve(token);
  return { token, lifetime, minted, minValidity };
}

/**
 * After a failed background refresh, holds the next one back (full jitter, doubling, capped, all
 * in proportion to the token's life; the server's `Retry-After` when it sent one), so that cache
 * hits do not re-fire it. There is no limit on attempts: they go on while the token is served.
 * Returns when the next attempt may start, or `undefined` when the token goes stale first.
 */
export function backOff(
  slot: Slot,
  error: DrillsterAuthError,
  now: number,
  random: () => number = Math.random,
): number | undefined {
  slot.failures += 1;
  const delay =
    error instanceof TokenEndpointError && error.retryAfter !== undefined
      ? error.retryAfter * 1000
      : // At least 1 ms: a failure must not re-fire within the same millisecond.
        1 +
        backoffDelay(
          slot.failures,
          slot.lifetime * BACKGROUND_BACKOFF_BASE_RATIO,
          slot.lifetime * BACKGROUND_BACKOFF_MAX_RATIO,
          random,
        );
  const retryAt = now + delay;
  slot.refreshAt = retryAt;
  return retryAt < slot.staleAt ? retryAt : undefined;
}

/**
 * Whether `slot` has a request in flight that is not older than `abandonAfter` milliseconds (an
 * older one is taken for abandoned, and does not hold the slot).
 */
export function pending(slot: Slot, abandonAfter: number): boolean {
  return slot.inflight !== undefined && Date.now() - slot.inflightSince < abandonAfter;
}

/**
 * Makes room for a new slot, a CLOCK (second chance) sweep from the oldest end of the map: a
 * slot with a request in flight (not older than `abandonAfter` milliseconds) is never dropped
 * (nor, so, the new one, whose request has started); an idle slot whose token is stale or gone, or that no hit used since the sweep last
 * passed it, is dropped at once; a used one is moved to the back with its mark cleared. Every
 * move is paid for by an earlier hit, so this is O(1) amortised, and the hit path only sets a
 * flag. The sweep gives up after two rounds (every slot in flight): the map then holds more
 * than `maxSubjects` until those requests end.
 */
export function evict(
  slots: Map<string, Slot>,
  maxSubjects: number,
  now: number,
  abandonAfter = Number.POSITIVE_INFINITY,
): void {
  let budget = 2 * slots.size;
  for (const [subject, slot] of slots) {
    if (slots.size <= maxSubjects || budget-- === 0) return;
    slots.delete(subject);
    if (
      pending(slot, abandonAfter) ||
      (slot.used && slot.token !== undefined && now < slot.staleAt)
    ) {
      slot.used = false;
      slots.set(subject, slot);
    }
  }
}

/**
 * Whether `token` is valid for `minValidity` seconds more. `false` for an invalid `minValidity`
 * too, so that the call misses and the slow path refuses it with the option's name.
 */
export function lasts(token: AccessToken, minValidity: number, now: number): boolean {
  return (
    typeof minValidity === 'number' &&
    minValidity >= 0 &&
    minValidity <= MAX_LIFETIME_SECONDS &&
    token.expiresAt - now >= minValidity * 1000
  );
}
