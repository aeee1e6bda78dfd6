import { fileURLToPath } from 'node:url';
import {
  INPUT_VARIABLE,
  inputEnv,
  type RuntimeServer,
  runToCompletion,
  spawnServer,
} from './process.js';

// The package's real binary: the .bin shim runs it in a child process that a kill would orphan.
const deno = fileURLToPath(new URL('../../node_modules/deno/deno', import.meta.url));
const flags = [
  '--quiet',
  '--no-config',
  '--no-npm',
  '--allow-net=127.0.0.1',
  `--allow-env=${INPUT_VARIABLE}`,
];

/** Serves a bundled host script (see `fixtures/serve-deno.ts`) with Deno; `input` is passed in the environment. */
export function startDeno(script: string, input: unknown): Promise<RuntimeServer> {
  return spawnServer(deno, ['run', ...flags, script], { env: inputEnv(input) });
}

/** Runs a bundled script with Deno and returns what it printed. */
export function runDeno(script: string, input: unknown): Promise<string> {
  return runToCompletion(deno, ['run', ...flags, script], inputEnv(input));
}
