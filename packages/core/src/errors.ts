/**
 * Every error this SDK throws is a {@link DrillsterAuthError} with a fixed `code`.
 * Messages name what is wrong and never contain a private key, a client secret or a token.
 */

/** All error codes, one per failure. */
export type DrillsterAuthErrorCode =
  | KeyFileErrorCode
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_INSECURE_ENDPOINT'
  | 'ERR_DISCOVERY'
  | 'ERR_ISSUER_MISMATCH'
  | 'ERR_TOKEN_ENDPOINT'
  | 'ERR_INVALID_TOKEN_RESPONSE'
  | 'ERR_RESPONSE_TOO_LARGE'
  | 'ERR_NETWORK'
  | 'ERR_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_UNEXPECTED';

/** Error codes of {@link KeyFileError}. */
export type KeyFileErrorCode =
  | 'ERR_KEY_FILE_INVALID_JSON'
  | 'ERR_KEY_FILE_MISSING_FIELD'
  | 'ERR_KEY_FILE_INVALID_FIELD'
  | 'ERR_KEY_FILE_NOT_PKCS8'
  | 'ERR_KEY_FILE_MALFORMED_KEY'
  | 'ERR_KEY_FILE_UNSUPPORTED_KEY_TYPE'
  | 'ERR_KEY_FILE_WEAK_KEY'
  | 'ERR_KEY_FILE_NOT_FOUND'
  | 'ERR_KEY_FILE_UNREADABLE';

/**
 * Every error drillster-auth throws, as a union discriminated by `code`: narrow with
 * `switch (error.code)` and each case has its class's fields (`status` on `ERR_TOKEN_ENDPOINT`,
 * `field` on key file codes). Catch with `instanceof DrillsterAuthError`, then treat the error
 * as this type. Covers every {@link DrillsterAuthErrorCode}; `ERR_UNEXPECTED` is the base class.
 */
export type AnyDrillsterAuthError =
  | KeyFileError
  | ConfigurationError
  | DiscoveryError
  | TokenEndpointError
  | TokenResponseError
  | ResponseTooLargeError
  | NetworkError
  | AbortError
  // A failure nobody planned for; `cause` is what was thrown.
  | (DrillsterAuthError & { readonly code: 'ERR_UNEXPECTED' });

/** Base class of every error thrown by drillster-auth. Check `code`, not the message. */
export class DrillsterAuthError extends Error {
  readonly code: DrillsterAuthErrorCode;

  constructor(code: DrillsterAuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The service account key file is unusable. `field` names the offending field when there is one. */
export class KeyFileError extends DrillsterAuthError {
  declare readonly code: KeyFileErrorCode;
  readonly field: 'privateKey' | 'keyId' | 'serviceAccountId' | undefined;

  constructor(
    code: KeyFileErrorCode,
    message: string,
    options?: { cause?: unknown; field?: KeyFileError['field'] },
  ) {
    super(code, message, options);
    this.field = options?.field;
  }
}

/** An option passed to the client is missing or invalid (`ERR_INVALID_OPTIONS`), or an endpoint is not https (`ERR_INSECURE_ENDPOINT`). */
export class ConfigurationError extends DrillsterAuthError {
  declare readonly code: 'ERR_INVALID_OPTIONS' | 'ERR_INSECURE_ENDPOINT';
}

/**
 * Authorization server metadata could not be fetched or is unusable (`ERR_DISCOVERY`), or names
 * another issuer (`ERR_ISSUER_MISMATCH`). When the metadata server answered an HTTP error,
 * `status` says which: 408, 429 and 5xx are transient (retried like the token endpoint's, and
 * what a caller should treat as "try again later"); `status` is `undefined` for a document that
 * is unusable. A metadata server that could not be reached at all gives a {@link NetworkError}.
 */
export class DiscoveryError extends DrillsterAuthError {
  declare readonly code: 'ERR_DISCOVERY' | 'ERR_ISSUER_MISMATCH';
  /** HTTP status of the metadata response, when it was an error status. */
  readonly status: number | undefined;
  /** Seconds the server asked us to wait (`Retry-After`), when it did. */
  readonly retryAfter: number | undefined;

  constructor(
    code: DiscoveryError['code'],
    message: string,
    options?: { cause?: unknown; status?: number | undefined; retryAfter?: number | undefined },
  ) {
    super(code, message, options);
    this.status = options?.status;
    this.retryAfter = options?.retryAfter;
  }
}

/**
 * The token endpoint refused the request with an RFC 6749 §5.2 error response, or answered
 * with an HTTP error status. The wire fields are kept as they came.
 */
export class TokenEndpointError extends DrillsterAuthError {
  declare readonly code: 'ERR_TOKEN_ENDPOINT';
  /** HTTP status of the response. */
  readonly status: number;
  /** OAuth `error` code, e.g. `invalid_grant`; `undefined` when the body was not an OAuth error. */
  readonly error: string | undefined;
  /** OAuth `error_description`, when the server sent one. */
  readonly errorDescription: string | undefined;
  /** Seconds the server asked us to wait (`Retry-After`), when it did. */
  readonly retryAfter: number | undefined;
  /** The raw response; not enumerable, so it never lands in logs. */
  declare readonly response: Response;

  constructor(
    message: string,
    fields: {
      status: number;
      error?: string | undefined;
      errorDescription?: string | undefined;
      retryAfter?: number | undefined;
      response: Response;
    },
  ) {
    super('ERR_TOKEN_ENDPOINT', message);
    this.status = fields.status;
    this.error = fields.error;
    this.errorDescription = fields.errorDescription;
    this.retryAfter = fields.retryAfter;
    Object.defineProperty(this, 'response', { value: fields.response, enumerable: false });
  }
}

/** The token endpoint answered 2xx with a body that is not a usable bearer token response. */
export class TokenResponseError extends DrillsterAuthError {
  declare readonly code: 'ERR_INVALID_TOKEN_RESPONSE';
}

/**
 * A response body was larger than the SDK reads (`ERR_RESPONSE_TOO_LARGE`): more than `limit`
 * bytes of token response or metadata. The body is read as a stream and the read stops at the
 * limit, so a huge body costs neither memory nor the time to download it.
 */
export class ResponseTooLargeError extends DrillsterAuthError {
  declare readonly code: 'ERR_RESPONSE_TOO_LARGE';
  /** HTTP status of the response. */
  readonly status: number;
  /** The most bytes read, in bytes. */
  readonly limit: number;

  constructor(message: string, fields: { status: number; limit: number }) {
    super('ERR_RESPONSE_TOO_LARGE', message);
    this.status = fields.status;
    this.limit = fields.limit;
  }
}

/**
 * The request got no complete HTTP answer: connection refused, reset, DNS failure, a body cut
 * short (`ERR_NETWORK`), or it ran past its timeout (`ERR_TIMEOUT`). `cause` is a fresh `Error`
 * with the runtime's error name, `code` (e.g. `ECONNRESET`) and message: never the HTTP
 * library's own error, which holds the request and so the client secret and the assertion.
 */
export class NetworkError extends DrillsterAuthError {
  declare readonly code: 'ERR_NETWORK' | 'ERR_TIMEOUT';
}

/** The caller's `AbortSignal` fired. `cause` is the signal's reason. */
export class AbortError extends DrillsterAuthError {
  declare readonly code: 'ERR_ABORTED';
}
