import type { MockClient, MockServiceAccount } from '@drillster-auth/testing';
import { expectNoLeaks, startMockDrillster } from '@drillster-auth/testing/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectFailure, type RunResult, run, startServer, tempDir } from './helpers.js';

/** Characters a terminal acts on; a line ending in `\n` is fine, nothing else of this kind is. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
const TERMINAL_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/;
/** Each failing run goes once plain and once with DEBUG, whose stack traces print causes too. */
const MODES: Record<string, string>[] = [{}, { DEBUG: 'drillster-auth' }];
const HOSTILE = 'red \u001b[31mALERT\u001b[0m bell \u0007 back\rover csi \u009b2J bidi \u202eevil';

let server: Awaited<ReturnType<typeof startMockDrillster>>;
let account: MockServiceAccount;
let client: MockClient;
let dir: Awaited<ReturnType<typeof tempDir>>;
let keyFile: string;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startMockDrillster();
  ({ account, client } = await server.provision());
  dir = await tempDir();
  keyFile = await dir.file('key.json', account.keyFileJson);
  env = {
    DRILLSTER_KEY_FILE: keyFile,
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

/** Everything this run must never print, by name, for the leak scan. */
function secretsOf(extra: Record<string, string | undefined> = {}) {
  return {
    privateKey: account.keyFile.privateKey,
    clientSecret: client.clientSecret,
    assertion: server.mock.stats.lastAssertion,
    ...extra,
  };
}

/** The output a user sees, scanned for every secret in every encoding. */
function expectClean(result: RunResult, secrets: Record<string, string | undefined>): void {
  expectNoLeaks(result.stderr, secrets, 'stderr');
  expectNoLeaks(result.stdout, secrets, 'stdout');
}

async function expectToken(result: RunResult): Promise<void> {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(await server.mock.verifyAccessToken(result.stdout.trim())).toBeDefined();
}

describe('DRILLSTER_KEY_FILE holds the key file: its path or its JSON text', () => {
  it("takes the key file's JSON text, as the edge and Redis examples store it", async () => {
    await expectToken(await run(['token'], { ...env, DRILLSTER_KEY_FILE: account.keyFileJson }));
    // Indented and behind a byte order mark, as an editor or a secret store may leave it.
    await expectToken(
      await run(['token'], { ...env, DRILLSTER_KEY_FILE: `\n  ${account.keyFileJson}` }),
    );
    const result = await run(['assertion'], {
      ...env,
      DRILLSTER_KEY_FILE: `\uFEFF${account.keyFileJson}`,
    });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('never prints key material put where the path belongs, even with DEBUG', async () => {
    const pem = account.keyFile.privateKey;
    const broken = [
      // Truncated JSON: read as the key file's text, refused by the parser without quoting it.
      { value: account.keyFileJson.slice(0, -40), code: 'ERR_KEY_FILE_INVALID_JSON' },
      // Not JSON: taken for a path, which cannot be read, and must not be quoted.
      { value: pem, code: 'ERR_KEY_FILE_READ' },
      { value: Buffer.from(account.keyFileJson).toString('base64'), code: 'ERR_KEY_FILE_READ' },
      { value: pem.split('\n')[1]!, code: 'ERR_KEY_FILE_READ' },
    ];
    for (const { value, code } of broken) {
      for (const debug of MODES) {
        const result = await run(['token'], { ...env, ...debug, DRILLSTER_KEY_FILE: value });
        expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
        expect(result.stderr).toContain(`(${code})`);
        expectClean(result, secretsOf({ value }));
      }
    }
    expect(server.mock.stats.tokenRequests).toBe(0);
  });

  it('names a missing key file by its path when that is plainly a path', async () => {
    const missing = `${dir.path}/missing.json`;
    const line = expectFailure(
      await run(['token'], { ...env, DRILLSTER_KEY_FILE: missing }),
      2,
      'ERR_KEY_FILE_READ',
      [],
    );
    expect(line).toContain(missing);
    expect(line).toContain('ENOENT');
  });

  it('--key-file takes the JSON text too, with a warning that it shows in ps', async () => {
    const result = await run(['token', '--key-file', account.keyFileJson], env);
    expect(result.code).toBe(0);
    expect(await server.mock.verifyAccessToken(result.stdout.trim())).toBeDefined();
    expect(result.stderr).toMatch(
      /^drillster-auth: warning: [^\n]*`ps`[^\n]*DRILLSTER_KEY_FILE[^\n]*\n$/,
    );
    expectNoLeaks(result.stderr, secretsOf(), 'stderr');
  });

  it('inspect-key reads DRILLSTER_KEY_FILE, path or JSON text, when no FILE is given', async () => {
    for (const value of [keyFile, account.keyFileJson]) {
      const result = await run(['inspect-key'], { DRILLSTER_KEY_FILE: value });
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(result.stdout).toContain(`key id:             ${account.keyId}`);
      expectClean(result, { privateKey: account.keyFile.privateKey });
    }
  });
});

describe('output hygiene', () => {
  it("escapes control characters in the server's error_description", async () => {
    for (const debug of MODES) {
      server.mock.injectFault({
        status: 400,
        body: JSON.stringify({ error: 'invalid_request', error_description: HOSTILE }),
      });
      const result = await run(['token'], { ...env, ...debug });
      expect(result.code).toBe(3);
      expect(result.stderr.split('\n')[0]).toMatch(/\(ERR_TOKEN_ENDPOINT\)$/);
      expect(result.stderr).not.toMatch(TERMINAL_CONTROL);
      expect(result.stderr).toContain('\\x1b[31mALERT');
      expect(result.stderr).toContain('\\x07');
      expect(result.stderr).toContain('\\x0d');
      expect(result.stderr).toContain('\\x9b');
      expect(result.stderr).toContain('\\u202e');
    }
  });

  it('inspect-key escapes control characters from the key file', async () => {
    // The core refuses white space in these fields (CR and LF included), not the rest.
    const hostile = await dir.file(
      'hostile.json',
      JSON.stringify({
        ...account.keyFile,
        keyId: 'red\u001b[31mALERT\u001b[0m\u0007\u009b2J\u202eevil',
        serviceAccountId: 'sa\u001b]0;title\u0007',
      }),
    );
    const result = await run(['inspect-key', hostile]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).not.toMatch(TERMINAL_CONTROL);
    expect(result.stdout).toContain(
      'key id:             red\\x1b[31mALERT\\x1b[0m\\x07\\x9b2J\\u202eevil\n',
    );
    expect(result.stdout).toContain('service account id: sa\\x1b]0;title\\x07\n');
    expectClean(result, { privateKey: account.keyFile.privateKey });
  });

  it('takes a key file that starts with a UTF-8 byte order mark', async () => {
    const withBom = await dir.file('bom.json', `\uFEFF${account.keyFileJson}`);
    await expectToken(await run(['token'], { ...env, DRILLSTER_KEY_FILE: withBom }));
    const inspected = await run(['inspect-key', withBom]);
    expect({ code: inspected.code, stderr: inspected.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('--client-secret warns on stderr that ps shows it, and still works', async () => {
    const { DRILLSTER_CLIENT_SECRET: _, ...noSecret } = env;
    const result = await run(['token', '--client-secret', client.clientSecret], noSecret);
    expect(result.code).toBe(0);
    expect(await server.mock.verifyAccessToken(result.stdout.trim())).toBeDefined();
    expect(result.stderr).toMatch(
      /^drillster-auth: warning: --client-secret [^\n]*`ps`[^\n]*--client-secret-file[^\n]*DRILLSTER_CLIENT_SECRET[^\n]*\n$/,
    );
    expectNoLeaks(result.stderr, secretsOf(), 'stderr');
  });
});

describe('a hostile token endpoint gets nothing secret onto the terminal', () => {
  /** Every spelling of `value` a server might echo, each already escaped for a JSON string. */
  function echoes(value: string): string[] {
    const base64 = Buffer.from(value).toString('base64');
    return [
      value,
      value.replaceAll('/', '\\/'),
      value.replace(/[^A-Za-z0-9]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
      encodeURIComponent(value),
      base64,
      Buffer.from(value).toString('base64url'),
    ];
  }

  it('scrubs the client secret and the assertion it echoes, in every encoding', async () => {
    const seen: URLSearchParams[] = [];
    let spelling = 0;
    const hostile = await startServer(async (request, body) => {
      const form = new URLSearchParams(body);
      seen.push(form);
      const secret = echoes(form.get('client_secret') ?? '')[spelling % 6]!;
      const assertion = echoes(form.get('assertion') ?? '')[spelling % 6]!;
      spelling++;
      return {
        status: request.url === '/token' ? 400 : 404,
        // Built by hand: the escapes are the server's, not JSON.stringify's.
        body: `{"error":"invalid_client","error_description":"got ${secret} for ${assertion}"}`,
      };
    });
    try {
      // A secret with characters that every encoding spells differently.
      const secret = 'odd/secret+with=signs&more~0123?';
      for (let round = 0; round < 6; round++) {
        for (const debug of MODES) {
          const result = await run(['token', '--token-endpoint', `${hostile.url}/token`], {
            ...env,
            ...debug,
            DRILLSTER_CLIENT_SECRET: secret,
          });
          expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 3, stdout: '' });
          expect(result.stderr).toContain('(ERR_TOKEN_ENDPOINT)');
          const form = seen.at(-1)!;
          expectClean(result, {
            privateKey: account.keyFile.privateKey,
            clientSecret: form.get('client_secret') ?? undefined,
            assertion: form.get('assertion') ?? undefined,
          });
        }
      }
      expect(seen).toHaveLength(12);
    } finally {
      await hostile.close();
    }
  });
});
