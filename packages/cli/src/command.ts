import type { CommandOptions, ParsedArgs } from './args.js';
import type { CliIo } from './io.js';
import type { Secrets } from './secrets.js';

/** What a command gets to work with. */
export interface CommandContext {
  io: CliIo;
  /** Secrets seen so far; whatever the command adds is scrubbed from error output. */
  secrets: Secrets;
}

/** One subcommand of `drillster-auth`. */
export interface Command {
  name: string;
  /** One line for the tool's command list. */
  summary: string;
  /** The full `--help` text. */
  help: string;
  /** The command's flags; `--help` (`-h`) is every command's and prints {@link help}. */
  options: CommandOptions;
  /** Most positional arguments the command takes. Default 0. */
  maxPositionals?: number;
  /**
   * Runs the command with the arguments after its name, parsed by `parseCommandArgs` (a usage
   * error or `--help` never reaches it); resolves to the exit code.
   */
  run(parsed: ParsedArgs, context: CommandContext): Promise<number>;
}
