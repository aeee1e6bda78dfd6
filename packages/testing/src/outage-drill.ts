import type { MockDrillster } from './mock-drillster.js';

/** What {@link runOutageDrill} needs: the mock, a clock it shares with the client, and a caller. */
export interface OutageDrillOptions {
  /** The mock the client gets its tokens from, on the same clock. */
  mock: MockDrillster;
  /** The shared clock, in milliseconds since the epoch: read and moved by the drill. */
  clock: { now: number };
  /** One caller's call through the adapter under test; a rejection is a failed call. */
  call: () => Promise<unknown>;
  /** Resolves once no token request of the client is in flight (see {@link tokenRequestTracker}). */
  settle: () => Promise<void>;
  /** Lifetime of the tokens the mock issues for the drill, in whole seconds. */
  lifetimeSeconds: number;
  /** How the token endpoint is down: `503` answers, or connections dropped. Default `'503'`. */
  outage?: '503' | 'drop';
  /** Length of the outage, as a fraction of the token lifetime. Default 0.4. */
  outageRatio?: number;
  /** Time between calls, in milliseconds of the shared clock. Default 5000. */
  stepMs?: number;
}

/** What happened in an {@link runOutageDrill}, in milliseconds of the shared clock. */
export interface OutageDrillReport {
  /** Lifetime of the mock's tokens. */
  lifetimeMs: number;
  /** When the first token was issued. */
  firstTokenAt: number;
  /** When the first refresh request arrived, and with it the outage; `undefined` if none did. */
  outageStartedAt: number | undefined;
  /** When the outage ended (`outageStartedAt` plus the outage's length). */
  outageEndedAt: number | undefined;
  /** When a second token was issued (the first step that saw it); `undefined` if none was. */
  refreshedAt: number | undefined;
  /** Token requests from the first refresh on. */
  tokenRequests: number;
  /** Token requests refused (all in the outage). */
  refusedRequests: number;
  /** Calls made, from the first to the end of the first token's life. */
  calls: number;
  /** The calls that failed, with what they failed with. */
  failures: Array<{ at: number; error: unknown }>;
}

/**
 * Takes the token endpoint down for a share of the token lifetime at the worst moment for a
 * client that refreshes ahead of expiry: just as its first background refresh starts (the
 * outage is queued behind one request that passes, so the refresh request is the first one it
 * refuses). The shared clock starts on a whole second; a caller calls every `stepMs` of it from
 * the first token until that token's expiry; after each call the drill waits for the client's token request, if one started, to
 * end, so each request is answered at the clock time it was made. Returns what happened; the
 * test asserts on it (zero failures, the outage really met the refresh).
 *
 * @throws Error when the first call did not mint (the client already held a token).
 */
export async function runOutageDrill(options: OutageDrillOptions): Promise<OutageDrillReport> {
  const { mock, clock, call, settle } = options;
  const stepMs = options.stepMs ?? 5000;
  const lifetimeMs = options.lifetimeSeconds * 1000;
  const durationMs = lifetimeMs * (options.outageRatio ?? 0.4);
  const stats = mock.stats;
  mock.setTokenLifetime(options.lifetimeSeconds);
  // On a whole second, so that the token's `exp` (whole seconds) is when the client thinks.
  clock.now = Math.ceil(clock.now / 1000) * 1000;
  const firstTokenAt = clock.now;
  const issuedBefore = stats.tokensIssued;
  await call();
  await settle();
  if (stats.tokensIssued !== issuedBefore + 1) {
    throw new Error('The drill starts with a client that holds no token for its subject');
  }
  mock.resetStats();
  // The next token request, the client's first refresh, starts the outage.
  mock.injectFault({
    ...(options.outage === 'drop' ? { dropConnection: true } : { status: 503 }),
    durationMs,
  });

  let calls = 1;
  const failures: OutageDrillReport['failures'] = [];
  let outageStartedAt: number | undefined;
  let refreshedAt: number | undefined;
  while (clock.now + stepMs < firstTokenAt + lifetimeMs) {
    clock.now += stepMs;
    calls += 1;
    try {
      await call();
    } catch (error) {
      failures.push({ at: clock.now, error });
    }
    await settle();
    if (outageStartedAt === undefined && stats.tokenRequests > 0) outageStartedAt = clock.now;
    if (refreshedAt === undefined && stats.tokensIssued > 0) refreshedAt = clock.now;
  }
  return {
    lifetimeMs,
    firstTokenAt,
    outageStartedAt,
    outageEndedAt: outageStartedAt === undefined ? undefined : outageStartedAt + durationMs,
    refreshedAt,
    tokenRequests: stats.tokenRequests,
    refusedRequests: stats.tokenRequests - stats.tokensIssued,
    calls,
    failures,
  };
}

/**
 * Follows a core client's token requests through its events (`onEvent`): a mint opens with
 * `token_requested` for attempt 1 and ends with `token_issued` or `token_failed`, its retries
 * in between. `idle()` is true when no mint is open. For {@link OutageDrillOptions.settle}.
 */
export function tokenRequestTracker(): {
  onEvent: (event: { type: string; attempt?: number }) => void;
  idle: () => boolean;
} {
  let open = 0;
  return {
    onEvent(event) {
      if (event.type === 'token_requested' && event.attempt === 1) open += 1;
      else if (event.type === 'token_issued' || event.type === 'token_failed') {
        open = Math.max(0, open - 1);
      }
    },
    idle: () => open === 0,
  };
}
