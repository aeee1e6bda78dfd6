import { denoInspect, nodeInspect, REDACTED } from './redact.js';

let readHeader: (token: AccessToken) => string;

/**
 * An access token for one subject. Read `accessToken` to use it; `JSON.stringify`,
 * `util.inspect` and `String()` show it as `[redacted]` so it cannot slip into a log.
 */
export class AccessToken {
  /** The bearer token. */
  readonly accessToken: string;
  /** Always `Bearer` (Drillster answers `bearer`; the scheme is case-insensitive). */
  readonly tokenType = 'Bearer' as const;
  /** Milliseconds since the epoch at which the token expires. */
  readonly expiresAt: number;
  /** Whom the token is for: the service account id, or a managed user's id or email. */
  readonly subject: string;
  readonly #header: string;

  static {
    readHeader = (token) => token.#header;
  }

  /** @internal Tokens come from `DrillsterAuth.getAccessToken()`. */
  constructor(accessToken: string, expiresAt: number, subject: string) {
    this.accessToken = accessToken;
    this.expiresAt = expiresAt;
    this.subject = subject;
    this.#header = `Bearer ${accessToken}`;
    Object.freeze(this);
  }

  toJSON(): Record<string, string | number> {
    return {
      accessToken: REDACTED,
      tokenType: this.tokenType,
      expiresAt: this.expiresAt,
      subject: this.subject,
    };
  }

  toString(): string {
    return `AccessToken(subject=${this.subject}, expiresAt=${new Date(this.expiresAt).toISOString()})`;
  }

  [nodeInspect](): string {
    return this.toString();
  }

  [denoInspect](): string {
    return this.toString();
  }
}

/**
 * `Bearer <access token>`, the value of an `Authorization` header for `token`. Built once per
 * token, so sending a cached token allocates no string. Every adapter builds its header here.
 */
export function authorizationHeader(token: AccessToken): string {
  return readHeader(token);
}
