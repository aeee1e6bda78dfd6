import { fileURLToPath } from 'node:url';
import { inputEnv, type RuntimeServer, runToCompletion, spawnServer } from './process.js';

// The package's real binary: the .bin shim runs it in a child process that a kill would orphan.
const bun = fileURLToPath(new URL('../../node_modules/bun/bin/bun.exe', import.meta.url));

/** Serves a bundled host script (see `fixtures/serve-bun.ts`) with Bun; `input` is passed in the environment. */
export function startBun(script: string, input: unknown): Promise<RuntimeServer> {
  return spawnServer(bun, ['run', '--no-install', script], { env: inputEnv(input) });
}

/** Runs a bundled script with Bun and returns what it printed. */
export function runBun(script: string, input: unknown): Promise<string> {
  return runToCompletion(bun, ['run', '--no-install', script], inputEnv(input));
}
