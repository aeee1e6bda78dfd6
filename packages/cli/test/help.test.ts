import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { expectFailure, run } from './helpers.js';

const COMMANDS = ['token', 'assertion', 'inspect-key', 'keygen', 'doctor', 'mock-server'];

describe('help and version', () => {
  it('--help lists every command and the exit codes', async () => {
    for (const flag of ['--help', '-h']) {
      const result = await run([flag]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      for (const command of COMMANDS) expect(result.stdout).toContain(`  ${command} `);
      expect(result.stdout).toMatch(/^ {2}4 {2}the server is unavailable/m);
      expect(result.stdout).toMatch(/^ {2}5 {2}the server answered with something unusable/m);
    }
  });

  it.each(COMMANDS)('%s --help exits 0 with its usage', async (command) => {
    for (const args of [
      [command, '--help'],
      [command, '-h'],
      ['help', command],
    ]) {
      const result = await run(args);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(new RegExp(`^Usage: drillster-auth ${command}\\b`));
    }
  });

  it('the connection commands warn that a secret flag shows in ps', async () => {
    for (const command of ['token', 'assertion', 'doctor']) {
      expect((await run([command, '--help'])).stdout).toContain('visible to other users in `ps`');
    }
  });

  it('mock-server --help says its secret is a throwaway', async () => {
    expect((await run(['mock-server', '--help'])).stdout).toContain('throwaway secret');
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(
      await readFile(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(await run(['--version'])).toEqual({
      code: 0,
      signal: null,
      stdout: `${version}\n`,
      stderr: '',
    });
  });

  it('exits 2 without a command or with an unknown one', async () => {
    expectFailure(await run([]), 2, 'ERR_USAGE', []);
    expect(expectFailure(await run(['tokne']), 2, 'ERR_USAGE', [])).toContain('"tokne"');
  });
});
