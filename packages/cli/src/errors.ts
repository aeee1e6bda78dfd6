import { type ExitCode, exitCodeOfCliError } from './exit-codes.js';

/** Error codes of {@link CliError}. */
export type CliErrorCode =
  | 'ERR_USAGE'
  | 'ERR_MISSING_CONFIG'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_KEY_FILE_READ'
  | 'ERR_SECRET_FILE_READ'
  | 'ERR_LISTEN'
  | 'ERR_KEY_FILE_EXISTS'
  | 'ERR_KEY_FILE_WRITE'
  | 'ERR_CLOCK_SKEW'
  | 'ERR_API_REFUSED'
  | 'ERR_API_UNAVAILABLE'
  | 'ERR_API_BAD_RESPONSE';

/** A failure of the command line itself (bad arguments, missing configuration, unreadable files). */
export class CliError extends Error {
  readonly code: CliErrorCode;
  /** The process exit code this failure maps to, from the one table in `exit-codes.ts`. */
  readonly exitCode: ExitCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.exitCode = exitCodeOfCliError(code);
    this.name = new.target.name;
  }
}
