import { signAssertion } from './assertion.js';
import type { CachedToken } from './cache/types.js';
import { TokenEndpointError } from './errors.js';
import type { DrillsterAuthEvent } from './events.js';
import type { HttpClient } from './http.js';
import type { ServiceAccountKey } from './key-file.js';
import { isRetryable, type RetryPolicy, retryDelay, sleep } from './retry.js';
import { exchangeAssertion } from './token-endpoint.js';

/** The clock must differ this much from the server's before assertions are corrected. */
const SKEW_TOLERANCE_MS = 30_000;

/** What {@link Minter} needs: the credentials and the client's resolved options. */
export interface MinterOptions {
  key: ServiceAccountKey;
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
 * Mints tokens: signs an assertion and exchanges it, retrying transient failures and correcting
 * the assertion clock once on `invalid_grant` with a far-off `Date`. No caching and no single
 * flight: the client owns those.
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
    const { key, assertionLifetime, clock } = this.#options;
    return signAssertion(key, {
      audience,
      subject,
      lifetime: assertionLifetime,
      now: clock() + this.#clockOffset,
    });
  }

  /** Requests a new token, retrying transient failures and correcting for clock skew once. */
  async mint(endpoint: string, subject: string, background: boolean): Promise<CachedToken> {
    const o = this.#options;
    let skewCorrected = false;
    for (let attempt = 1; ; attempt++) {
      o.emit({ type: 'token_requested', subject, attempt, background });
      const started = o.clock();
      try {
        const assertion = await signAssertion(o.key, {
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
        if (attempt >= o.retry.attempts || !isRetryable(error)) throw error;
        const delayMs = retryDelay(o.retry, attempt, error);
        if (delayMs === undefined) throw error;
        o.emit({ type: 'retry', subject, attempt, delayMs, error });
        await sleep(delayMs, o.closed);
      }
    }
  }

  /** On `invalid_grant`, adopts the server's clock when its `Date` is far from ours. */
  #correctSkew(error: unknown): boolean {
    if (!(error instanceof TokenEndpointError) || error.error !== 'invalid_grant') return false;
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
