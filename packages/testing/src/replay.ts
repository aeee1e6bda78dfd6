/** Slack before a used `jti` is forgotten, so a clock fault moving "now" back cannot revive it. */
const RETENTION_MS = 3_600_000;

/** The `jti` values of accepted assertions, per issuer, kept until long after they expire. */
export class ReplayCache {
  readonly #seen = new Map<string, number>();

  has(issuer: string, jti: string, now: number): boolean {
    for (const [key, expiresAt] of this.#seen) {
      if (expiresAt + RETENTION_MS < now) this.#seen.delete(key);
    }
    return this.#seen.has(`${issuer} ${jti}`);
  }

  add(issuer: string, jti: string, expiresAt: number): void {
    this.#seen.set(`${issuer} ${jti}`, expiresAt);
  }
}
