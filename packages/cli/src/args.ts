import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** What {@link parseCommandArgs} returns: option values by name, and positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** `--help`/`-h`, accepted by every command. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const satisfies Options;

/**
 * Strict `node:util` parseArgs; its errors become {@link CliError} `ERR_USAGE` (exit 2).
 *
 * @param maxPositionals Most positional arguments the command takes. Default 0.
 */
export function parseCommandArgs(
  command: string,
  args: string[],
  options: Options,
  maxPositionals = 0,
): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      options: { ...HELP_OPTION, ...options },
      strict: true,
      allowPositionals: maxPositionals > 0,
    });
  } catch (error) {
    throw usageError(command, error);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new CliError(
      'ERR_USAGE',
      `${command}: too many arguments; see drillster-auth ${command} --help`,
    );
  }
  return {
    values: parsed.values as ParsedArgs['values'],
    positionals: parsed.positionals,
  };
}

function usageError(command: string, error: unknown): CliError {
  const raw = error instanceof Error ? error.message : String(error);
  // Node appends a paragraph on `--` escaping to some messages; the first sentence is the point.
  const first = raw.split('. To specify')[0] ?? raw;
  return new CliError('ERR_USAGE', `${command}: ${first}; see drillster-auth ${command} --help`);
}
