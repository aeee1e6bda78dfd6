import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliError } from './errors.js';

/** A command's flags, as `node:util` parseArgs takes them. */
export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** What {@link parseCommandArgs} returns: option values by name, and positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  /** The values of each option with `multiple: true` that was given, in order. */
  lists: Record<string, string[]>;
  positionals: string[];
}

/** `--help`/`-h`, accepted by every command. */
export const HELP_OPTION = {
  help: { type: 'boolean', short: 'h' },
} as const satisfies CommandOptions;

/**
 * Strict `node:util` parseArgs; its errors become {@link CliError} `ERR_USAGE` (exit 2).
 *
 * @param maxPositionals Most positional arguments the command takes. Default 0.
 */
export function parseCommandArgs(
  command: string,
  args: string[],
  options: CommandOptions,
  maxPositionals = 0,
): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: bindValues(args, { ...HELP_OPTION, ...options }),
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
  const values: ParsedArgs['values'] = {};
  const lists: ParsedArgs['lists'] = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (Array.isArray(value)) lists[name] = value.map(String);
    else values[name] = value;
  }
  return { values, lists, positionals: parsed.positionals };
}

/**
 * Joins each string option with the argument after it (`--client-secret -abc` becomes
 * `--client-secret=-abc`): parseArgs refuses a value that starts with a dash as ambiguous, and
 * generated secrets and ids may well start with one.
 */
function bindValues(args: string[], options: CommandOptions): string[] {
  const takesValue = new Set<string>();
  for (const [name, option] of Object.entries(options)) {
    if (option.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (option.short) takesValue.add(`-${option.short}`);
  }
  const bound: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      bound.push(...args.slice(i));
      break;
    }
    const value = args[i + 1];
    if (takesValue.has(arg) && value !== undefined) {
      bound.push(arg.startsWith('--') ? `${arg}=${value}` : `${arg}${value}`);
      i++;
    } else {
      bound.push(arg);
    }
  }
  return bound;
}

function usageError(command: string, error: unknown): CliError {
  const raw = error instanceof Error ? error.message : String(error);
  // Node appends a paragraph on `--` escaping to some messages; the first sentence is the point.
  const first = raw.split('. To specify')[0] ?? raw;
  return new CliError('ERR_USAGE', `${command}: ${first}; see drillster-auth ${command} --help`);
}
