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
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: string[], context: CommandContext): Promise<number>;
}
