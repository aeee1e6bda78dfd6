export type { MockServerInfo } from './commands/mock-server.js';
export { CliError, type CliErrorCode } from './errors.js';
export { EXIT_CODES, type ExitCode, exitCodeFor } from './exit-codes.js';
export type { CliIo, TextSink } from './io.js';
export { main } from './main.js';
