import { signAssertion } from './assertion.js';
import type { CachedToken } from './cache/types.js';
import { TokenEndpointError } from './errors.js';
import type { DrillsterAuthEvent } from './events.js';
import type { HttpClient } from './http.js';
import type { ServiceAccountKey } from './key-file.js';
import type { KeyRing } from './key-ring.js';
import { isRetryable, type RetryPolicy, retryDelay, sleep } from './retry.js';
import { exchangeAssertion } from './token-endpoint.js';

/** The clock must differ this much from the server's before assertions are corrected. */
const SKEW_TOLERANCE_MS = 30_000;

/** What {@link Minter} needs: the credentials and the client's resolved options. */
export interface MinterOptions {
  /** The keys, in order of preference, and which of them the token endpoint refused. */
  keys: KeyRing;
  clientId: string;
  clientSecret: string;
  /** Lifetime of signed assertions, in seconds. */
  assertionLifetime: number;
  /** Lifetime assumed for a token without `expires_in` that is not a JWT, in seconds. */
  defaultExpiresIn: number;
  retry: RetryPolicy;
  http: HttpClient;
  /** Milliseconds since the epoch. */
  clock: () => number;
  emit: (event: DrillsterAuthEvent) => void;
  /** Fires when the client is closed: stops requests and retry waits. */
  closed: AbortSignal;
}

/**
 * Mints tokens: signs an assertion and exchanges it, retrying transient failures, correcting
 * the assertion clock once on `invalid_grant` with a far-off `Date`, and on any other
 * `invalid_grant` trying the next key of the ring once (a deleted key must not fail a caller
 * while another listed key works). No caching and no single flight: the client owns those.
 */
export class Minter {
  readonly #options: MinterOptions;
  /** Added to our clock for assertions: the server's clock minus ours, once corrected. */
  #clockOffset = 0;

  constructor(options: MinterOptions) {
    this.#options = options;
  }

  /** Signs an assertion for `subject`, for `audience` (the token endpoint), at the corrected time. */
  assertion(audience: string, subject: string): Promise<string> {
    const { keys, assertionLifetime, clock } = this.#options;
    const now = clock();
    return signAssertion(keys.next(now), {
      audience,
      subject,
      lifetime: assertionLifetime,
      now: now + this.#clockOffset,
    });
  }

  /**
   * Requests a new token, retrying transient failures, correcting for clock skew once and trying
   * each key at most once (in the ring's order); when every key is refused, the last key's
   * `invalid_grant` is thrown.
   */
  async mint(endpoint: string, subject: string, background: boolean): Promise<CachedToken> {
    const o = this.#options;
    const keys = o.keys.order(o.clock());
    let keyIndex = 0;
    /** Keys refused in this mint, reported once a later key is accepted. */
    const refused: { key: ServiceAccountKey; error: TokenEndpointError }[] = [];
    let skewCorrected = false;
    for (let attempt = 1; ; attempt++) {
      const key = keys[keyIndex] as ServiceAccountKey;
      o.emit({ type: 'token_requested', subject, attempt, background });
      const started = o.clock();
      try {
        const assertion = await signAssertion(key, {
          audience: endpoint,
          subject,
          lifetime: o.assertionLifetime,
          now: started + this.#clockOffset,
        });
        const response = await exchangeAssertion(o.http, {
          tokenEndpoint: endpoint,
          clientId: o.clientId,
          clientSecret: o.clientSecret,
          assertion,
          fallbackExpiresIn: o.defaultExpiresIn,
          now: started + this.#clockOffset,
          signal: o.closed,
        });
        this.#accepted(key, refused);
        const expiresAt = Math.round(started + response.expiresIn * 1000);
        o.emit({
          type: 'token_issued',
          subject,
          expiresAt,
          lifetime: response.expiresIn,
          durationMs: o.clock() - started,
        });
        return { accessToken: response.accessToken, expiresAt, issuedAt: started, subject };
      } catch (error) {
        if (!skewCorrected && this.#correctSkew(error)) {
          skewCorrected = true;
          attempt--;
          continue;
        }
        if (isInvalidGrant(error) && keyIndex + 1 < keys.length) {
          refused.push({ key, error });
          keyIndex++;
          attempt--;
          continue;
        }
        if (attempt >= o.retry.attempts || !isRetryable(error)) throw error;
        const delayMs = retryDelay(o.retry, attempt, error);
        if (delayMs === undefined) throw error;
        o.emit({ type: 'retry', subject, attempt, delayMs, error });
        await sleep(delayMs, o.closed);
      }
    }
  }

  /** Tells the ring that `key` works and that the keys tried before it in this mint do not. */
  #accepted(
    key: ServiceAccountKey,
    refused: readonly { key: ServiceAccountKey; error: TokenEndpointError }[],
  ): void {
    const { keys, clock, emit } = this.#options;
    keys.accept(key);
    for (const rejected of refused) {
      const retryAt = keys.refuse(rejected.key, clock());
      if (retryAt === undefined) continue;
      emit({
        type: 'key_rejected',
        keyId: rejected.key.keyId,
        acceptedKeyId: key.keyId,
        retryAt,
        error: rejected.error,
      });
    }
  }

  /** On `invalid_grant`, adopts the server's clock when its `Date` is far from ours. */
  #correctSkew(error: unknown): boolean {
    if (!isInvalidGrant(error)) return false;
    const date = error.response.headers.get('date');
    const serverNow = date === null ? Number.NaN : Date.parse(date);
    if (Number.isNaN(serverNow)) return false;
    const offset = serverNow - this.#options.clock();
    if (Math.abs(offset - this.#clockOffset) <= SKEW_TOLERANCE_MS) return false;
    this.#clockOffset = offset;
    this.#options.emit({ type: 'clock_skew', offsetMs: offset });
    return true;
  }
}

function isInvalidGrant(error: unknown): error is TokenEndpointError {
  return error instanceof TokenEndpointError && error.error === 'invalid_grant';
}
