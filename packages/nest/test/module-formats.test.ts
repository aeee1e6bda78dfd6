import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

// Each app boots Nest from the built package in a fresh Node process, the way an application
// compiled to that module format loads it. Run `pnpm build` first (turbo does).
describe.each([
  ['CommonJS', 'app.cjs', /\/dist\/index\.cjs$/],
  ['ESM', 'app.mjs', /\/dist\/index\.js$/],
])('a %s application', (_, script, entry) => {
  it('boots the module from the built package and talks to the mock server', async () => {
    const path = fileURLToPath(new URL(`./formats/${script}`, import.meta.url));
    const { stdout } = await run(process.execPath, [path], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({
      entry: expect.stringMatching(entry),
      apiUser: true,
      widgetUser: true,
    });
  });
});
