import type { MockClient, MockManagedUser, MockServiceAccount } from '@drillster-auth/testing';
import { expectNoLeaks, startMockDrillster } from '@drillster-auth/testing/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CORRUPT_KEY_FILE,
  closedPort,
  expectFailure,
  pemBodyLines,
  type RunResult,
  run,
  startServer,
  tempDir,
  withoutPsWarning,
} from './helpers.js';

let server: Awaited<ReturnType<typeof startMockDrillster>>;
let account: MockServiceAccount;
let client: MockClient;
let user: MockManagedUser;
let dir: Awaited<ReturnType<typeof tempDir>>;
let keyFile: string;
let secretFile: string;
/** Everything `token` needs, from the environment. */
let env: Record<string, string>;
/** What must never show on stderr, whatever the run. */
let secrets: string[];

beforeAll(async () => {
  server = await startMockDrillster();
  ({ account, client, managedUser: user } = await server.provision());
  dir = await tempDir();
  keyFile = await dir.file('key.json', account.keyFileJson);
  secretFile = await dir.file('client-secret', `${client.clientSecret}\n`);
  env = {
    DRILLSTER_KEY_FILE: keyFile,
    DRILLSTER_CLIENT_ID: client.clientId,
    DRILLSTER_CLIENT_SECRET: client.clientSecret,
    DRILLSTER_ISSUER: server.issuer,
  };
  secrets = [
    client.clientSecret,
    account.keyFile.privateKey,
    ...pemBodyLines(account.keyFile.privateKey),
  ];
});

/** What must never show on stderr after a run: {@link secrets} and the assertion it sent. */
function leakables(): (string | undefined)[] {
  return [...secrets, server.mock.stats.lastAssertion];
}

afterEach(() => {
  server.mock.clearFaults();
  server.mock.resetStats();
});

afterAll(async () => {
  await server?.close();
  await dir?.remove();
});

/** The one line of stdout, checked to be exactly one line. */
function onlyLine(result: RunResult): string {
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(result.stdout).toMatch(/^[^\n]+\n$/);
  return result.stdout.slice(0, -1);
}

async function apiStatus(authorization: string): Promise<number> {
  const response = await fetch(`${server.apiBaseUrl}user`, { headers: { authorization } });
  await response.arrayBuffer();
  return response.status;
}

