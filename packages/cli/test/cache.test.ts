import type { MockClient } from '@drillster-auth/testing';
import { expectNoLeaks, startMockDrillster } from '@drillster-auth/testing/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORRUPT_KEY_FILE, closedPort, expectFailure, run, tempDir } from './helpers.js';

/** The Redis the repository's tests use. */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let server: Awaited<ReturnType<typeof startMockDrillster>>;
let client: MockClient;
let privateKey: string;
let dir: Awaited<ReturnType<typeof tempDir>>;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startMockDrillster();
  // Short-lived tokens, so the entries these tests leave in Redis expire soon.
  server.mock.setTokenLifetime(120);
  const account = await server.mock.createServiceAccount();
  privateKey = account.keyFile.privateKey;
  client = server.mock.registerClient();
  dir = await tempDir();
  env = {
    DRILLSTER_KEY_FILE: await dir.file('key.json', account.keyFileJson),
    DRILLSTER_CLIENT_ID: client.clientId,
    DRILLSTER_CLIENT_SECRET: client.clientSecret,
    DRILLSTER_ISSUER: server.issuer,
  };
});

afterAll(async () => {
  await server?.close();
  await dir?.remove();
});

describe('token --cache', () => {
  it('repeated runs share one token through Redis, by flag or by DRILLSTER_CACHE', async () => {
    server.mock.resetStats();
    const first = await run(['token', '--cache', REDIS_URL], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const second = await run(['token', '--cache', REDIS_URL], env);
    const third = await run(['token'], { ...env, DRILLSTER_CACHE: REDIS_URL });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(server.mock.stats.tokensIssued).toBe(1);

    const uncached = await run(['token'], env);
    expect(uncached.stdout).not.toBe(first.stdout);
    expect(server.mock.stats.tokensIssued).toBe(2);
  });

  it('an unreachable cache costs a warning, not the token, and hides its password', async () => {
    server.mock.resetStats();
    // Characters that URL encoding changes, so the encoded form is checked for too.
    const password = 'cache/pass+word=1';
    const url = `redis://:${encodeURIComponent(password)}@127.0.0.1:${await closedPort()}/0`;
    const result = await run(['token', '--cache', url], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\S+\n$/);
    expect(result.stderr).toMatch(
      /^drillster-auth: warning: the token cache at redis:\/\/127\.0\.0\.1:\d+\/0 is unavailable \(ECONNREFUSED\); continuing without it\n$/,
    );
    expect(server.mock.stats.tokensIssued).toBe(1);
    expectNoLeaks(result.stderr, {
      password,
      clientSecret: client.clientSecret,
      privateKey,
      assertion: server.mock.stats.lastAssertion,
    });
  });

  it('closes the Redis connection when the key file is unusable', async () => {
    const result = await run(['token', '--cache', REDIS_URL, '--key-file', CORRUPT_KEY_FILE], env);
    expectFailure(result, 2, 'ERR_KEY_FILE_MALFORMED_KEY', [client.clientSecret]);
  });

  it('exits 2 for a cache URL that is not Redis', async () => {
    server.mock.resetStats();
    const result = await run(['token', '--cache', 'http://127.0.0.1:6379'], env);
    expectFailure(result, 2, 'ERR_INVALID_CONFIG', [client.clientSecret]);
    expect(server.mock.stats.tokenRequests).toBe(0);
  });
});
