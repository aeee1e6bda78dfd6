import {
  generateServiceAccountKey,
  type MockClient,
  type MockManagedUser,
  type MockServiceAccount,
} from '@drillster-auth/testing';
import { expectNoLeaks, startMockDrillster } from '@drillster-auth/testing/node';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CORRUPT_KEY_FILE,
  closedPort,
  pemBodyLines,
  type RunResult,
  run,
  startServer,
  tempDir,
} from './helpers.js';

let server: Awaited<ReturnType<typeof startMockDrillster>>;
let account: MockServiceAccount;
let client: MockClient;
let user: MockManagedUser;
let dir: Awaited<ReturnType<typeof tempDir>>;
/** Everything `doctor` needs, from the environment, as for `token`. */
let env: Record<string, string>;

beforeAll(async () => {
  server = await startMockDrillster();
  ({ account, client, managedUser: user } = await server.provision());
  dir = await tempDir();
  env = {
    DRILLSTER_KEY_FILE: await dir.file('key.json', account.keyFileJson),
    DRILLSTER_CLIENT_ID: client.clientId,
    DRILLSTER_CLIENT_SECRET: client.clientSecret,
    DRILLSTER_ISSUER: server.issuer,
  };
});

afterEach(() => {
  server.mock.clearFaults();
  server.mock.resetStats();
});

afterAll(async () => {
  await server?.close();
  await dir?.remove();
});

const CHECKS = ['key file', 'issuer metadata', 'clock', 'token', 'API', 'subject'];

/** Each table line's mark by check title: ✓, ✗ or - (skipped). */
function marks(stdout: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^([✓✗-]) (key file|issuer metadata|clock|token|API|subject) /.exec(line);
    if (match) found[match[2]!] = match[1]!;
  }
  return found;
}

/** The table's marks: ✓ up to `failed`, ✗ there, - (skipped) after it. */
function expected(failed: string | undefined): Record<string, string> {
  const at = failed === undefined ? CHECKS.length : CHECKS.indexOf(failed);
  return Object.fromEntries(CHECKS.map((title, i) => [title, i < at ? '✓' : i === at ? '✗' : '-']));
}

/** No secret of the run in stdout or stderr, and nothing shaped like a token or assertion. */
function expectNothingSecret(result: RunResult, extra: string[] = []): void {
  const output = result.stdout + result.stderr;
  const secrets = [
    client.clientSecret,
    account.keyFile.privateKey,
    ...pemBodyLines(account.keyFile.privateKey),
    server.mock.stats.lastAssertion,
    ...extra,
  ];
  expectNoLeaks(
    output,
    Object.fromEntries(secrets.map((secret, i) => [`secret #${i}`, secret])),
    'doctor output',
  );
  expect(output).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
}

/** A failed run: the table on stdout, the failed check's cause and fix, the usual stderr line. */
function expectFailedAt(
  result: RunResult,
  title: string,
  exitCode: number,
  code: string,
  cause: RegExp,
): string {
  expect(result.code).toBe(exitCode);
  expect(marks(result.stdout)).toEqual(expected(title));
  const failed = result.stdout.split('\n').find((line) => line.startsWith(`✗ ${title} `))!;
  expect(failed).toContain(`(${code})`);
  expect(result.stdout).toMatch(cause);
  expect(result.stdout).toMatch(/ {10,}what to do: {3}\S/);
  expect(result.stdout).toContain(`${title} failed; exit code ${exitCode}.`);
  expect(result.stderr).toMatch(new RegExp(`^drillster-auth: [^\\n]+ \\(${code}\\)\\n$`));
  expectNothingSecret(result);
  return failed;
}