describe('token', () => {
  it('prints one line, the token alone, and the API accepts it', async () => {
    const token = onlyLine(await run(['token'], env));
    expect(token).not.toMatch(/\s/);
    expect(await apiStatus(`Bearer ${token}`)).toBe(200);
    expect((await server.mock.verifyAccessToken(token))?.subject).toBe(account.serviceAccountId);
    expect(server.mock.stats.tokensIssued).toBe(1);
  });

  it('--format json prints the token, its type, expiry and subject on one line', async () => {
    const before = Date.now();
    const body = JSON.parse(onlyLine(await run(['token', '--format', 'json'], env)));
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expires_at',
      'subject',
      'token_type',
    ]);
    expect(body.token_type).toBe('Bearer');
    expect(body.subject).toBe(account.serviceAccountId);
    expect(new Date(body.expires_at).toISOString()).toBe(body.expires_at);
    expect(Date.parse(body.expires_at)).toBeGreaterThan(before + 60_000);
    expect(await apiStatus(`Bearer ${body.access_token}`)).toBe(200);
  });

  it('--format header prints the Authorization header value', async () => {
    const header = onlyLine(await run(['token', '--format', 'header'], env));
    expect(header).toMatch(/^Bearer \S+$/);
    expect(await apiStatus(header)).toBe(200);
  });

  it('--subject gets a token for a managed user', async () => {
    const token = onlyLine(await run(['token', '--subject', user.userId], env));
    expect((await server.mock.verifyAccessToken(token))?.subject).toBe(user.userId);
    expect(server.mock.stats.tokenRequestsBySubject[user.userId]).toBe(1);
    expect(await apiStatus(`Bearer ${token}`)).toBe(200);
  });

  it('takes everything from flags, and flags win over the environment', async () => {
    const wrongEnv = {
      DRILLSTER_KEY_FILE: CORRUPT_KEY_FILE,
      DRILLSTER_CLIENT_ID: 'not-the-client',
      DRILLSTER_CLIENT_SECRET: 'not-the-secret',
      DRILLSTER_ISSUER: `http://127.0.0.1:${await closedPort()}`,
    };
    const token = onlyLine(
      withoutPsWarning(
        await run(
          [
            'token',
            '--key-file',
            keyFile,
            '--client-id',
            client.clientId,
            '--client-secret',
            client.clientSecret,
            '--issuer',
            server.issuer,
          ],
          wrongEnv,
        ),
        '--client-secret',
      ),
    );
    expect(await apiStatus(`Bearer ${token}`)).toBe(200);
  });

  it('takes a flag value that starts with a dash', async () => {
    const dashed = server.mock.registerClient({ clientSecret: '-starts-with-a-dash-0123456789' });
    const token = onlyLine(
      withoutPsWarning(
        await run(
          ['token', '--client-id', dashed.clientId, '--client-secret', dashed.clientSecret],
          env,
        ),
        '--client-secret',
      ),
    );
    expect(await apiStatus(`Bearer ${token}`)).toBe(200);
  });

  it('a wrong secret flag beats the right one in the environment', async () => {
    const result = withoutPsWarning(
      await run(['token', '--client-secret', 'wrong-secret-value'], env),
      '--client-secret',
    );
    const line = expectFailure(result, 3, 'ERR_TOKEN_ENDPOINT', [
      ...leakables(),
      'wrong-secret-value',
    ]);
    expect(line).toContain('invalid_client');
    expect(server.mock.stats.rejections.invalid_client).toBe(1);
  });

  it('--token-endpoint skips discovery and overrides the environment issuer', async () => {
    const token = onlyLine(
      await run(['token', '--token-endpoint', server.tokenEndpoint], {
        ...env,
        DRILLSTER_ISSUER: `http://127.0.0.1:${await closedPort()}`,
      }),
    );
    expect(await apiStatus(`Bearer ${token}`)).toBe(200);
  });

  it('reads the client secret from --client-secret-file or DRILLSTER_CLIENT_SECRET_FILE', async () => {
    const { DRILLSTER_CLIENT_SECRET: _, ...noSecret } = env;
    const fromFlag = onlyLine(await run(['token', '--client-secret-file', secretFile], noSecret));
    expect(await apiStatus(`Bearer ${fromFlag}`)).toBe(200);
    const fromEnv = onlyLine(
      await run(['token'], { ...noSecret, DRILLSTER_CLIENT_SECRET_FILE: secretFile }),
    );
    expect(await apiStatus(`Bearer ${fromEnv}`)).toBe(200);
    expect(server.mock.stats.tokensIssued).toBe(2);
  });

  it('exits 2 naming what is missing when there is no configuration', async () => {
    const line = expectFailure(await run(['token']), 2, 'ERR_MISSING_CONFIG', leakables());
    expect(line).toContain('DRILLSTER_KEY_FILE');
    expect(line).toContain('DRILLSTER_CLIENT_ID');
    expect(line).toContain('--client-secret-file');
  });

  it('exits 2 for the corrupt key from the documentation', async () => {
    const result = await run(['token', '--key-file', CORRUPT_KEY_FILE], env);
    const { readFile } = await import('node:fs/promises');
    const corrupt = JSON.parse(await readFile(CORRUPT_KEY_FILE, 'utf8')).privateKey;
    expectFailure(result, 2, 'ERR_KEY_FILE_MALFORMED_KEY', [
      ...leakables(),
      ...pemBodyLines(corrupt),
    ]);
    expect(server.mock.stats.tokenRequests).toBe(0);
  });

  it('exits 2 when the key file cannot be read', async () => {
    const result = await run(['token', '--key-file', `${dir.path}/missing.json`], env);
    expect(expectFailure(result, 2, 'ERR_KEY_FILE_READ', leakables())).toContain('ENOENT');
  });

  it('exits 3 with invalid_client for a wrong secret, and never shows a secret', async () => {
    const result = await run(['token'], { ...env, DRILLSTER_CLIENT_SECRET: 'wrong-secret-value' });
    const line = expectFailure(result, 3, 'ERR_TOKEN_ENDPOINT', [
      ...leakables(),
      'wrong-secret-value',
    ]);
    expect(line).toContain('invalid_client');
    expect(server.mock.stats.rejections.invalid_client).toBe(1);
  });

  it('exits 3 with invalid_grant for a subject the service account does not manage', async () => {
    const result = await run(['token', '--subject', 'nobody-we-know'], env);
    expect(expectFailure(result, 3, 'ERR_TOKEN_ENDPOINT', leakables())).toContain('invalid_grant');
  });

  it('scrubs a secret that the server echoes into its error description', async () => {
    server.mock.injectFault({
      status: 400,
      body: JSON.stringify({
        error: 'invalid_request',
        error_description: `bad client_secret ${client.clientSecret}`,
      }),
    });
    const line = expectFailure(await run(['token'], env), 3, 'ERR_TOKEN_ENDPOINT', leakables());
    expect(line).toContain('invalid_request');
    expect(line).toContain('[redacted]');
  });

  it('exits 4 when the token endpoint is unreachable', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}/daas/oauth/token`;
    const result = await run(['token', '--token-endpoint', endpoint], env);
    expectFailure(result, 4, 'ERR_NETWORK', leakables());
  });

  it('exits 4 when discovery cannot reach the issuer', async () => {
    const issuer = `http://127.0.0.1:${await closedPort()}`;
    expectFailure(
      await run(['token'], { ...env, DRILLSTER_ISSUER: issuer }),
      4,
      'ERR_NETWORK',
      leakables(),
    );
  });

  it('exits 4 when the token endpoint does not answer within --timeout', async () => {
    server.mock.injectFault({ delayMs: 1_000, count: 5 });
    const result = await run(['token', '--timeout', '100'], env);
    expectFailure(result, 4, 'ERR_TIMEOUT', leakables());
  });

  it('with DEBUG=drillster-auth adds a stack trace, still without secrets', async () => {
    const result = await run(['token'], {
      ...env,
      DRILLSTER_CLIENT_SECRET: 'wrong-secret-value',
      DEBUG: 'drillster-auth',
    });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toMatch(/invalid_client.*\(ERR_TOKEN_ENDPOINT\)$/);
    expect(result.stderr).toMatch(/\n\s+at /);
    expectNoLeaks(
      result.stderr,
      Object.fromEntries([...leakables(), 'wrong-secret-value'].map((s, i) => [`#${i}`, s])),
      'stderr',
    );
  });

  it('exits 2 for usage errors', async () => {
    expectFailure(await run(['token', '--format', 'xml'], env), 2, 'ERR_USAGE', leakables());
    expectFailure(await run(['token', '--no-such-flag'], env), 2, 'ERR_USAGE', leakables());
    expectFailure(await run(['token', '--timeout', 'soon'], env), 2, 'ERR_USAGE', leakables());
    expectFailure(
      await run(['token', '--client-secret', 'x', '--client-secret-file', secretFile], env),
      2,
      'ERR_USAGE',
      leakables(),
    );
  });
});

