import { type AnyDrillsterAuthError, DrillsterAuthError } from '@drillster-auth/core';
import { CliError, type CliErrorCode } from './errors.js';

/** Exit codes of the `drillster-auth` command. */
export const EXIT_CODES = {
  /** The command did what was asked. */
  ok: 0,
  /** Something nobody planned for; run with `DEBUG=drillster-auth` for a stack trace. */
  unexpected: 1,
  /** Bad usage, missing or invalid configuration, or an unusable key file: yours to fix. */
  usage: 2,
  /** The token endpoint refused the request (an OAuth error such as `invalid_grant`, or another 4xx). */
  refused: 3,
  /**
   * The server is unavailable for now: it could not be reached, did not answer in time, or
   * answered 408, 429 or 5xx (discovery included) after the retries. Trying later may work.
   */
  unreachable: 4,
  /** The server answered, but with something unusable: a malformed or oversized response. */
  badResponse: 5,
} as const;

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/**
 * The exit code of every error code, in one place. An HTTP status that says "try later" on an
 * error that carries one turns it into {@link EXIT_CODES.unreachable} (see {@link exitCodeFor}).
 * Keyed by the codes of core's `AnyDrillsterAuthError` and of `CliError`, so that a code added to
 * the core or the CLI without an entry here fails to compile.
 */
const EXIT_CODE_OF = {
  ERR_USAGE: EXIT_CODES.usage,
  ERR_MISSING_CONFIG: EXIT_CODES.usage,
  ERR_INVALID_CONFIG: EXIT_CODES.usage,
  ERR_KEY_FILE_READ: EXIT_CODES.usage,
  ERR_SECRET_FILE_READ: EXIT_CODES.usage,
  // The port is taken or not ours: choose another.
  ERR_LISTEN: EXIT_CODES.usage,
  // keygen never overwrites: the file may hold a key that is already registered.
  ERR_KEY_FILE_EXISTS: EXIT_CODES.usage,
  ERR_KEY_FILE_WRITE: EXIT_CODES.usage,
  // doctor: this machine's clock is off; fix it (NTP), the server's is the reference.
  ERR_CLOCK_SKEW: EXIT_CODES.usage,
  // doctor: the API refused the token (401/403): as the token endpoint's refusals.
  ERR_API_REFUSED: EXIT_CODES.refused,
  // doctor: the API could not be reached, timed out, or answered 408, 429 or 5xx.
  ERR_API_UNAVAILABLE: EXIT_CODES.unreachable,
  // doctor: the API answered something that is not the expected JSON.
  ERR_API_BAD_RESPONSE: EXIT_CODES.badResponse,
  ERR_KEY_FILE_INVALID_JSON: EXIT_CODES.usage,
  ERR_KEY_FILE_MISSING_FIELD: EXIT_CODES.usage,
  ERR_KEY_FILE_INVALID_FIELD: EXIT_CODES.usage,
  ERR_KEY_FILE_NOT_PKCS8: EXIT_CODES.usage,
  ERR_KEY_FILE_MALFORMED_KEY: EXIT_CODES.usage,
  ERR_KEY_FILE_UNSUPPORTED_KEY_TYPE: EXIT_CODES.usage,
  ERR_KEY_FILE_WEAK_KEY: EXIT_CODES.usage,
  ERR_KEY_FILE_NOT_FOUND: EXIT_CODES.usage,
  ERR_KEY_FILE_UNREADABLE: EXIT_CODES.usage,
  ERR_INVALID_OPTIONS: EXIT_CODES.usage,
  ERR_INSECURE_ENDPOINT: EXIT_CODES.usage,
  // No metadata, or metadata that is no use: the issuer is wrong (unless the status says "later").
  ERR_DISCOVERY: EXIT_CODES.usage,
  // The server answered, but not as the issuer we were told to trust: the issuer is misconfigured.
  ERR_ISSUER_MISMATCH: EXIT_CODES.usage,
  ERR_TOKEN_ENDPOINT: EXIT_CODES.refused,
  ERR_NETWORK: EXIT_CODES.unreachable,
  ERR_TIMEOUT: EXIT_CODES.unreachable,
  ERR_INVALID_TOKEN_RESPONSE: EXIT_CODES.badResponse,
  ERR_RESPONSE_TOO_LARGE: EXIT_CODES.badResponse,
  // The CLI aborts nothing: an abort is as unplanned as a bug.
  ERR_ABORTED: EXIT_CODES.unexpected,
  ERR_UNEXPECTED: EXIT_CODES.unexpected,
} as const satisfies Record<AnyDrillsterAuthError['code'] | CliErrorCode, ExitCode>;

/**
 * Statuses that mean "not now" rather than "not this request" (408, 429, 5xx): the core retries
 * them too. The exit code and the doctor's diagnoses both read a status through this rule.
 */
export function isTransientStatus(status: unknown): boolean {
  return typeof status === 'number' && (status === 408 || status === 429 || status >= 500);
}

/** The exit code that tells a script what kind of failure `error` is. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (!(error instanceof DrillsterAuthError)) return EXIT_CODES.unexpected;
  // Every DrillsterAuthError is one of the union (core's tests pin it), which narrows on `code`.
  const known = error as AnyDrillsterAuthError;
  if (
    (known.code === 'ERR_TOKEN_ENDPOINT' || known.code === 'ERR_DISCOVERY') &&
    isTransientStatus(known.status)
  ) {
    return EXIT_CODES.unreachable;
  }
  return EXIT_CODE_OF[known.code] ?? EXIT_CODES.unexpected;
}

/** The exit code of a {@link CliError} code. */
export function exitCodeOfCliError(code: CliErrorCode): ExitCode {
  return EXIT_CODE_OF[code];
}
