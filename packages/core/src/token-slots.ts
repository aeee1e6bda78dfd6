import { AccessToken } from './access-token.js';
import type { CachedToken } from './cache/types.js';
import { type DrillsterAuthError, TokenEndpointError } from './errors.js';
import { backoffDelay } from './retry.js';
import { MAX_TOKEN_LIFETIME } from './token-endpoint.js';

/**
 * Backoff between failed background refreshes: full jitter, from 1 s doubling to at most 60 s.
 * Each attempt already made its own retries; this spaces out the attempts that cache hits start.
 */
const BACKGROUND_BACKOFF_BASE_MS = 1000;
const BACKGROUND_BACKOFF_MAX_MS = 60_000;

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

/** When tokens are refreshed and stop being served, in milliseconds (from the client's `refresh` option). */
export interface SlotTiming {
  /** Refresh during the last this-many milliseconds of a token's life… */
  windowMs: number;
  /** …or the last this fraction of it, whichever is shorter. */
  windowRatio: number;
  /** Never serve a token this close to expiry (at most half its life). */
  marginMs: number;
}

export function emptySlot(): Slot {
  return {
    token: undefined,
    served: undefined,
    refreshAt: 0,
    staleAt: 0,
    lifetime: 0,
    inflight: undefined,
    inflightMode: undefined,
    used: false,
    failures: 0,
  };
}

/**
 * How long before expiry a token stops being served: `marginMs`, but at most half its life, so
 * a token that lives under a minute is still cached rather than minted per call.
 */
export function expiryMargin(timing: SlotTiming, token: CachedToken): number {
  return Math.min(timing.marginMs, (token.expiresAt - token.issuedAt) / 2);
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
  const window = Math.min(timing.windowMs, lifetime * timing.windowRatio);
  slot.staleAt = cached.expiresAt - expiryMargin(timing, cached);
  slot.refreshAt = Math.min(cached.expiresAt - window, slot.staleAt);
  slot.lifetime = lifetime;
  slot.failures = 0;
  slot.token = token;
  slot.served = Promise.resolve(token);
  return { token, lifetime, minted, minValidity };
}

/**
 * After a failed background refresh, holds the next one back (full jitter, doubling, capped;
 * the server's `Retry-After` when it sent one), so that cache hits do not re-fire it. Returns
 * when the next attempt may start, or `undefined` when the token goes stale first.
 */
export function backOff(slot: Slot, error: DrillsterAuthError, now: number): number | undefined {
  slot.failures += 1;
  const delay =
    error instanceof TokenEndpointError && error.retryAfter !== undefined
      ? error.retryAfter * 1000
      : // At least 1 ms: a failure must not re-fire within the same millisecond.
        1 + backoffDelay(slot.failures, BACKGROUND_BACKOFF_BASE_MS, BACKGROUND_BACKOFF_MAX_MS);
  const retryAt = now + delay;
  slot.refreshAt = retryAt;
  return retryAt < slot.staleAt ? retryAt : undefined;
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
export function evict(slots: Map<string, Slot>, maxSubjects: number, now: number): void {
  let budget = 2 * slots.size;
  for (const [subject, slot] of slots) {
    if (slots.size <= maxSubjects || budget-- === 0) return;
    slots.delete(subject);
    if (
      slot.inflight !== undefined ||
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
