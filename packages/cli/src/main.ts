import { DrillsterAuthError } from '@drillster-auth/core';
import { version } from '../package.json';
import { parseCommandArgs } from './args.js';
import type { Command } from './command.js';
import { assertionCommand } from './commands/assertion.js';
import { doctorCommand } from './commands/doctor.js';
import { inspectKeyCommand } from './commands/inspect-key.js';
import { keygenCommand } from './commands/keygen.js';
import { mockServerCommand } from './commands/mock-server.js';
import { tokenCommand } from './commands/token.js';
import { CliError } from './errors.js';
import { EXIT_CODES, exitCodeFor } from './exit-codes.js';
import type { CliIo } from './io.js';
import { Secrets } from './secrets.js';
import { escapeControl } from './terminal.js';

const COMMANDS: readonly Command[] = [
  tokenCommand,
  assertionCommand,
  inspectKeyCommand,
  keygenCommand,
  doctorCommand,
  mockServerCommand,
];

const TOOL_HELP = `Usage: drillster-auth <command> [options]

Drillster access tokens for service accounts (OAuth 2.0 JWT bearer grant, RFC 7523).

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(13)} ${command.summary}`).join('\n')}

Options:
  -h, --help     Show this help; drillster-auth <command> --help for a command's.
  -v, --version  Print the version.

Exit codes:
  0  success
  1  unexpected failure (set DEBUG=drillster-auth for a stack trace)
  2  usage, configuration or key file error
  3  the token endpoint refused the request (e.g. invalid_grant, invalid_client)
  4  the server is unavailable: unreachable, timed out, or 408/429/5xx after retries; try later
  5  the server answered with something unusable (a malformed or oversized response)

On failure, stdout stays empty (except doctor's report) and the last line on stderr (after
any warnings) is:
  drillster-auth: <message> (<code>)`;

/**
 * Runs `drillster-auth` with `args` (the arguments after the program name) and resolves to the
 * process exit code. Never throws: failures become one line on `io.stderr`.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export async function main(args: string[], io: CliIo): Promise<number> {
  const secrets = new Secrets();
  try {
    return await dispatch(args, io, secrets);
  } catch (error) {
    report(error, io, secrets);
    return exitCodeFor(error);
  }
}

async function dispatch(args: string[], io: CliIo, secrets: Secrets): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined) {
    throw new CliError('ERR_USAGE', 'no command given; see drillster-auth --help');
  }
  if (first === '--help' || first === '-h') {
    io.stdout.write(`${TOOL_HELP}\n`);
    return EXIT_CODES.ok;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`${version}\n`);
    return EXIT_CODES.ok;
  }
  if (first === 'help') {
    const command = rest[0] === undefined ? undefined : findCommand(rest[0]);
    io.stdout.write(`${command?.help ?? TOOL_HELP}\n`);
    return EXIT_CODES.ok;
  }
  const command = findCommand(first);
  const parsed = parseCommandArgs(command.name, rest, command.options, command.maxPositionals);
  if (parsed.values.help) {
    io.stdout.write(`${command.help}\n`);
    return EXIT_CODES.ok;
  }
  return command.run(parsed, { io, secrets });
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    throw new CliError(
      'ERR_USAGE',
      `unknown command ${JSON.stringify(name)}; commands: ${COMMANDS.map((c) => c.name).join(', ')}`,
    );
  }
  return command;
}

/**
 * Scrubbed of secrets, then of control characters: a server's `error_description` must not
 * drive the terminal, and escaping first could split a secret that scrubbing would catch.
 */
function report(error: unknown, io: CliIo, secrets: Secrets): void {
  io.stderr.write(`${escapeControl(secrets.redact(describeError(error)))}\n`);
  if (debugEnabled(io.env.DEBUG)) {
    const lines = secrets.redact(stackTrace(error)).split('\n');
    io.stderr.write(`${lines.map(escapeControl).join('\n')}\n`);
  }
}

function describeError(error: unknown): string {
  if (error instanceof CliError || error instanceof DrillsterAuthError) {
    return `drillster-auth: ${oneLine(error.message)} (${error.code})`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `drillster-auth: unexpected failure: ${oneLine(message)} (ERR_UNEXPECTED)`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function debugEnabled(value: string | undefined): boolean {
  return (value ?? '')
    .split(/[\s,]+/)
    .some((name) => name === '*' || name === 'drillster-auth' || name === 'drillster-auth:*');
}

/** The stack and every cause's, for DEBUG=drillster-auth. */
function stackTrace(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    const text = current instanceof Error ? (current.stack ?? current.message) : String(current);
    lines.push(depth === 0 ? text : `Caused by: ${text}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join('\n');
}
