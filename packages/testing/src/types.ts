/** Options for {@link MockDrillster}. */
export interface MockDrillsterOptions {
  /**
   * Issuer URL, without a trailing slash. Default: the origin of each incoming request, so it
   * matches whatever host and port the server listens on.
   */
  issuer?: string;
  /** Lifetime of issued access tokens, in seconds. Default 3600. */
  tokenLifetime?: number;
  /** Clock, in milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/** Drillster's JSON key file, exactly the fields its console downloads. */
export interface ServiceAccountKeyFile {
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), `\n` line breaks, 64-character lines. */
  privateKey: string;
  /** 32 hexadecimal characters, sent as the assertion's `kid`. */
  keyId: string;
  /** 22 base64url characters, the assertion's `iss` (and `sub` for the account itself). */
  serviceAccountId: string;
}

/** A service account key as {@link MockDrillster.createServiceAccount} hands it out. */
export interface MockServiceAccount {
  serviceAccountId: string;
  keyId: string;
  keyFile: ServiceAccountKeyFile;
  /** JSON text of the key file, as Drillster's console downloads it. */
  keyFileJson: string;
}

/** A registered OAuth client (`client_secret_post`). */
export interface MockClient {
  /** 32 hexadecimal characters unless given. */
  clientId: string;
  /** Random base64url unless given. */
  clientSecret: string;
}

/** An account managed by a service account's organization; usable as the assertion's `sub`. */
export interface MockManagedUser {
  /** 22 base64url characters unless given. */
  userId: string;
  /** `<userId>@users.example.com` (lowercased) unless given; matched case-insensitively. */
  email: string;
}

/**
 * A fault for upcoming token-endpoint requests (or, with `endpoint: 'metadata'`, metadata
 * requests; with `endpoint: 'api'`, requests to the protected `/api/…` resource).
 * Fields combine: `{ status: 503, retryAfter: 2 }` answers 503 with `Retry-After: 2`.
 */
export interface FaultOptions {
  /**
   * Which route the fault applies to: `token` (`POST /daas/oauth/token`), `metadata`
   * (`GET /.well-known/oauth-authorization-server`) or `api` (`/api/2.1.1/…`, where a `status`
   * of 401 answers as for an invalid token: RFC 6750 `invalid_token`). Default `token`. Each
   * route has its own queue; `dateOffsetMs`, `omitExpiresIn` and `tokenType` mean nothing for
   * `metadata` and `api`.
   */
  endpoint?: 'token' | 'metadata' | 'api';
  /**
   * Answer with this HTTP status and an RFC 6749 §5.2 body instead of handling the request:
   * `server_error` for 500, `temporarily_unavailable` for other 5xx, `slow_down` for 429,
   * `invalid_client` for 401, `access_denied` for 403, `invalid_request` for other 4xx. With
   * `body`, the status of that body (default 200).
   */
  status?: number;
  /**
   * How many upcoming token requests the fault applies to. Default 1; `Infinity` for a fault
   * with `dateOffsetMs`, which then stays in force next to queued faults until `clearFaults()`.
   */
  count?: number;
  /**
   * An outage: from the first request that takes this fault, it answers every request of its
   * route for this many milliseconds (the server's clock), then goes, however many requests
   * that was. Not with `count`. Queued behind a fault that does nothing (`{ delayMs: 0 }`), it
   * starts with the second request: a token endpoint that fails just as a refresh begins.
   */
  durationMs?: number;
  /** `Retry-After` header value: seconds or an HTTP date. */
  retryAfter?: string | number;
  /** Delay before answering, in milliseconds. */
  delayMs?: number;
  /**
   * Raw body to send instead of handling the request (malformed JSON, an HTML error page, …).
   * A function gets the request's form fields, `client_secret` and `assertion` included, so a
   * fault can echo them (a server that quotes the request in its error).
   */
  body?: string | ((form: URLSearchParams) => string);
  /**
   * Streams a body of this many bytes: `body` (default empty) padded with `A`, produced chunk by
   * chunk as the client reads, so a huge body costs the server no memory. `Content-Length` is
   * sent unless `chunked` is set.
   */
  bodyBytes?: number;
  /** With `bodyBytes`: leave out `Content-Length` (chunked transfer encoding). Default `false`. */
  chunked?: boolean;
  /**
   * Cuts the connection after this many bytes of the body, though `Content-Length` announced the
   * whole body: a truncated response, or a reset in the middle of the body.
   */
  closeAfterBytes?: number;
  /** `Content-Type` for `body`. Default `application/json`. */
  contentType?: string;
  /**
   * Shifts the server's clock by this many milliseconds: the `Date` header, the "now" that
   * assertions' `exp`/`iat`/`nbf` are checked against, and issued tokens' `exp`. Simulates a
   * client whose clock is off by `-dateOffsetMs`.
   */
  dateOffsetMs?: number;
  /** Successful responses leave out `expires_in`. */
  omitExpiresIn?: boolean;
  /** `token_type` to send. Default `bearer` (lowercase, as Drillster sends it). */
  tokenType?: string;
  /**
   * Close the connection without answering (a network error). The web handler returns
   * `Response.error()`; the Node wrapper destroys the socket.
   */
  dropConnection?: boolean;
}

/** Live counters; {@link MockDrillster.resetStats} zeroes them in place. */
export interface MockStats {
  /** Every POST to the token endpoint, faulted ones included. */
  tokenRequests: number;
  /** Every GET of the authorization server metadata, faulted ones included. */
  metadataRequests: number;
  tokensIssued: number;
  /** Token requests by the assertion's `sub`, when the assertion could be decoded. */
  tokenRequestsBySubject: Record<string, number>;
  /**
   * Rejections by OAuth error code (`invalid_grant`, `invalid_client`, `invalid_request`,
   * `unsupported_grant_type`). Injected faults are not counted here.
   */
  rejections: Record<string, number>;
  /** Requests to the protected resource (`/api/…`). */
  apiRequests: number;
  /** Protected-resource requests answered 401. */
  apiRejections: number;
  /** The raw assertion of the last token request (for header and claim tests). */
  lastAssertion?: string;
  /** The last token request's form fields, without `client_secret` and `assertion`. */
  lastRequestBody?: Record<string, string>;
}

/** An access token that verified, as the protected resource sees it. */
export interface VerifiedAccessToken {
  /** The account the token is for: the service account or a managed user's id. */
  subject: string;
  /** The service account that signed the assertion. */
  serviceAccountId: string;
  clientId: string;
  /** Expiry, in milliseconds since the epoch. */
  expiresAt: number;
}

/**
 * WebCrypto's `CryptoKey` as the consumer's runtime types declare it (the DOM lib, or
 * `@types/node` 22 and later), else a structural stand-in: a named `CryptoKey` in our declaration
 * files would not compile in a Node-only project (`lib: ["es2023"]`, `types: ["node"]`).
 */
export type WebCryptoKey = typeof globalThis extends { CryptoKey: { prototype: infer K } }
  ? K
  : {
      readonly type: string;
      readonly extractable: boolean;
      readonly algorithm: { readonly name: string };
      readonly usages: readonly string[];
    };