describe('exit codes by cause', () => {
  it('exits 4, not 3, when the token endpoint is unavailable (503) through every retry', async () => {
    server.mock.injectFault({ status: 503, count: 3, body: '{"error":"temporarily_unavailable"}' });
    const result = await run(['token'], env);
    expectFailure(result, 4, 'ERR_TOKEN_ENDPOINT', leakables());
    expect(server.mock.stats.tokenRequests).toBe(3);
  });

  it('exits 3 for a 4xx that is no OAuth error, such as a proxy page', async () => {
    server.mock.injectFault({ status: 403, body: '<html>Forbidden</html>' });
    expectFailure(await run(['token'], env), 3, 'ERR_TOKEN_ENDPOINT', leakables());
  });

  it('exits 5 when the token endpoint answers 2xx with something unusable', async () => {
    server.mock.injectFault({ status: 200, body: '{"access_token": 42' });
    expectFailure(await run(['token'], env), 5, 'ERR_INVALID_TOKEN_RESPONSE', leakables());
  });

  it('exits 4, not 2, when the metadata answers 503 through every retry', async () => {
    server.mock.injectFault({ endpoint: 'metadata', status: 503, count: 10 });
    expectFailure(await run(['token'], env), 4, 'ERR_DISCOVERY', leakables());
    expect(server.mock.stats.tokenRequests).toBe(0);
  });

  it('exits 5 for an oversized token or metadata response', async () => {
    server.mock.injectFault({ status: 200, body: '{"access_token":"', bodyBytes: 4_000_000 });
    expectFailure(await run(['token'], env), 5, 'ERR_RESPONSE_TOO_LARGE', leakables());
    server.mock.injectFault({ endpoint: 'metadata', status: 200, body: '{', bodyBytes: 4_000_000 });
    expectFailure(await run(['token'], env), 5, 'ERR_RESPONSE_TOO_LARGE', leakables());
  });

  it('prints no token with characters that could inject a header, and does not quote it', async () => {
    const injected = 'abc\r\nX-Injected: yes';
    server.mock.injectFault({
      status: 200,
      body: JSON.stringify({ access_token: injected, token_type: 'bearer', expires_in: 3600 }),
    });
    const result = await run(['token', '--format', 'header'], env);
    expectFailure(result, 5, 'ERR_INVALID_TOKEN_RESPONSE', [...leakables(), injected]);
    expect(result.stderr).not.toContain('X-Injected');
  });

  it('clamps an absurd expires_in instead of failing after minting', async () => {
    server.mock.injectFault({
      status: 200,
      body: JSON.stringify({
        access_token: 'a-token-0123456789',
        token_type: 'bearer',
        expires_in: 1e13,
      }),
    });
    const result = await run(['token', '--format', 'json'], env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const { expires_at } = JSON.parse(result.stdout) as { expires_at: string };
    expect(Date.parse(expires_at) - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
  });

  it('exits 2 when the issuer has no metadata: the issuer is wrong', async () => {
    const wrong = await startServer(async () => ({ status: 404, body: '{}' }));
    try {
      expectFailure(
        await run(['token'], { ...env, DRILLSTER_ISSUER: wrong.url }),
        2,
        'ERR_DISCOVERY',
        leakables(),
      );
    } finally {
      await wrong.close();
    }
  });
});

describe('assertion', () => {
  function decode(part: string | undefined): Record<string, unknown> {
    return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
  }

  it('prints a signed assertion for the discovered token endpoint, needing only the key', async () => {
    const result = await run(['assertion', '--subject', user.userId], {
      DRILLSTER_KEY_FILE: keyFile,
      DRILLSTER_ISSUER: server.issuer,
    });
    const parts = onlyLine(result).split('.');
    expect(parts).toHaveLength(3);
    expect(decode(parts[0])).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: account.keyId });
    expect(decode(parts[1])).toMatchObject({
      iss: account.serviceAccountId,
      sub: user.userId,
      aud: server.tokenEndpoint,
    });
  });

  it('produces an assertion the token endpoint accepts', async () => {
    const assertion = onlyLine(await run(['assertion'], env));
    const response = await fetch(server.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion,
        client_id: client.clientId,
        client_secret: client.clientSecret,
      }),
    });
    const body = (await response.json()) as { access_token?: string };
    expect(response.status).toBe(200);
    expect(await apiStatus(`Bearer ${body.access_token}`)).toBe(200);
  });

  it('exits 2 for the corrupt key and 4 for an unreachable issuer', async () => {
    expectFailure(
      await run(['assertion', '--key-file', CORRUPT_KEY_FILE], env),
      2,
      'ERR_KEY_FILE_MALFORMED_KEY',
      leakables(),
    );
    const issuer = `http://127.0.0.1:${await closedPort()}`;
    expectFailure(await run(['assertion', '--issuer', issuer], env), 4, 'ERR_NETWORK', leakables());
  });
});
