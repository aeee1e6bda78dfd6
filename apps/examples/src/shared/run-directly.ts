import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Runs `main` when `moduleUrl` is the script node was started with, so examples are both runnable and importable. */
export function runDirectly(moduleUrl: string, main: () => Promise<void>): void {
  const entry = process.argv[1];
  if (!entry || realpathSync(entry) !== realpathSync(fileURLToPath(moduleUrl))) return;
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
    process.exitCode = 1;
  });
}