describe('doctor', () => {
  it('passes every check, with timings, who the tokens are for, and no secret', async () => {
    const result = await run(['doctor', '--subject', user.userId], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(marks(result.stdout)).toEqual(expected(undefined));
    for (const line of result.stdout.split('\n').filter((l) => l.startsWith('✓'))) {
      expect(line).toMatch(/ \d+ ms {2}\S/);
    }
    expect(result.stdout).toContain(`key id ${account.keyId}`);
    expect(result.stdout).toMatch(/JWK thumbprint [\w-]{43}/);
    expect(result.stdout).toContain(`token endpoint ${server.tokenEndpoint}`);
    expect(result.stdout).toContain(`id ${account.serviceAccountId} (the service account itself)`);
    expect(result.stdout).toContain(`id ${user.userId}, ${user.email}`);
    expect(result.stdout).toContain('All 6 checks passed.');
    expect(server.mock.stats).toMatchObject({ tokensIssued: 2, apiRequests: 2, apiRejections: 0 });
    expectNothingSecret(result);
  });

  it('--json: one object with every check, skipped ones included', async () => {
    const result = await run(['doctor', '--json'], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ ok: true, exitCode: 0 });
    expect(
      report.checks.map((c: { check: string; status: string }) => [c.check, c.status]),
    ).toEqual([
      ['key-file', 'ok'],
      ['metadata', 'ok'],
      ['clock', 'ok'],
      ['token', 'ok'],
      ['api', 'ok'],
      ['subject', 'skipped'],
    ]);
    expect(report.checks[0].ms).toEqual(expect.any(Number));
    expectNothingSecret(result);
  });

  it('a bad key file fails the first check (exit 2) and skips the rest', async () => {
    const corrupt = await run(['doctor'], { ...env, DRILLSTER_KEY_FILE: CORRUPT_KEY_FILE });
    expectFailedAt(corrupt, 'key file', 2, 'ERR_KEY_FILE_MALFORMED_KEY', /not a usable Drillster/);
    expect(server.mock.stats).toMatchObject({ metadataRequests: 0, tokenRequests: 0 });
    const missing = await run(['doctor'], { ...env, DRILLSTER_KEY_FILE: `${dir.path}/none.json` });
    expectFailedAt(missing, 'key file', 2, 'ERR_KEY_FILE_READ', /cannot be read/);
  });

  it('a key under 2048 bits fails the key file check (exit 2), naming its thumbprint', async () => {
    const weak = await generateServiceAccountKey({ modulusLength: 1024 });
    const keyFile = await dir.file('weak.json', weak.keyFileJson);
    const result = await run(['doctor'], { ...env, DRILLSTER_KEY_FILE: keyFile });
    const thumbprint = await calculateJwkThumbprint(await exportJWK(weak.publicKey), 'sha256');
    expectFailedAt(
      result,
      'key file',
      2,
      'ERR_KEY_FILE_WEAK_KEY',
      new RegExp(
        `likely cause: the key is shorter than 2048 bits \\(JWK thumbprint ${thumbprint}\\)`,
      ),
    );
    expect(result.stdout).toContain("delete its public key in Drillster's console");
    expect(server.mock.stats).toMatchObject({ metadataRequests: 0, tokenRequests: 0 });
    expectNothingSecret(result, [
      weak.keyFile.privateKey,
      ...pemBodyLines(weak.keyFile.privateKey),
    ]);
  });

  it('metadata down (exit 4) or naming another issuer (exit 2)', async () => {
    server.mock.injectFault({ endpoint: 'metadata', status: 503 });
    expectFailedAt(
      await run(['doctor'], env),
      'issuer metadata',
      4,
      'ERR_DISCOVERY',
      /likely cause: the authorization server is unavailable \(HTTP 503\)/,
    );
    server.mock.injectFault({
      endpoint: 'metadata',
      body: JSON.stringify({
        issuer: 'https://elsewhere.example',
        token_endpoint: server.tokenEndpoint,
      }),
    });
    expectFailedAt(
      await run(['doctor'], env),
      'issuer metadata',
      2,
      'ERR_ISSUER_MISMATCH',
      /describes another issuer/,
    );
  });

  it('an issuer nothing listens on (exit 4) or metadata without a token_endpoint (exit 2)', async () => {
    const issuer = `http://127.0.0.1:${await closedPort()}`;
    const line = expectFailedAt(
      await run(['doctor'], { ...env, DRILLSTER_ISSUER: issuer }),
      'issuer metadata',
      4,
      'ERR_NETWORK',
      /likely cause: the issuer cannot be reached/,
    );
    expect(line).toContain(`${issuer}/.well-known/oauth-authorization-server could not be reached`);

    server.mock.injectFault({
      endpoint: 'metadata',
      body: JSON.stringify({ issuer: server.issuer }),
    });
    const noEndpoint = expectFailedAt(
      await run(['doctor'], env),
      'issuer metadata',
      2,
      'ERR_DISCOVERY',
      /likely cause: the issuer URL does not lead to Drillster authorization server metadata/,
    );
    expect(noEndpoint).toContain('names no valid token_endpoint');
    expect(server.mock.stats.tokenRequests).toBe(0);
  });

  it('a clock more than 30 s off fails (exit 2); a smaller skew passes and is named', async () => {
    server.mock.injectFault({ dateOffsetMs: 5 * 60_000 });
    const line = expectFailedAt(
      await run(['doctor'], env),
      'clock',
      2,
      'ERR_CLOCK_SKEW',
      /synchronise the clock with NTP/,
    );
    expect(line).toMatch(/(299|300|301) s behind the server's clock/);
    expect(server.mock.stats.tokenRequests).toBe(0);

    server.mock.clearFaults();
    server.mock.injectFault({ dateOffsetMs: -10_000 });
    const result = await run(['doctor'], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(
      /✓ clock .* (9|10|11) s ahead of the server's clock .*within 30 s/,
    );
  });

  it('invalid_client: the client id and secret (exit 3)', async () => {
    const wrong = 'not-the-secret-but-long-enough';
    const result = await run(['doctor'], { ...env, DRILLSTER_CLIENT_SECRET: wrong });
    const line = expectFailedAt(
      result,
      'token',
      3,
      'ERR_TOKEN_ENDPOINT',
      /client id and client secret/,
    );
    expect(line).toContain('invalid_client');
    expectNothingSecret(result, [wrong]);
  });

  it('a token endpoint answering 503 or dropping connections, after the retries (exit 4)', async () => {
    for (const outage of [{ status: 503 }, { dropConnection: true }]) {
      server.mock.clearFaults();
      server.mock.resetStats();
      server.mock.injectFault({ ...outage, durationMs: 60_000 });
      const line = expectFailedAt(
        await run(['doctor'], env),
        'token',
        4,
        'status' in outage ? 'ERR_TOKEN_ENDPOINT' : 'ERR_NETWORK',
        /likely cause: the token endpoint is unreachable or unavailable for now/,
      );
      if ('status' in outage) expect(line).toContain('HTTP 503');
      // The token step retries as `token` does: three attempts, none of them issued.
      expect(server.mock.stats).toMatchObject({ tokenRequests: 3, tokensIssued: 0 });
    }
  });

  it('invalid_grant after the key was deleted: names the key and its thumbprint (exit 3)', async () => {
    const other = await server.mock.createServiceAccount();
    server.mock.revokeKey(other.keyId);
    const keyFile = await dir.file('revoked.json', other.keyFileJson);
    const result = await run(['doctor'], { ...env, DRILLSTER_KEY_FILE: keyFile });
    const line = expectFailedAt(result, 'token', 3, 'ERR_TOKEN_ENDPOINT', /key was deleted/);
    expect(line).toContain('invalid_grant');
    expect(result.stdout).toContain(
      `key ${other.keyId} of service account ${other.serviceAccountId}`,
    );
    expect(result.stdout).toMatch(/look for this key \(JWK thumbprint [\w-]{43}\)/);
    expectNothingSecret(result, [
      other.keyFile.privateKey,
      ...pemBodyLines(other.keyFile.privateKey),
    ]);
  });

  it('a key list: checked key by key; a refused first key is named while the second signs', async () => {
    const rotating = await server.mock.createServiceAccount();
    const standby = await server.mock.addKey(rotating.serviceAccountId);
    const first = await dir.file('rotating-first.json', rotating.keyFileJson);
    const second = await dir.file('rotating-second.json', standby.keyFileJson);
    const keyEnv = { ...env, DRILLSTER_KEY_FILE: '' };
    const listed = ['doctor', '--key-file', first, '--key-file', second];
    const privateKeys = [rotating, standby].flatMap(({ keyFile }) => [
      keyFile.privateKey,
      ...pemBodyLines(keyFile.privateKey),
    ]);

    server.mock.revokeKey(rotating.keyId);
    const result = await run(listed, keyEnv);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain(`✓ key file`);
    expect(result.stdout).toMatch(
      new RegExp(
        `2 keys of service account ${rotating.serviceAccountId}, in order: 1\\. RSA 2048 bits, key id ${rotating.keyId}, JWK thumbprint [\\w-]{43}; 2\\. RSA 2048 bits, key id ${standby.keyId}`,
      ),
    );
    expect(result.stdout).toMatch(
      new RegExp(
        `✓ token .*refused: key ${rotating.keyId} \\(invalid_grant\\), so a later key signed`,
      ),
    );
    expectNothingSecret(result, privateKeys);

    server.mock.revokeKey(standby.keyId);
    const none = await run(listed, keyEnv);
    expectFailedAt(none, 'token', 3, 'ERR_TOKEN_ENDPOINT', /key was deleted/);
    expect(none.stdout).toContain(
      `every key, ${rotating.keyId}, ${standby.keyId} of service account ${rotating.serviceAccountId}`,
    );
    expect(none.stdout).toMatch(/look for these keys \(JWK thumbprint [\w-]{43}, [\w-]{43}\)/);

    const mixed = await run(
      ['doctor', '--key-file', env.DRILLSTER_KEY_FILE!, '--key-file', second],
      keyEnv,
    );
    expectFailedAt(
      mixed,
      'key file',
      2,
      'ERR_INVALID_OPTIONS',
      /keys of different service accounts/,
    );
  });

  it('the API refusing the token (exit 3) or down (exit 4)', async () => {
    server.mock.injectFault({ endpoint: 'api', status: 401 });
    expectFailedAt(await run(['doctor'], env), 'API', 3, 'ERR_API_REFUSED', /API refused a token/);
    server.mock.injectFault({ endpoint: 'api', status: 503 });
    expectFailedAt(
      await run(['doctor'], env),
      'API',
      4,
      'ERR_API_UNAVAILABLE',
      /API is unreachable or unavailable/,
    );
  });

  it('the API answering JSON that is not a user (exit 5)', async () => {
    for (const body of ['{"users":[]}', '[{"id":"u1"}]', '{"id":42}']) {
      server.mock.injectFault({ endpoint: 'api', body });
      const line = expectFailedAt(
        await run(['doctor'], env),
        'API',
        5,
        'ERR_API_BAD_RESPONSE',
        /likely cause: the API answered with something other than a user/,
      );
      expect(line).toContain('did not answer a user with an id');
    }
  });

  it('an unknown --subject fails the last check (exit 3)', async () => {
    const result = await run(['doctor', '--subject', 'nobody@users.example.com'], env);
    const line = expectFailedAt(
      result,
      'subject',
      3,
      'ERR_TOKEN_ENDPOINT',
      /does not know "nobody@/,
    );
    expect(line).toContain('invalid_grant');
  });

  it('a hostile server: its control characters are escaped, the secrets it echoes scrubbed', async () => {
    const seen: URLSearchParams[] = [];
    const hostile = await startServer(async (request, body) => {
      if (request.url === '/.well-known/oauth-authorization-server') {
        const origin = `http://${request.headers.host}`;
        return {
          status: 200,
          body: JSON.stringify({ issuer: origin, token_endpoint: `${origin}/token` }),
        };
      }
      const form = new URLSearchParams(body);
      seen.push(form);
      // Echoes what it got, raw and base64, between terminal controls.
      const echo = `${form.get('client_secret')} ${Buffer.from(form.get('assertion') ?? '').toString('base64')}`;
      return {
        status: 400,
        body: JSON.stringify({
          error: 'invalid_grant',
          error_description: `\u001b[2J\u202e ${echo} \u0007`,
        }),
      };
    });
    try {
      for (const format of [[], ['--json']]) {
        const result = await run(['doctor', ...format], { ...env, DRILLSTER_ISSUER: hostile.url });
        expect(result.code).toBe(3);
        const output = result.stdout + result.stderr;
        // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
        expect(output).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
        // The table shows the escapes; the JSON keeps the text, its controls JSON-escaped.
        if (format.length === 0) expect(result.stdout).toContain('\\x1b[2J\\u202e');
        else expect(JSON.parse(result.stdout).checks[3].detail).toContain('\u001b[2J\u202e');
        expect(result.stdout).toContain('[redacted]');
        expectNothingSecret(result, [seen.at(-1)?.get('assertion') ?? 'no assertion was sent']);
      }
      expect(seen).toHaveLength(2);
    } finally {
      await hostile.close();
    }
  });
});
