import { MAX_ASSERTION_LIFETIME } from './assertion.js';
import type { TokenCache } from './cache/types.js';
import type { DrillsterAuthOptions } from './client.js';
import { DEFAULT_ISSUER } from './discovery.js';
import { ConfigurationError } from './errors.js';
import type { DrillsterAuthEventListener } from './events.js';
import { requireSecureUrl } from './http.js';
import type { ServiceAccountKey } from './key-file.js';
import { DEFAULT_REJECTED_KEY_PAUSE, parseServiceAccountKeys } from './key-ring.js';
import { type RetryPolicy, retryPolicy } from './retry.js';
import {
  DEFAULT_REFRESH_FROM_RATIO,
  DEFAULT_REFRESH_SPREAD_RATIO,
  MAX_LIFETIME_SECONDS,
  type SlotTiming,
} from './token-slots.js';
import { MAX_TIMER_DELAY, numberOption, textOption } from './validate.js';

/** {@link DrillsterAuthOptions} checked, with every default filled in and every time in milliseconds. */
export interface ClientConfig {
  /** In order of preference; at least one, all of one service account. */
  keys: readonly ServiceAccountKey[];
  /** Milliseconds. */
  rejectedKeyPause: number;
  clientId: string;
  clientSecret: string;
  issuer: string;
  /** The `tokenEndpoint` option, checked; `undefined` to discover it. */
  tokenEndpoint: string | undefined;
  cache: TokenCache | undefined;
  /** Milliseconds. */
  cacheFailurePause: number;
  maxSubjects: number;
  /** Seconds. */
  assertionLifetime: number;
  timing: SlotTiming;
  /** Seconds. */
  defaultExpiresIn: number;
  /** Milliseconds. */
  timeout: number;
  retry: RetryPolicy;
  fetch: typeof fetch | undefined;
  clock: () => number;
  onEvent: DrillsterAuthEventListener | undefined;
  /** Milliseconds, see {@link abandonAfter}. */
  abandonAfter: number;
}

/**
 * Checks the client's options and fills in the defaults (each documented on
 * {@link DrillsterAuthOptions}).
 *
 * @throws {KeyFileError} when the key is unusable; {@link ConfigurationError} for other options.
 */
export function parseClientOptions(options: DrillsterAuthOptions): ClientConfig {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'DrillsterAuth needs an options object');
  }
  const keys = parseServiceAccountKeys(options.key);
  const clientId = textOption(options.clientId, 'clientId');
  const clientSecret = textOption(options.clientSecret, 'clientSecret');
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  requireSecureUrl(issuer, 'issuer');
  const tokenEndpoint =
    options.tokenEndpoint === undefined
      ? undefined
      : requireSecureUrl(options.tokenEndpoint, 'tokenEndpoint').href;
  const rejectedKeyPause = numberOption(options.rejectedKeyPause, 'rejectedKeyPause', {
    default: DEFAULT_REJECTED_KEY_PAUSE,
    min: 0,
    max: MAX_TIMER_DELAY,
  });
  const cacheFailurePause = numberOption(options.cacheFailurePause, 'cacheFailurePause', {
    default: 5000,
    min: 0,
    max: MAX_TIMER_DELAY,
  });
  const maxSubjects = numberOption(options.maxSubjects, 'maxSubjects', {
    default: 1000,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    integer: true,
  });
  const assertionLifetime = numberOption(options.assertionLifetime, 'assertionLifetime', {
    default: 300,
    min: 1,
    max: MAX_ASSERTION_LIFETIME,
    integer: true,
  });
  const timing = refreshTiming(options.refresh);
  const defaultExpiresIn = numberOption(options.defaultExpiresIn, 'defaultExpiresIn', {
    default: 300,
    min: 1,
    max: MAX_LIFETIME_SECONDS,
  });
  const retry = retryPolicy(options.retry);
  const timeout = numberOption(options.timeout, 'timeout', {
    default: 10_000,
    min: 1,
    max: MAX_TIMER_DELAY,
    integer: true,
  });
  const clock = optionalFunction(options.clock, 'clock') ?? Date.now;
  const onEvent = optionalFunction(options.onEvent, 'onEvent');
  const discovers = tokenEndpoint === undefined;
  return {
    keys,
    rejectedKeyPause,
    clientId,
    clientSecret,
    issuer,
    tokenEndpoint,
    cache: options.cache,
    cacheFailurePause,
    maxSubjects,
    assertionLifetime,
    timing,
    defaultExpiresIn,
    timeout,
    retry,
    fetch: options.fetch,
    clock,
    onEvent,
    abandonAfter: abandonAfter(retry, timeout, keys.length, discovers),
  };
}

/**
 * Milliseconds after which a token request still in flight is taken for abandoned: a caller that
 * finds it starts another rather than wait for it. In a Cloudflare Worker a promise belongs to the
 * request that created it: when that request ends before a token request it started (a
 * background refresh, a shared mint whose starter stopped waiting), workerd drops the rest of it,
 * and the promise never settles (with `no_handle_cross_request_promise_resolution`; without it,
 * waiting on it fails at once, which the client notices without this bound). So the bound is the
 * longest a request can take with these options: discovery and the mint, each attempt timing
 * out after the longest backoff (a longer `Retry-After` ends the retries), with the clock-skew
 * retry and one attempt for each further key, plus one `timeout` for the shared cache's calls.
 * Only a shared cache slower than that can make a live request look abandoned, which costs one
 * token request more.
 */
export function abandonAfter(
  retry: RetryPolicy,
  timeout: number,
  keys: number,
  discovers: boolean,
): number {
  const waits = (retry.attempts - 1) * retry.maxDelay;
  const discovery = discovers ? retry.attempts * timeout + waits : 0;
  const mint = (retry.attempts + keys) * timeout + waits;
  return discovery + mint + timeout;
}

/** The `refresh` option, checked, in milliseconds and fractions of a token's life. */
function refreshTiming(refresh: DrillsterAuthOptions['refresh']): SlotTiming {
  if (refresh !== undefined && (typeof refresh !== 'object' || refresh === null)) {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', 'refresh must be an object');
  }
  const ratio = (value: number | undefined, name: string, fallback: number) =>
    numberOption(value, name, { default: fallback, min: 0, max: 1 });
  const fromRatio = ratio(refresh?.fromRatio, 'refresh.fromRatio', DEFAULT_REFRESH_FROM_RATIO);
  const spreadRatio = ratio(
    refresh?.spreadRatio,
    'refresh.spreadRatio',
    Math.min(DEFAULT_REFRESH_SPREAD_RATIO, 1 - fromRatio),
  );
  if (fromRatio + spreadRatio > 1) {
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      `refresh.fromRatio + refresh.spreadRatio must be at most 1 (got ${fromRatio} + ${spreadRatio})`,
    );
  }
  const seconds = (value: number | undefined, name: string, fallback: number) =>
    numberOption(value, name, { default: fallback, min: 0, max: MAX_LIFETIME_SECONDS });
  return {
    fromRatio,
    spreadRatio,
    // The deprecated window options only bound the refresh when given.
    windowMs: seconds(refresh?.windowSeconds, 'refresh.windowSeconds', Infinity) * 1000,
    windowRatio: ratio(refresh?.windowRatio, 'refresh.windowRatio', 1),
    marginMs: seconds(refresh?.expiryMarginSeconds, 'refresh.expiryMarginSeconds', 30) * 1000,
  };
}

function optionalFunction<T>(value: T | undefined, name: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', `${name} must be a function`);
  }
  return value;
}
