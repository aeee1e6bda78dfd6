import { DrillsterAuthError } from '@drillster-auth/core';
import { CliError } from './errors.js';

/** Exit codes of the `drillster-auth` command. */
export const EXIT_CODES = {
  /** The command did what was asked. */
  ok: 0,
  /** Something nobody planned for; run with `DEBUG=drillster-auth` for a stack trace. */
  unexpected: 1,
  /** Bad usage, missing or invalid configuration, or an unusable key file. */
  usage: 2,
  /** The token endpoint refused the request (an OAuth error such as `invalid_grant`, or an HTTP error status). */
  refused: 3,
  /** The server could not be reached or did not answer in time. */
  unreachable: 4,
} as const;

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The exit code that tells a script what kind of failure `error` is. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (!(error instanceof DrillsterAuthError)) return EXIT_CODES.unexpected;
  if (error.code.startsWith('ERR_KEY_FILE_')) return EXIT_CODES.usage;
  switch (error.code) {
    case 'ERR_INVALID_OPTIONS':
    case 'ERR_INSECURE_ENDPOINT':
    // The server answered, but not as an issuer we were told to trust: the issuer is misconfigured.
    case 'ERR_DISCOVERY':
    case 'ERR_ISSUER_MISMATCH':
      return EXIT_CODES.usage;
    case 'ERR_TOKEN_ENDPOINT':
      return EXIT_CODES.refused;
    case 'ERR_NETWORK':
    case 'ERR_TIMEOUT':
      return EXIT_CODES.unreachable;
    default:
      return EXIT_CODES.unexpected;
  }
}
