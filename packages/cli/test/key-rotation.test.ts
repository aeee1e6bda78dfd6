import { delimiter } from 'node:path';
import type { MockClient, MockServiceAccount } from '@drillster-auth/testing';
import { expectNoLeaks, startMockDrillster } from '@drillster-auth/testing/node';
import { decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectFailure, pemBodyLines, type RunResult, run, tempDir } from './helpers.js';

// `--key-file` repeated and `DRILLSTER_KEY_FILE` listing several keys: the first that Drillster
// accepts signs, so a deleted key listed first costs one extra token request, not a failure.

let server: Awaited<ReturnType<typeof startMockDrillster>>;
let client: MockClient;
let deleted: MockServiceAccount;
let current: MockServiceAccount;
let dir: Awaited<ReturnType<typeof tempDir>>;
let deletedPath: string;
let currentPath: string;
let env: Record<string, string>;
let secrets: string[];

beforeAll(async () => {
  server = await startMockDrillster();
  let account: MockServiceAccount;
  ({ account, client } = await server.provision());
  deleted = account;
  current = await server.mock.addKey(account.serviceAccountId);
  server.mock.revokeKey(deleted.keyId);
  dir = await tempDir();
  deletedPath = await dir.file('deleted.json', deleted.keyFileJson);
  currentPath = await dir.file('current.json', current.keyFileJson);
  env = {
    DRILLSTER_CLIENT_ID: client.clientId,
    DRILLSTER_CLIENT_SECRET: client.clientSecret,
    DRILLSTER_ISSUER: server.issuer,
  };
  secrets = [
    client.clientSecret,
    deleted.keyFile.privateKey,
    current.keyFile.privateKey,
    ...pemBodyLines(deleted.keyFile.privateKey),
    ...pemBodyLines(current.keyFile.privateKey),
  ];
});

afterEach(() => server.mock.resetStats());

afterAll(async () => {
  await server?.close();
  await dir?.remove();
});

/** A token printed alone, from the second key after the first was refused. */
async function expectTokenFromCurrentKey(result: RunResult): Promise<void> {
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const token = result.stdout.trimEnd();
  expect(await server.mock.verifyAccessToken(token)).toBeDefined();
  expect(server.mock.stats.tokenRequests).toBe(2);
  expect(server.mock.stats.rejections).toEqual({ invalid_grant: 1 });
  expect(decodeProtectedHeader(server.mock.stats.lastAssertion as string).kid).toBe(current.keyId);
  expectNoLeaks(result, Object.fromEntries(secrets.map((s, i) => [`secret #${i}`, s])), 'output');
}

describe('several keys', () => {
  it('--key-file repeated lists keys in order of preference', async () => {
    await expectTokenFromCurrentKey(
      await run(['token', '--key-file', deletedPath, '--key-file', currentPath], env),
    );
  });

  it(`DRILLSTER_KEY_FILE lists paths separated by "${delimiter}"`, async () => {
    await expectTokenFromCurrentKey(
      await run(['token'], {
        ...env,
        DRILLSTER_KEY_FILE: `${deletedPath}${delimiter}${currentPath}`,
      }),
    );
  });

  it('DRILLSTER_KEY_FILE holds a JSON array of key files, paths or key file texts', async () => {
    await expectTokenFromCurrentKey(
      await run(['token'], {
        ...env,
        DRILLSTER_KEY_FILE: JSON.stringify([deleted.keyFile, current.keyFile]),
      }),
    );
    server.mock.resetStats();
    await expectTokenFromCurrentKey(
      await run(['token'], {
        ...env,
        DRILLSTER_KEY_FILE: `\n ${JSON.stringify([deletedPath, current.keyFileJson])}`,
      }),
    );
  });

  it('--key-file wins over DRILLSTER_KEY_FILE, and assertion signs with the first key', async () => {
    const result = await run(['assertion', '--key-file', currentPath], {
      ...env,
      DRILLSTER_KEY_FILE: `${deletedPath}${delimiter}${currentPath}`,
    });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(decodeProtectedHeader(result.stdout.trimEnd()).kid).toBe(current.keyId);
  });

  it.each([
    ['an array that is no JSON', () => `[${deleted.keyFileJson}`],
    ['an empty array', () => '[]'],
  ])('refuses %s without quoting it', async (_, value) => {
    const line = expectFailure(
      await run(['token'], { ...env, DRILLSTER_KEY_FILE: value() }),
      2,
      'ERR_INVALID_CONFIG',
      secrets,
    );
    expect(line).toContain('DRILLSTER_KEY_FILE starts with "[" but is not a non-empty JSON array');
  });

  it('names the entry of the array that is no key file', async () => {
    const line = expectFailure(
      await run(['token'], { ...env, DRILLSTER_KEY_FILE: JSON.stringify([current.keyFile, 42]) }),
      2,
      'ERR_INVALID_CONFIG',
      secrets,
    );
    expect(line).toContain('DRILLSTER_KEY_FILE[1] must be a key file');
  });

  it('refuses keys of two service accounts (ERR_INVALID_OPTIONS, exit 2)', async () => {
    const stranger = await server.mock.createServiceAccount();
    const strangerPath = await dir.file('stranger.json', stranger.keyFileJson);
    const line = expectFailure(
      await run(['token', '--key-file', currentPath, '--key-file', strangerPath], env),
      2,
      'ERR_INVALID_OPTIONS',
      [...secrets, stranger.keyFile.privateKey],
    );
    expect(line).toContain('all keys must be of one service account');
    expect(server.mock.stats.tokenRequests).toBe(0);
  });

  it('--help says how to list several keys', async () => {
    const { stdout } = await run(['token', '--help']);
    expect(stdout).toContain('Repeat it to list several keys');
    expect(stdout).toContain(`separated by "${delimiter}"`);
  });
});
