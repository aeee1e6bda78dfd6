import type { DrillsterAuthError, TokenEndpointError } from './errors.js';

/**
 * What the client reports, for logs and metrics. No payload carries a key, a secret or a token.
 */
export type DrillsterAuthEvent =
  /** A cached token was returned: from this client's memory, or from the shared `cache` (`'shared'`). */
  | { type: 'cache_hit'; subject: string; expiresAt: number; source: 'memory' | 'shared' }
  /** A token request is about to be sent (`attempt` counts from 1). */
  | { type: 'token_requested'; subject: string; attempt: number; background: boolean }
  /** The token endpoint issued a token, valid for `lifetime` seconds. */
  | {
      type: 'token_issued';
      subject: string;
      expiresAt: number;
      lifetime: number;
      durationMs: number;
    }
  /** A failed attempt will be retried after `delayMs`. */
  | { type: 'retry'; subject: string; attempt: number; delayMs: number; error: DrillsterAuthError }
  /**
   * Getting a token failed; `background` when it was a refresh ahead of expiry and the current
   * token is still served. Then `retryAt` (milliseconds since the epoch) says when a cache hit
   * may start the next background attempt; it is absent when the token goes stale first.
   */
  | {
      type: 'token_failed';
      subject: string;
      background: boolean;
      error: DrillsterAuthError;
      retryAt?: number;
    }
  /**
   * The token endpoint refused assertions signed with key `keyId` (`invalid_grant`: a deleted
   * key, an unknown `kid`) and accepted those signed with `acceptedKeyId`, a later key of the
   * `key` list. Until `retryAt` (milliseconds since the epoch) the refused key is tried only after
   * the others; then it is preferred again, in case the refusal was about something else.
   * Reported once per refusal, however many callers it hit.
   */
  | {
      type: 'key_rejected';
      keyId: string;
      acceptedKeyId: string;
      retryAt: number;
      error: TokenEndpointError;
    }
  /** The server's clock differs from ours; assertions now use the corrected time. */
  | { type: 'clock_skew'; offsetMs: number }
  /** The shared token cache failed; the client carries on without it (and skips it for `cacheFailurePause`). */
  | { type: 'cache_error'; operation: 'get' | 'set' | 'delete' | 'singleFlight'; error: unknown };

/** Receives {@link DrillsterAuthEvent}s. Exceptions it throws are ignored. */
export type DrillsterAuthEventListener = (event: DrillsterAuthEvent) => void;
