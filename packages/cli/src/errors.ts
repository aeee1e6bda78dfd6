import type { ExitCode } from './exit-codes.js';

/** Error codes of {@link CliError}. */
export type CliErrorCode =
  | 'ERR_USAGE'
  | 'ERR_MISSING_CONFIG'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_KEY_FILE_READ'
  | 'ERR_SECRET_FILE_READ'
  | 'ERR_LISTEN';

/** A failure of the command line itself (bad arguments, missing configuration, unreadable files). */
export class CliError extends Error {
  readonly code: CliErrorCode;
  /** The process exit code this failure maps to. */
  readonly exitCode: ExitCode;

  constructor(
    code: CliErrorCode,
    message: string,
    options?: { cause?: unknown; exitCode?: ExitCode },
  ) {
    super(message, options);
    this.code = code;
    // Every CLI error is the caller's to fix, hence usage (2) unless told otherwise.
    this.exitCode = options?.exitCode ?? 2;
    this.name = new.target.name;
  }
}
